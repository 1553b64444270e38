#!/usr/bin/env bash
# The stylecam GPU run (issue 19): one command, the same in every device call; only `carry` changes.
#
#   bash benchmarks/gpu/run_gpu.sh "$OUT"             # device machine: file this call's load, then
#                                                     #   - loads missing: first call probes the machine; the call
#                                                     #     that completes onnxruntime-gpu smoke-tests its CUDA EP
#                                                     #   - all loads in: the whole suite (at most 8 minutes)
#   bash benchmarks/gpu/run_gpu.sh --dry-run OUTDIR   # here, on the CPU: a bare far side (stash, pip --target
#                                                     #   site on PYTHONPATH), each load received as its own
#                                                     #   call (OUTDIR/callN/), then every step at tiny sizes
# options: --partial (run the suite with what has arrived), --no-install (use this environment's
#          packages), --budget S (suite seconds, default 480), --only step,step, --timeout-scale F
#
# OUT receives at most five files: receive.log, results.json, summary.md, suite.log, logs.tar.gz.
# See README.md beside this file.
set -u -o pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
MODE=gpu
PARTIAL=0
OUT=""
SUITE_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) MODE=dry-run ;;
    --partial) PARTIAL=1; SUITE_ARGS+=(--partial) ;;
    --no-install) SUITE_ARGS+=(--no-install) ;;
    --budget | --only | --timeout-scale) SUITE_ARGS+=("$1" "$2"); shift ;;
    -h | --help) sed -n 2,15p "$0"; exit 0 ;;
    -*) echo "run_gpu.sh: unknown option $1" >&2; exit 2 ;;
    *) OUT="$1" ;;
  esac
  shift
done
[ -n "$OUT" ] || { echo "usage: run_gpu.sh [--dry-run] [--partial] OUTDIR" >&2; exit 2; }
mkdir -p "$OUT" && OUT="$(cd "$OUT" && pwd)"
export PYTHONUNBUFFERED=1
if [ "$MODE" = dry-run ]; then
  PY="${PYTHON:-$REPO/.venv/bin/python}"
  [ -x "$PY" ] || PY=python3
  ROOT="${STYLECAM_GPU_ROOT:-/tmp/stylecam-gpu-dry}"
  rm -rf "$ROOT" # a bare far side for every rehearsal
  export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
else
  PY="${PYTHON:-python3}"
  ROOT="${STYLECAM_GPU_ROOT:-/tmp/stylecam-gpu}" # outlives the call while the machine stays warm
fi
STASH="$ROOT/stash"
SITE="$ROOT/site"
WORK="$ROOT/work"
mkdir -p "$ROOT"
LOG="$OUT/receive.log"
: >"$LOG"
say() { echo "$*" | tee -a "$LOG"; }

say "== $(date -u +%FT%TZ) run_gpu.sh $MODE on $(hostname), $("$PY" -V 2>&1) ($PY), repo $REPO"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | tee -a "$LOG"
"$PY" "$HERE/travel.py" tree-size --repo "$REPO" 2>/dev/null | tr -d '\n ' | tee -a "$LOG"
echo | tee -a "$LOG"

suite() { # suite OUTDIR [args...]
  local out="$1"
  shift
  "$PY" "$HERE/gpu_suite.py" run --mode "$MODE" --out "$out" --work "$WORK" --stash "$STASH" --site "$SITE" \
    --python "$PY" "$@"
}

smoke_passed() { # smoke_passed RESULTS_JSON
  "$PY" -c 'import json, sys
steps = json.load(open(sys.argv[1]))["steps"]
sys.exit(0 if any(s["name"] == "smoke" and s["status"] == "ok" for s in steps) else 1)' "$1" 2>/dev/null
}

one_call() { # one_call LOADS_DIR OUTDIR: what every device call does with the load it carried
  local loads="$1" out="$2" rc
  mkdir -p "$out"
  "$PY" "$HERE/travel.py" receive --loads "$loads" --stash "$STASH" >>"$out/receive.log" 2>&1
  rc=$?
  "$PY" "$HERE/travel.py" status --stash "$STASH" 2>&1 | tee -a "$out/receive.log"
  if [ "$rc" = 0 ] || [ "$PARTIAL" = 1 ]; then
    say "== all loads in: the whole suite"
    suite "$out" "${SUITE_ARGS[@]}"
    return $?
  elif [ "$rc" = 3 ]; then
    # An early call: probe the machine once (first call), smoke-test the CUDA EP once (the call
    # that completes onnxruntime-gpu); otherwise only file the load (every second counts).
    if "$PY" "$HERE/travel.py" status --stash "$STASH" --file onnxruntime_gpu- --quiet && [ ! -f "$STASH/smoke.tried" ]; then
      say "== loads missing, onnxruntime-gpu complete: probe, install it, CUDA smoke test"
      touch "$STASH/smoke.tried" "$STASH/env.done"
      suite "$out" --only env,install,imports,smoke --partial --budget 150
      if smoke_passed "$out/results.json"; then
        touch "$STASH/smoke.ok"
        say "   smoke test passed: the CUDA EP works with the carried onnxruntime-gpu"
      else
        say "   smoke test did not pass: see results.json (smoke, imports) before carrying the rest"
      fi
    elif [ ! -f "$STASH/env.done" ]; then
      say "== loads missing: probe the machine (first call)"
      touch "$STASH/env.done"
      suite "$out" --only env --budget 60
    else
      say "== loads missing: load filed, nothing else to do in this call"
    fi
    return 0 # an early call did its part
  fi
  say "== receive failed (exit $rc): see receive.log; probe only"
  suite "$out" --only env --budget 60
  return "$rc"
}

if [ "$MODE" = dry-run ]; then
  # Every load as the device call that would carry it, through the same one_call as on the GPU
  # (early calls write to OUT/callN/, the last one to OUT).
  N=$(ls -d "$HERE"/wheels/load* 2>/dev/null | wc -l)
  [ "$N" -gt 0 ] || { say "no loads in $HERE/wheels: run prepare_wheels.sh first"; exit 2; }
  rc=0
  for i in $(seq 1 "$N"); do
    VIEW="$ROOT/call$i/wheels"
    mkdir -p "$VIEW"
    ln -s "$HERE/wheels/load$i" "$VIEW/load$i"
    DEST="$OUT"
    [ "$i" = "$N" ] || DEST="$OUT/call$i"
    say "-- simulated call $i of $N: carry benchmarks/gpu/wheels/load$i -> $DEST"
    one_call "$VIEW" "$DEST"
    rc=$?
    say "-- simulated call $i: exit $rc"
  done
  say "== dry run exit $rc: $OUT/results.json, $OUT/summary.md"
  exit "$rc"
fi

one_call "$HERE/wheels" "$OUT"
rc=$?
say "== run_gpu.sh exit $rc"
exit "$rc"

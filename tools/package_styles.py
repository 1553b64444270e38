"""Package trained checkpoints as the styles bundled with stylecam (re-runnable; see export/bundle.py).

    python tools/package_styles.py --models /work/models --clip ../shared/data/video/bikes.mp4
    python tools/package_styles.py --models /work/models/lite --clip ...   # lite variants, same tool

For every ``*.pt`` in ``--models`` that finished training (``complete`` in the checkpoint; with
``--require-done`` also a ``<name>.done`` marker beside it): ``stylecam export --fp16`` with the
parity gate into ``stylecam/assets/models/<style>.onnx`` (+ ``.parity.json``), the style loss on
the bundled photos, ``stylecam eval`` (smoothing none vs flow) on the first frames of ``--clip``,
a thumbnail, the catalog entry and the model card. A checkpoint already packaged (same sha256) is
left alone unless ``--force``; its card is rewritten from the catalog. Needs the [train] extra.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / "stylecam" / "assets" / "models"
PHOTOS = ROOT / "stylecam" / "assets" / "photos"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, required=True, help="folder of training checkpoints (*.pt)")
    parser.add_argument("--dest", type=Path, default=DEST, help="the bundle folder (default: %(default)s)")
    parser.add_argument("--clip", type=Path, help="video for the warping error (default: not measured)")
    parser.add_argument("--frames", type=int, default=40, help="frames of --clip to measure (default: 40)")
    parser.add_argument("--max-size", type=int, default=384, help="long side of the clip's frames (default: 384)")
    parser.add_argument("--only", nargs="+", metavar="STYLE", help="package only these styles (checkpoint stems)")
    parser.add_argument("--require-done", action="store_true", help="skip checkpoints without a <name>.done marker")
    parser.add_argument("--force", action="store_true", help="export and measure again even if already packaged")
    parser.add_argument("--trained-on", help="the machine the checkpoints were trained on, for the model cards")
    parser.add_argument("--gpu-trained", action="store_true", help="a full GPU schedule: no 'GPU training owed' note")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and the summary only")
    return parser.parse_args(argv)


def checkpoints(args: argparse.Namespace) -> list[tuple[Path, str | None]]:
    """Checkpoints to package, each with the reason to skip it (None: package it)."""
    from stylecam.errors import UsageError

    if not args.models.is_dir():
        raise UsageError(f"--models {args.models} is not a folder of checkpoints")
    found = []
    for path in sorted(args.models.glob("*.pt")):
        if args.only and path.stem not in args.only:
            continue
        done = path.with_suffix(".done")
        found.append((path, None if not args.require_done or done.is_file() else f"no {done.name} yet"))
    if not found:
        raise UsageError(f"no checkpoints (*.pt) to package in {args.models}")
    return found


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # stylecam's own progress at INFO; the exporter's libraries (onnxscript) are chatty at INFO
    logging.basicConfig(level=logging.WARNING, format="package: %(message)s")
    logging.getLogger("stylecam").setLevel(logging.WARNING if args.quiet else logging.INFO)
    from stylecam.errors import StylecamError
    from stylecam.export.bundle.builder import CPU_NOTE, PackageSettings, package_checkpoint
    from stylecam.export.bundle.measure import ClipSettings
    from stylecam.paths import check_input_file

    try:
        clip = ClipSettings(check_input_file(args.clip, what="clip"), args.frames, args.max_size) if args.clip else None
        todo = checkpoints(args)
    except StylecamError as exc:
        print(f"package_styles: error: {exc}", file=sys.stderr)
        return exc.exit_code
    settings = PackageSettings(
        dest=args.dest,
        photos=tuple(sorted(PHOTOS.glob("*.jpg"))),
        clip=clip,
        trained_on=args.trained_on or CPU_NOTE,
        gpu_owed=not args.gpu_trained,
        force=args.force,
    )
    failed = 0
    for path, skip in todo:
        if skip:
            print(f"{path.name}: skipped: {skip}")
            continue
        try:
            result = package_checkpoint(path, settings)
        except StylecamError as exc:
            failed += 1
            print(f"{path.name}: FAILED: {exc}", file=sys.stderr)
            continue
        print(f"{path.name}: {result.style} ({result.arch}): {result.status}")
    if clip is None:
        print("warping error not measured (no --clip); the model cards say so")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""``stylecam learn PAINTING``: your own style, ready to run, in minutes (see ``docs/learn.md``).

Imports torch only inside :func:`run`, so building the parser stays cheap.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from stylecam.errors import require_torch
from stylecam.train.learn.settings import DEFAULT_QUALITY, QUALITIES, QUALITY_CHOICES, LearnRequest

if TYPE_CHECKING:
    from stylecam.train.learn.job import LearnResult

QUIET_LOGGERS = ("stylecam.train.loop", "stylecam.train.losses", "stylecam.export", "stylecam.runtime")


def _quality(text: str) -> str:
    if text not in QUALITIES:
        raise argparse.ArgumentTypeError(f"choose one of: {', '.join(QUALITY_CHOICES)}")
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    minutes = ", ".join(f"{name} {QUALITIES[name].minutes:g}" for name in QUALITY_CHOICES)
    parser.add_argument("painting", type=Path, help="the picture whose style to learn (JPEG, PNG, ...)")
    parser.add_argument("--name", help="what --model calls it (default: from the file name; bundled names are taken)")
    parser.add_argument(
        "--minutes",
        type=float,
        help=f"wall-time budget of the whole job, exports included (default per --quality: {minutes})",
    )
    parser.add_argument(
        "--quality",
        type=_quality,
        metavar="{" + ",".join(QUALITY_CHOICES) + "}",
        help=f"crop sizes, batch and photo count (default: {DEFAULT_QUALITY}; an unfinished job keeps its own)",
    )
    parser.add_argument(
        "--data",
        metavar="DIR|VIDEO|CAMERA",
        help="training photos: a folder, a video file or a camera index (default: stylecam's own CC0 photos "
        "and demo clip; nothing is downloaded)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="the model folder (default: $STYLECAM_MODELS, else $XDG_DATA_HOME/stylecam/models, "
        "else ~/.local/share/stylecam/models); the style goes into DIR/NAME/",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace a style of that name (finished or not)")
    parser.add_argument("--allow-grey", action="store_true", help="accept a greyscale painting (a grey style)")
    parser.add_argument("--license", help="the painting's licence, recorded in the model and its card")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")


def _summary(result: LearnResult, request: LearnRequest) -> list[str]:
    from stylecam.runtime.inference.models import user_models_dir

    lines = [
        f"learned {result.name!r} in {result.seconds / 60:.1f} min (budget {result.budget_seconds / 60:.0f} min), "
        f"fine-tuned from the bundled style {result.start}: {result.folder}"
    ]
    for arch, path in result.models.items():
        note = " (the default on a CPU)" if arch == "lite" else ""
        lines.append(f"  {arch:<9}  {path.name}  {path.stat().st_size / 2**20:.1f} MB{note}")
    lines.append(f"  card: {result.folder / (result.name + '.md')}   preview: {result.preview}")
    shown = result.name
    if request.out is not None and Path(request.out).expanduser().resolve() != user_models_dir().resolve():
        shown = str(result.models.get("lite") or next(iter(result.models.values())))
        lines.append(f"  (outside the user model folder: set STYLECAM_MODELS={request.out} to call it by name)")
    lines += [
        f"try it:  stylecam --model {shown} --source 0",
        f"         stylecam image photo.jpg --model {shown} -o photo_{result.name}.jpg",
    ]
    if "reference" in result.models and shown == result.name:
        lines.append(
            f"         stylecam run --model {shown} --arch reference --source photo.jpg -o photo_{result.name}.png"
            "   (finer strokes, slower: for stills)"
        )
    return lines


@contextlib.contextmanager
def _quiet_stages(*, verbose: bool) -> Iterator[None]:
    """The progress bar says which stage runs: the stages' own info lines (each training chunk's
    "resuming ...", each export's parity line) only with -v."""
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    levels = [logger.level for logger in loggers]
    if not verbose:
        for logger in loggers:
            logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def run(args: argparse.Namespace) -> int:
    request = LearnRequest(
        painting=args.painting,
        name=args.name,
        minutes=args.minutes,
        quality=args.quality,
        data=args.data,
        out=args.out,
        overwrite=args.overwrite,
        allow_grey=args.allow_grey,
        license=args.license,
        device=args.device,
        progress=not args.quiet,
    )
    require_torch("stylecam learn")

    from tqdm.contrib.logging import logging_redirect_tqdm

    from stylecam.train.learn.job import Stopped, learn

    try:
        with _quiet_stages(verbose=args.verbose or args.debug), logging_redirect_tqdm():
            result = learn(request)  # log lines go above the progress bar, not through it
    except Stopped as stop:
        print(f"stylecam: {stop.message}", file=sys.stderr)
        return 130
    print("\n".join(_summary(result, request)))
    return 0

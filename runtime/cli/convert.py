"""``stylecam convert``: a video file (or stream, or image sequence) to a stylized video, audio kept.

    stylecam convert in.mp4 -o out.mp4 --model starry.onnx      # every frame, timestamps and audio kept
    stylecam convert in.mp4 --model starry.onnx                 # writes in.starry.mp4 beside it
    stylecam convert 'frames/*.png' -o out.mp4 --fps 24 --model starry.onnx

An existing output is refused unless ``--overwrite`` is given; the output is never the input.
"""

from __future__ import annotations

import argparse

from stylecam.errors import UsageError
from stylecam.runtime.cli import options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``stylecam convert`` (argparse only)."""
    parser.add_argument(
        "source", metavar="IN", help="video file, stream URL, or image folder / 'frames/*.png' (quoted)"
    )
    io = parser.add_argument_group("input and output")
    options.add_model(io)
    io.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help=f"video to write ({options.VIDEO_SUFFIXES_HELP}); default: <name>.<style>.mp4 beside the input",
    )
    options.add_overwrite(io)
    options.add_look(parser)
    options.add_provider(parser, threads=True)
    options.add_arch(parser)
    options.add_video_output(parser)
    options.add_capture(parser, camera=False)
    parser.set_defaults(no_window=True)


def run(args: argparse.Namespace) -> int:
    """Run ``stylecam convert``; returns the exit code (errors are raised as StylecamError)."""
    from stylecam.runtime.cli.stream import execute, plan, resolve_models
    from stylecam.runtime.media.sources import classify_source

    kind = classify_source(args.source)
    if kind == "camera":
        raise UsageError(
            f"{args.source} is a camera; record it with: stylecam live --source {args.source} --output rec.mp4"
        )
    if kind == "image":
        raise UsageError(f"{args.source} is an image; stylize it with: stylecam image {args.source} --model ...")
    models = resolve_models(args.model, **options.model_choice(args))
    output_plan, inputs = plan(args, models)
    if output_plan.kind in ("window", "none"):
        raise UsageError(f"{args.source} is a live stream; name the video to write with -o out.mp4")
    if output_plan.kind != "video":
        raise UsageError(
            f"convert writes a video ({options.VIDEO_SUFFIXES_HELP}); for one frame as an image use "
            f"stylecam run --source {args.source} -o {args.output} --frames N"
        )
    return execute(args, models, output_plan, inputs)

"""``stylecam run``: the general command; stylizes a camera, a video file, an image sequence or an image.

    stylecam run --model starry.onnx                                  # webcam 0 in a window (h: hotkeys)
    stylecam run --model starry.onnx --source in.mp4 --output out.mp4 # a file, audio kept
    stylecam run --model starry.onnx --source photo.jpg --output painted.png

``stylecam live``, ``convert`` and ``image`` are the same machinery with the options that make
sense for each (see :mod:`stylecam.runtime.cli.stream`); ``run`` takes whatever it is given.
"""

from __future__ import annotations

import argparse

from stylecam.runtime.cli import options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``stylecam run`` (argparse only: nothing heavy is imported here)."""
    io = parser.add_argument_group("input and output")
    options.add_model(io)
    io.add_argument(
        "--source",
        default="0",
        metavar="SRC",
        help="camera index or /dev/videoN, video file, image file, image folder or 'frames/*.png', or stream URL",
    )
    io.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help=f"video ({options.VIDEO_SUFFIXES_HELP}) or image (.png .jpg ...) to write; default: a window for "
        "cameras, <name>.<style>.<ext> beside a file source",
    )
    options.add_overwrite(io)
    io.add_argument("--no-window", action="store_true", help="no preview window for cameras and streams")
    options.add_look(parser)
    options.add_provider(parser, threads=True)
    options.add_arch(parser)
    options.add_video_output(parser)
    options.add_capture(parser)


def run(args: argparse.Namespace) -> int:
    """Run ``stylecam run``; returns the exit code (errors are raised as StylecamError)."""
    from stylecam.runtime.cli.stream import execute, plan, resolve_models

    models = resolve_models(args.model, arch=args.arch, gpu=False if args.provider == "cpu" else None)
    output_plan, inputs = plan(args, models)
    return execute(args, models, output_plan, inputs)

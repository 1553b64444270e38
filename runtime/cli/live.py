"""``stylecam live``: a camera (or a file, stream or image sequence) stylized in a window, with hotkeys.

    stylecam live --model starry.onnx                      # webcam 0; `stylecam --model M` is the same
    stylecam live --model starry.onnx --model udnie.onnx   # n / p switch styles
    stylecam live --model starry.onnx -o rec.mp4           # record what the window shows
    stylecam live --model starry.onnx --virtual-camera     # and be "stylecam" in a video call

Keys: q/Esc quit, space pause, n/p style, s smoothing mode, +/- smoothing strength, o view
(stylized / split / original), f fullscreen, h help, i info overlay.
"""

from __future__ import annotations

import argparse

from stylecam.runtime.cli import options
from stylecam.runtime.live.hotkeys import STAGE_KEYS, WINDOW_KEYS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``stylecam live`` (argparse only)."""
    io = parser.add_argument_group("input and output")
    options.add_model(io, several=True)
    io.add_argument(
        "--source",
        default="0",
        metavar="SRC",
        help="camera index or /dev/videoN, stream URL, video file, or image folder / 'frames/*.png'",
    )
    io.add_argument("-o", "--output", metavar="PATH", help=f"also record to this video ({options.VIDEO_SUFFIXES_HELP})")
    options.add_overwrite(io)
    io.add_argument("--no-window", action="store_true", help="no window (with no --output: a throughput run)")
    io.add_argument("--no-overlay", action="store_true", help="start with the info overlay hidden (i shows it)")
    io.add_argument(
        "--no-pace",
        dest="pace",
        action="store_false",
        help="play a video file as fast as it can be stylized (benchmarks); by default a watched file "
        "plays at its frame rate",
    )
    io.add_argument(
        "--virtual-camera",
        action="store_true",
        help="also send the painted frames to a virtual camera for video calls (pip install 'stylecam[vcam]'; "
        "v4l2loopback on Linux, OBS on Windows/macOS)",
    )
    options.add_look(parser)
    options.add_provider(parser, threads=True)
    options.add_arch(parser)
    options.add_capture(parser)
    options.add_video_output(parser)
    keys = "; ".join(f"{key}: {action}" for key, action in (*WINDOW_KEYS, *STAGE_KEYS))
    parser.epilog = f"keys in the window: {keys}."


def run(args: argparse.Namespace) -> int:
    """Run ``stylecam live``; returns the exit code (errors are raised as StylecamError)."""
    from stylecam.runtime.cli.stream import execute, plan, resolve_models

    models = resolve_models(args.model, **options.model_choice(args))
    output_plan, inputs = plan(args, models, preview=True)
    return execute(args, models, output_plan, inputs)

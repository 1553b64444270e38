"""``stylecam run``: stylize a webcam live, a video file (audio kept) or an image.

    stylecam --model starry.onnx                                  # webcam 0 in a window (q/Esc quits)
    stylecam --model starry.onnx --source in.mp4 --output out.mp4 # a file, audio kept
    stylecam --model starry.onnx --source photo.jpg --output painted.png

Everything that can be checked is checked before work starts (model, source, output path,
encoder, display, memory); the pipeline itself is :func:`stylecam.runtime.pipeline.run`.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
from pathlib import Path
from typing import Any

from stylecam.errors import UsageError

log = logging.getLogger(__name__)

SMOOTHING = ("none", "ema", "flow")
PROVIDERS = ("auto", "tensorrt", "cuda", "cpu")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``stylecam run`` (argparse only: nothing heavy is imported here)."""
    io = parser.add_argument_group("input and output")
    io.add_argument(
        "--model", required=True, metavar="PATH|NAME", help="style model: an .onnx file or a bundled model name"
    )
    io.add_argument(
        "--source",
        default="0",
        metavar="SRC",
        help="camera index or /dev/videoN, video file, image file, or stream URL",
    )
    io.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="video (.mp4 .mov .mkv .webm .avi) or image (.png .jpg ...) to write; default: a window for cameras, "
        "<name>.<style>.<ext> beside a file source",
    )
    io.add_argument("--no-window", action="store_true", help="no preview window for cameras and streams")
    io.add_argument("--frames", type=int, metavar="N", help="stop after this many frames")
    io.add_argument(
        "--max-size", type=int, metavar="PX", help="shrink input so its longer side is at most this (output too)"
    )
    style = parser.add_argument_group("stylization")
    style.add_argument(
        "--smooth", choices=SMOOTHING, default="flow", help="temporal smoothing of video (images: never)"
    )
    style.add_argument(
        "--smooth-alpha",
        type=float,
        default=None,
        metavar="A",
        help="weight of the new frame in the blend (default: 0.4 for flow, 0.5 for ema, as measured)",
    )
    style.add_argument("--provider", choices=PROVIDERS, default="auto", help="ONNX Runtime execution provider")
    style.add_argument("--require-gpu", action="store_true", help="fail instead of falling back to the CPU")
    style.add_argument(
        "--device-id", type=int, default=0, metavar="N", help="GPU index for the CUDA/TensorRT providers"
    )
    style.add_argument(
        "--max-pixels",
        type=int,
        default=3840 * 2160,
        metavar="N",
        help="bigger frames are stylized at this many pixels and scaled back (output keeps its size)",
    )
    video = parser.add_argument_group("video output")
    video.add_argument(
        "--codec", metavar="NAME", help="video encoder (default: libx264; libvpx-vp9 for .webm); fallback is named"
    )
    video.add_argument("--crf", type=int, default=18, metavar="N", help="quality: lower is better and bigger (0-51)")
    video.add_argument("--no-audio", action="store_true", help="leave the source's audio out")
    camera = parser.add_argument_group("camera")
    camera.add_argument("--width", type=int, metavar="PX", help="requested capture width")
    camera.add_argument("--height", type=int, metavar="PX", help="requested capture height")
    camera.add_argument("--fps", type=float, metavar="FPS", help="requested capture frame rate")


def _check_numbers(args: argparse.Namespace) -> None:
    limits: dict[str, tuple[Any, float, float]] = {
        "--frames": (args.frames, 1, float("inf")),
        "--max-size": (args.max_size, 16, 65536),
        "--crf": (args.crf, 0, 63),
        "--width": (args.width, 16, 16384),
        "--height": (args.height, 16, 16384),
        "--fps": (args.fps, 1, 1000),
    }
    for flag, (value, low, high) in limits.items():
        if value is not None and not low <= value <= high:
            bounds = f"at least {low:g}" if high == float("inf") else f"between {low:g} and {high:g}"
            raise UsageError(f"{flag} must be {bounds}, got {value:g}")


def _camera_options(args: argparse.Namespace) -> dict[str, Any] | None:
    options = {"width": args.width, "height": args.height, "fps": args.fps}
    return options if any(value is not None for value in options.values()) else None


def run(args: argparse.Namespace) -> int:
    """Run ``stylecam run``; returns the exit code (errors are raised as StylecamError)."""
    from stylecam.runtime.models import resolve_model
    from stylecam.runtime.plan import plan_output
    from stylecam.runtime.sources import classify_source

    _check_numbers(args)
    model = resolve_model(args.model)
    kind = classify_source(args.source)
    inputs = [model] + ([Path(args.source)] if kind in ("video", "image") and "://" not in args.source else [])
    plan = plan_output(
        args.source, args.output, style=model.stem, no_window=args.no_window, max_frames=args.frames, inputs=inputs
    )
    with contextlib.ExitStack() as stack:
        from stylecam.runtime.sources import open_source

        source = open_source(args.source, max_size=args.max_size, camera_options=_camera_options(args))
        stack.callback(source.close)
        summary, sink = _stylize(args, model, source, plan, inputs, stack)
    _print_summary(summary, plan, sink, source)
    return 0


def _stylize(args: argparse.Namespace, model: Path, source: Any, plan: Any, inputs: list[Path], stack: Any) -> Any:
    from stylecam.runtime.config import RuntimeConfig, SmoothingConfig
    from stylecam.runtime.pipeline import run as run_pipeline
    from stylecam.runtime.plan import check_buffer_memory, queue_size_for
    from stylecam.runtime.smoothing import TemporalSmoother
    from stylecam.runtime.stylizer import Stylizer

    info = source.info
    queue_size = queue_size_for(info.width, info.height)
    check_buffer_memory(info.width, info.height, queue_size)
    sink = _make_sink(args, plan, source, inputs, model.stem)  # checks the encoder before the model loads
    config = RuntimeConfig(
        provider=args.provider, device_id=args.device_id, require_gpu=args.require_gpu, max_pixels=args.max_pixels
    )
    stylizer = stack.enter_context(Stylizer(model, config))
    smoother = None
    if args.smooth != "none" and info.frame_count != 1:
        smoother = TemporalSmoother(SmoothingConfig(mode=args.smooth, alpha=args.smooth_alpha))
    with sink:
        summary = run_pipeline(
            source,
            stylizer,
            sink,
            smooth=smoother,
            max_frames=plan.max_frames,
            queue_size=queue_size,
            progress=not args.quiet,
        )
        if hasattr(sink, "source_complete"):
            sink.source_complete = summary.stopped_by == "end"  # the audio tail is kept only then
    return summary, sink


def _make_sink(args: argparse.Namespace, plan: Any, source: Any, inputs: list[Path], style: str) -> Any:
    from stylecam.runtime.sinks import ImageSink, NullSink, VideoFileSink, WindowSink

    if plan.kind == "video":
        audio = None if args.no_audio else getattr(source, "audio_source", None)
        return VideoFileSink(
            plan.path,
            source.info,
            codec=args.codec,
            crf=args.crf,
            audio_from=audio,
            inputs=inputs,
            realtime=source.live,
        )
    if plan.kind == "image":
        return ImageSink(plan.path, inputs=inputs)
    if plan.kind == "window":
        return WindowSink(f"stylecam - {style}")
    return NullSink()


def _print_summary(summary: Any, plan: Any, sink: Any, source: Any) -> None:
    where = str(plan.path) if plan.path is not None else ("window" if plan.kind == "window" else "nowhere")
    parts = [f"{summary.frames_out} frame{'s' if summary.frames_out != 1 else ''} in {summary.seconds:.1f} s"]
    if summary.frames_out > 1:
        parts[0] += f" ({summary.fps:.1f} fps)"
    if summary.dropped:
        parts.append(f"{summary.dropped} stale camera frames dropped")
    if summary.corrupt:
        parts.append(f"{summary.corrupt} damaged frames skipped or repeated")
    audio = getattr(sink, "audio", None)
    if audio is not None:
        parts.append(f"audio {audio.description}")
    if summary.stopped_by == "user":
        parts.append("stopped by the user")
    print(f"stylecam: {', '.join(parts)} -> {where}")

"""Option groups shared by ``stylecam run``, ``live``, ``convert`` and ``image``, and the configs built from them.

argparse only, and nothing heavy at import time: building any parser must not load onnxruntime or
torch. Each command picks the groups that make sense for it; the values are checked here (one
line naming the valid range) and turned into the runtime's frozen config dataclasses.
"""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path
from typing import Any

from stylecam.errors import UsageError

log = logging.getLogger(__name__)

SMOOTHING = ("none", "ema", "flow")
DEFAULT_TEXTURE_RADIUS = 6  # --keep-texture without a value (docs/runtime.md: measured on the research clips)
PROVIDERS = ("auto", "tensorrt", "cuda", "cpu")
VIDEO_SUFFIXES_HELP = ".mp4 .mov .mkv .webm .avi"
# libx264/libx265 presets (runtime.media.encoders.X264_PRESETS; repeated: no media import here)
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
_SIZE = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")


def frame_size(text: str) -> tuple[int, int]:
    """argparse type for ``WIDTHxHEIGHT`` (e.g. ``640x360``)."""
    match = _SIZE.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 640x360, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def add_arch(parser: Any) -> None:
    """--arch: which variant of a bundled style runs."""
    parser.add_argument(
        "--arch",
        choices=("reference", "lite", "fast"),
        help="variant of a bundled style (default: lite on a CPU, fast on a GPU, where shipped; else reference)",
    )


def model_choice(args: argparse.Namespace) -> dict[str, Any]:
    """``resolve_models`` keywords from --arch and --provider (a CPU provider picks the CPU variant)."""
    provider = getattr(args, "provider", "auto")
    return {"arch": getattr(args, "arch", None), "gpu": False if provider == "cpu" else None}


def add_model(parser: argparse.ArgumentParser, *, several: bool = False) -> None:
    if several:
        parser.add_argument(
            "--model",
            required=True,
            action="append",
            metavar="PATH|NAME",
            help="style model: an .onnx file or a bundled model name; repeat it to switch styles with n/p, "
            "or 'all' for every bundled style",
        )
    else:
        parser.add_argument(
            "--model", required=True, metavar="PATH|NAME", help="style model: an .onnx file or a bundled model name"
        )


def add_overwrite(group: Any) -> None:
    group.add_argument("--overwrite", action="store_true", help="replace an output file that already exists")


def add_look(parser: argparse.ArgumentParser, *, video: bool = True) -> None:
    """--strength, --preserve-color, --scale/--size, --max-size, --max-pixels (and smoothing for video)."""
    look = parser.add_argument_group("look")
    look.add_argument(
        "--strength", type=float, default=1.0, metavar="S", help="blend with the original: 0 original .. 1 stylized"
    )
    look.add_argument(
        "--preserve-color",
        action="store_true",
        help="keep the source's colours: luminance from the style, colour from the source",
    )
    size = look.add_mutually_exclusive_group()
    size.add_argument(
        "--scale",
        type=float,
        metavar="F",
        help="run the model at F x the frame size (0.1-4; output keeps its size; smaller: faster, bigger strokes)",
    )
    size.add_argument(
        "--size",
        type=frame_size,
        metavar="WxH",
        help="run the model at exactly WxH (output keeps its size)",
    )
    look.add_argument(
        "--max-size", type=int, metavar="PX", help="shrink input so its longer side is at most this (output too)"
    )
    look.add_argument(
        "--max-pixels",
        type=int,
        default=3840 * 2160,
        metavar="N",
        help="bigger frames are stylized at this many pixels and scaled back (output keeps its size)",
    )
    if video:
        _add_smoothing(look)


def _add_smoothing(group: Any) -> None:
    group.add_argument("--smooth", choices=SMOOTHING, default="flow", help="temporal smoothing against flicker")
    group.add_argument(
        "--smooth-strength",
        type=float,
        metavar="S",
        help="0 (none) .. 1 (strongest); default: 0.6 for flow, 0.5 for ema (measured)",
    )
    group.add_argument(
        "--smooth-alpha",
        type=float,
        metavar="A",
        help="advanced: weight of the new frame in the blend, the same as --smooth-strength 1-A",
    )
    group.add_argument(
        "--keep-texture",
        type=int,
        nargs="?",
        const=DEFAULT_TEXTURE_RADIUS,
        default=0,
        metavar="PX",
        help="after each blend, bring the brush strokes' local contrast back up to the new frame's "
        f"(window radius PX, default {DEFAULT_TEXTURE_RADIUS}): more of the style kept, a little less steady",
    )


def add_provider(parser: argparse.ArgumentParser, *, threads: bool = False) -> None:
    """--provider, --require-gpu, --device-id (and --threads for the video commands)."""
    group = parser.add_argument_group("execution")
    group.add_argument("--provider", choices=PROVIDERS, default="auto", help="ONNX Runtime execution provider")
    group.add_argument("--require-gpu", action="store_true", help="fail instead of falling back to the CPU")
    group.add_argument(
        "--device-id", type=int, default=0, metavar="N", help="GPU index for the CUDA/TensorRT providers"
    )
    if threads:
        add_threads(group)


def add_threads(group: Any) -> None:
    group.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="CPU cores to share between model, optical flow, decoder and encoder threads "
        "(default: all this process may use; 0: every library's own default)",
    )


def add_video_output(parser: argparse.ArgumentParser) -> None:
    video = parser.add_argument_group("video output")
    video.add_argument(
        "--codec", metavar="NAME", help="video encoder (default: libx264; libvpx-vp9 for .webm); fallback is named"
    )
    video.add_argument("--crf", type=int, default=18, metavar="N", help="quality: lower is better and bigger (0-51)")
    video.add_argument(
        "--preset",
        choices=X264_PRESETS,
        metavar="NAME",
        help="libx264/libx265 speed: ultrafast ... veryslow (default: veryfast for live recordings and on "
        "machines of up to 4 cores, medium otherwise); on stylized video veryfast is ~2.3x as fast as medium "
        "at about the same size, ~0.5 dB lower PSNR",
    )
    video.add_argument("--no-audio", action="store_true", help="leave the source's audio out")
    video.add_argument("--frames", type=int, metavar="N", help="stop after this many frames")


def add_capture(parser: argparse.ArgumentParser, *, camera: bool = True) -> None:
    group = parser.add_argument_group("capture" if camera else "image sequences")
    if camera:
        group.add_argument("--width", type=int, metavar="PX", help="requested camera width")
        group.add_argument("--height", type=int, metavar="PX", help="requested camera height")
    group.add_argument(
        "--fps",
        type=float,
        metavar="FPS",
        help="requested camera frame rate; the rate of an image sequence (default 25)",
    )


def check_numbers(args: argparse.Namespace) -> None:
    """UsageError naming the flag and its range for any number out of range (only the flags present)."""
    from stylecam.runtime.config import MAX_TEXTURE_RADIUS

    limits: dict[str, tuple[str, float, float]] = {
        "--frames": ("frames", 1, float("inf")),
        "--max-size": ("max_size", 16, 65536),
        "--crf": ("crf", 0, 63),
        "--width": ("width", 16, 16384),
        "--height": ("height", 16, 16384),
        "--fps": ("fps", 1, 1000),
        "--strength": ("strength", 0, 1),
        "--scale": ("scale", 0.1, 4),
        "--smooth-strength": ("smooth_strength", 0, 1),
        "--smooth-alpha": ("smooth_alpha", 0.01, 1),
        "--threads": ("threads", 0, 1024),
        "--keep-texture": ("keep_texture", 0, MAX_TEXTURE_RADIUS),
    }
    for flag, (name, low, high) in limits.items():
        value = getattr(args, name, None)
        if value is not None and not low <= value <= high:
            bounds = f"at least {low:g}" if high == float("inf") else f"between {low:g} and {high:g}"
            raise UsageError(f"{flag} must be {bounds}, got {value:g}")
    size = getattr(args, "size", None)
    if size is not None and not all(16 <= side <= 16384 for side in size):
        raise UsageError(f"--size sides must be between 16 and 16384 px, got {size[0]}x{size[1]}")
    if getattr(args, "smooth_strength", None) is not None and getattr(args, "smooth_alpha", None) is not None:
        raise UsageError("--smooth-strength and --smooth-alpha set the same thing; give one of them")


def camera_options(args: argparse.Namespace) -> dict[str, Any] | None:
    options = {key: getattr(args, key, None) for key in ("width", "height", "fps")}
    return options if any(value is not None for value in options.values()) else None


def thread_count(args: argparse.Namespace) -> int:
    """Cores to plan threads for: ``--threads``, else the usable cores; 0 (no budget) without the option."""
    from stylecam.runtime.config import usable_cores

    if not hasattr(args, "threads"):
        return 0  # stills (stylecam image): ONNX Runtime keeps its own default
    return usable_cores() if args.threads is None else args.threads


def runtime_config(args: argparse.Namespace) -> Any:
    from stylecam.runtime.config import RuntimeConfig

    return RuntimeConfig(
        provider=args.provider,
        device_id=args.device_id,
        require_gpu=args.require_gpu,
        max_pixels=args.max_pixels,
        threads=thread_count(args),
    )


def look_config(args: argparse.Namespace) -> Any:
    from stylecam.runtime.config import LookConfig

    return LookConfig(strength=args.strength, preserve_color=args.preserve_color, scale=args.scale, size=args.size)


def smoothing_config(args: argparse.Namespace, *, still: bool = False, recommended: float | None = None) -> Any:
    """The SmoothingConfig for ``--smooth``/``--smooth-strength``/``--smooth-alpha`` (``none`` for a still).

    ``recommended`` is the model's own smoothing strength (from its metadata, see
    :func:`recommended_smooth_strength`); it is the default, and the user's flags win over it.
    """
    from stylecam.runtime.config import SmoothingConfig, alpha_for_strength

    strength = args.smooth_strength
    if strength is None and args.smooth_alpha is None and recommended is not None:
        strength = recommended
    if still or args.smooth == "none" or strength == 0:
        return SmoothingConfig(mode="none")  # strength 0 is no smoothing: skip its cost too
    alpha = args.smooth_alpha
    if strength is not None:
        alpha = alpha_for_strength(strength)
    return SmoothingConfig(mode=args.smooth, alpha=alpha, keep_texture=getattr(args, "keep_texture", 0))


def recommended_smooth_strength(model: Path) -> float | None:
    """The smoothing strength a model's metadata recommends (None: none given, or not a number 0-1)."""
    from stylecam.contract import K_SMOOTH_STRENGTH
    from stylecam.errors import StylecamError
    from stylecam.onnxfile import load_onnx_safely, props_of

    try:
        value = props_of(load_onnx_safely(model, load_external_data=False)).get(K_SMOOTH_STRENGTH)
    except StylecamError:
        return None  # the model's own load reports what is wrong with it
    try:
        strength = float(value) if value is not None else None
    except ValueError:
        strength = None
    if strength is not None and 0 <= strength <= 1:
        return strength
    if value is not None:
        log.warning("%s: ignoring its recommended smoothing strength %r (not a number 0-1)", model.name, value)
    return None

"""Choosing a video encoder before any work starts: the best one that opens, or a named fallback.

H.264 (libx264, crf 18, yuv420p) is the default because every player plays it. yuv420p needs an
even width and height (chroma is stored at half resolution, and H.264 cannot crop by one pixel
in 4:2:0), so an odd-sized frame is encoded as 4:4:4 instead: same size, every pixel kept, no
shift, but not every player (browsers, QuickTime) plays 4:4:4 H.264; the log says so.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache

import av

from stylecam.errors import UsageError

log = logging.getLogger(__name__)

# SVT-AV1 prints a 20-line banner to stderr from native code the first time an encoder opens
# (which happens while listing the encoders that work): errors only. It reads SVT_LOG once per
# process, so this must be set before any encoder opens; a value the user set wins.
os.environ.setdefault("SVT_LOG", "1")

# suffix -> (FFmpeg muxer, encoders to try in order)
CONTAINERS: dict[str, tuple[str, tuple[str, ...]]] = {
    ".mp4": ("mp4", ("libx264", "libopenh264", "mpeg4")),
    ".m4v": ("mp4", ("libx264", "libopenh264", "mpeg4")),
    ".mov": ("mov", ("libx264", "libopenh264", "mpeg4")),
    ".mkv": ("matroska", ("libx264", "libvpx-vp9", "mpeg4")),
    ".webm": ("webm", ("libvpx-vp9", "libvpx", "libsvtav1")),
    ".avi": ("avi", ("libx264", "mpeg4")),
}
VIDEO_SUFFIXES = tuple(CONTAINERS)
KNOWN_ENCODERS = (
    "libx264",
    "libx265",
    "libopenh264",
    "mpeg4",
    "libvpx-vp9",
    "libvpx",
    "libsvtav1",
    "ffv1",
    "prores_ks",
)
DEFAULT_CRF = 18
# libx264 / libx265 speed presets, fastest first (``--preset``): the same crf keeps about the same
# quality, a slower preset packs it into fewer bytes at a higher CPU cost.
X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)
_ODD_SIZE_444 = ("libx264", "libx265")  # can keep an odd size exactly, as 4:4:4


@dataclass(frozen=True)
class EncoderChoice:
    """The encoder that will be used, how, and why (``note`` is set when it is not the first choice)."""

    codec: str
    muxer: str
    pix_fmt: str
    options: dict[str, str] = field(default_factory=dict)
    bit_rate: int | None = None
    note: str = ""


def muxer_for(suffix: str) -> str:
    """FFmpeg muxer for an output suffix; UsageError lists the suffixes that work."""
    entry = CONTAINERS.get(suffix.lower())
    if entry is None:
        raise UsageError(
            f"cannot write video files of type {suffix or '(no suffix)'!r}; use one of: {', '.join(CONTAINERS)}"
        )
    return entry[0]


@cache
def _muxer_codecs(muxer: str) -> frozenset[str]:
    with av.open(io.BytesIO(), "w", format=muxer) as container:
        return frozenset(container.supported_codecs)


def encoder_available(name: str) -> bool:
    """True when this FFmpeg build has the encoder (PyAV wheels may lack GPL or patent-encumbered ones)."""
    try:
        av.codec.Codec(name, "w")
    except (av.codec.codec.UnknownCodecError, ValueError):
        return False
    return True


def _settings(
    codec: str, width: int, height: int, fps: float, crf: int, realtime: bool, preset: str | None = None
) -> tuple[str, dict[str, str], int | None]:
    odd = width % 2 or height % 2
    if codec in ("libx264", "libx265"):
        # a live recording must keep up with the camera; a file conversion can take its time
        options = {"crf": str(crf), "preset": preset or ("veryfast" if realtime else "medium")}
        if codec == "libx265":
            options["x265-params"] = "log-level=error"
        return ("yuv444p" if odd else "yuv420p"), options, None
    if codec in ("libvpx-vp9", "libvpx"):
        speed = {"deadline": "realtime", "cpu-used": "8"} if realtime else {"deadline": "good"}
        return "yuv420p", {"crf": str(min(63, crf + 13)), "b": "0", "row-mt": "1", **speed}, None
    if codec == "libsvtav1":
        return "yuv420p", {"crf": str(min(63, crf + 12)), "preset": "10" if realtime else "8"}, None
    # mpeg4 and others: no crf; 0.25 bit per pixel keeps stylized detail (H.264 needs about half)
    return "yuv420p", {}, int(max(1_000_000, 0.25 * width * height * fps))


def _try_open(codec: str, width: int, height: int, fps: float, pix_fmt: str, options: dict[str, str]) -> str | None:
    """Open the encoder once with the real settings; return why it failed, or None."""
    try:
        context = av.CodecContext.create(codec, "w")
        context.width, context.height, context.pix_fmt = width, height, pix_fmt
        context.time_base = Fraction(1, 1000)
        context.framerate = Fraction(fps).limit_denominator(1001)
        context.options = dict(options)
        context.open()
    except (av.FFmpegError, ValueError) as exc:
        return f"it refuses {width}x{height} {pix_fmt} ({exc})"
    return None


def _why_not(
    codec: str,
    muxer: str,
    width: int,
    height: int,
    fps: float,
    crf: int,
    exists: Callable[[str], bool],
    realtime: bool = False,
    preset: str | None = None,
) -> tuple[str | None, tuple[str, dict[str, str], int | None]]:
    settings = _settings(codec, width, height, fps, crf, realtime, preset)
    if not exists(codec):
        return "it is not in this FFmpeg build", settings
    if codec not in _muxer_codecs(muxer):
        return f"{muxer} files cannot hold it", settings
    return _try_open(codec, width, height, fps, settings[0], settings[1]), settings


def choose_encoder(
    suffix: str,
    width: int,
    height: int,
    fps: float | None,
    *,
    codec: str | None = None,
    crf: int = DEFAULT_CRF,
    realtime: bool = False,
    exists: Callable[[str], bool] | None = None,
    preset: str | None = None,
) -> EncoderChoice:
    """Pick and test-open the encoder for an output file.

    Without ``codec`` the container's chain is tried in order and a fallback is named in
    ``note``; an explicit ``codec`` that cannot work raises UsageError listing those that can.
    ``realtime`` picks faster encoder settings for live recordings; ``preset`` sets the
    libx264/libx265 preset (default: medium, veryfast for live recordings; other encoders ignore it).
    """
    if preset is not None and preset not in X264_PRESETS:
        raise UsageError(f"--preset {preset!r} is not an x264 preset; choose one of: {', '.join(X264_PRESETS)}")
    muxer = muxer_for(suffix)
    exists = exists or encoder_available
    rate = fps or 30.0
    candidates = (codec,) if codec else CONTAINERS[suffix.lower()][1]
    refused: list[str] = []
    for name in candidates:
        why, (pix_fmt, options, bit_rate) = _why_not(name, muxer, width, height, rate, crf, exists, realtime, preset)
        if why is None:
            note = ""
            if refused:
                note = f"{'; '.join(refused)}; using {name} instead (files are larger at the same quality)"
            if pix_fmt == "yuv444p":
                note = (note + "; " if note else "") + (
                    f"odd frame size {width}x{height} is kept exactly by encoding 4:4:4 (some players, e.g. browsers "
                    "and QuickTime, cannot play 4:4:4; use an even --max-size for those)"
                )
            return EncoderChoice(name, muxer, pix_fmt, options, bit_rate, note)
        refused.append(f"{name} is unusable: {why}")
    if codec:
        working = [
            name for name in KNOWN_ENCODERS if _why_not(name, muxer, width, height, rate, crf, exists)[0] is None
        ]
        raise UsageError(
            f"--codec {codec} cannot write {suffix} files here ({refused[0].split(': ', 1)[1]}); "
            f"encoders that work: {', '.join(working) or 'none'}"
        )
    raise UsageError(f"no video encoder can write {suffix} files here ({'; '.join(refused)}); try --output out.mkv")

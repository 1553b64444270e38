"""Probe a video before any work starts: what it is, how big, how fast, and whether it is readable.

Cheap checks run first in this process (empty file, magic bytes, MP4 box structure). FFmpeg then
opens the file in a child process with a timeout (``python -m stylecam.runtime.media.video_probe PATH``), so a
file that hangs or crashes the demuxer or decoder costs a clear error, not the main process.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import av

from stylecam.errors import InputError, SourceError
from stylecam.paths import check_input_file
from stylecam.runtime.media.sniff import check_iso_media, sniff_file
from stylecam.runtime.media.timing import settle_timing
from stylecam.runtime.media.video_info import VideoInfo

PROBE_TIMEOUT_S = 30.0
_TIMESTAMP_PACKETS = 240  # packets read to measure the real frame rate (about 8 s at 30 fps)
_FIRST_FRAME_PACKETS = 64  # packets tried before "no frame decodes" is an error
_HDR_TRANSFERS = {16: "PQ (SMPTE 2084)", 18: "HLG (ARIB STD-B67)"}
NETWORK_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "rtmps://", "udp://", "tcp://", "srt://", "http://", "https://")


def is_url(source: str) -> bool:
    """True for a network stream address (rtsp://, http://, ...)."""
    return source.lower().startswith(NETWORK_SCHEMES)


def _refuse_non_video(file: Path) -> None:
    kind = sniff_file(file)
    if kind is not None and not kind.is_video:
        if "image" in kind.description:
            hint = f"to stylize it as an image, give it its real suffix (e.g. {file.stem}.jpg / .png)"
        else:
            hint = "pass a video file (MP4, MOV, MKV, WebM, AVI)"
        raise InputError(f"{file} is {kind.description}, not a video; {hint}")
    if kind is not None and kind.is_iso_media:
        problem = check_iso_media(file)
        if problem:
            raise InputError(f"{file} {problem}; copy or export the complete file again")


def probe_video(source: str | os.PathLike[str], *, timeout: float = PROBE_TIMEOUT_S, isolate: bool = True) -> VideoInfo:
    """Check and describe a video file or stream URL; InputError/SourceError name what is wrong.

    Args:
        source: a file path or a stream URL.
        timeout: seconds the child process may take before the file counts as unreadable.
        isolate: probe in a child process (default); False probes here (trusted files, tests).
    """
    text = os.fspath(source)
    if not is_url(text):
        file = check_input_file(text, what="video")
        _refuse_non_video(file)
        text = str(file)
    if not isolate:
        return inspect_video(text)
    return _probe_in_child(text, timeout)


def _probe_in_child(source: str, timeout: float) -> VideoInfo:
    target = source if is_url(source) else str(Path(source).resolve())
    command = [sys.executable, "-m", "stylecam.runtime.media.video_probe", target]
    try:
        # An empty working folder: `python -m` puts the cwd on sys.path, where a stray `av.py` could sit.
        with tempfile.TemporaryDirectory(prefix="stylecam-probe-") as workdir:
            done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise SourceError(
            f"reading {source} did not finish within {timeout:.0f} s (a damaged file or a stalled stream); "
            "check the file plays in a video player, or re-export it"
        ) from exc
    if done.returncode < 0:
        raise InputError(
            f"FFmpeg crashed (signal {-done.returncode}) while reading {source}: the file is damaged; "
            "re-export it or convert it first (e.g. ffmpeg -i in.mp4 -c:v libx264 fixed.mp4)"
        )
    try:
        reply = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError) as exc:
        detail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise InputError(f"could not probe {source} ({detail[0]}); check that it is a video file") from exc
    if not reply.get("ok"):
        error = SourceError if reply.get("kind") == "source" else InputError
        raise error(reply["error"])
    return VideoInfo.from_dict(reply["info"])


def _open_error(source: str, exc: Exception) -> InputError:
    if is_url(source):
        return SourceError(f"cannot open stream {source} ({exc}); check the address and that the stream is live")
    return InputError(f"{source} cannot be read as a video (FFmpeg: {exc}); check that it plays in a video player")


def inspect_video(source: str) -> VideoInfo:
    """Open ``source`` with FFmpeg here, decode its first frame and measure its timestamps."""
    try:
        container = av.open(source, timeout=(15.0, 15.0))
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise _open_error(source, exc) from exc
    with container:
        if not container.streams.video:
            kinds = sorted({stream.type for stream in container.streams}) or ["no streams"]
            raise InputError(f"{source} has no video stream (it holds: {', '.join(kinds)}); pass a video file")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        first, stamps = _first_frame_and_stamps(container, stream, source)
        tb = stream.time_base
        measured = _measured_fps(stamps, float(tb)) if tb else None
        duration = float(stream.duration * tb) if stream.duration and tb else None
        if duration is None and container.duration:
            duration = container.duration / av.time_base
        declared = float(stream.average_rate) if stream.average_rate else None
        timing = settle_timing(declared, measured, stream.frames or None, duration, _is_vfr(stamps))
        fmt = first.format
        audio = _audio_codec(container)
        depth = max((c.bits for c in fmt.components), default=8)
        gray = len([c for c in fmt.components if not c.is_alpha]) == 1
        width, height = (first.height, first.width) if first.rotation % 180 else (first.width, first.height)
        return VideoInfo(
            width=width,
            height=height,
            fps=declared,
            measured_fps=measured,
            frame_count=timing.frame_count,
            duration=duration,
            codec=stream.codec_context.name,
            pixel_format=fmt.name,
            bit_depth=depth,
            has_audio=bool(audio),
            audio_codec=audio,
            has_alpha=any(c.is_alpha for c in fmt.components),
            is_grayscale=gray,
            hdr_transfer=_HDR_TRANSFERS.get(int(first.color_trc), ""),
            rotation=int(first.rotation) % 360,
            time_base=tb,
            container=container.format.name,
            variable_frame_rate=timing.variable,
            notes=timing.notes,
        )


def _audio_codec(container: av.container.InputContainer) -> str:
    """The first audio stream's codec name; "" when there is none or FFmpeg knows no codec for it."""
    context = container.streams.audio[0].codec_context if container.streams.audio else None
    return context.name if context is not None else ""


def _first_frame_and_stamps(
    container: av.container.InputContainer, stream: av.VideoStream, source: str
) -> tuple[av.VideoFrame, list[int]]:
    first = None
    stamps: list[int] = []
    errors = 0
    try:
        for count, packet in enumerate(container.demux(stream)):
            if packet.pts is not None and packet.size:
                stamps.append(packet.pts)
            if first is None:
                try:
                    first = next(iter(packet.decode()), None)
                except av.error.InvalidDataError:
                    errors += 1
                if first is None and count >= _FIRST_FRAME_PACKETS:
                    break
            if first is not None and len(stamps) >= _TIMESTAMP_PACKETS:
                break
        if first is None:  # frames held back by the decoder come out on flush
            first = next(iter(stream.codec_context.decode(None)), None)
    except (av.FFmpegError, OSError) as exc:
        raise _open_error(source, exc) from exc
    if first is None:
        raise InputError(
            f"no frame of {source} could be decoded ({errors} damaged packets at the start); "
            "the file is damaged or uses a codec this FFmpeg cannot decode"
        )
    return first, stamps


def _measured_fps(stamps: list[int], time_base: float) -> float | None:
    ordered = sorted(set(stamps))
    if len(ordered) < 3:
        return None
    span = (ordered[-1] - ordered[0]) * time_base
    return (len(ordered) - 1) / span if span > 0 else None


def _is_vfr(stamps: list[int]) -> bool:
    ordered = sorted(set(stamps))
    steps = [b - a for a, b in itertools.pairwise(ordered)]
    if len(steps) < 3:
        return False
    mean = sum(steps) / len(steps)
    spread = (sum((s - mean) ** 2 for s in steps) / len(steps)) ** 0.5
    return spread > 0.1 * mean


def _child_main(argv: list[str]) -> int:
    """``python -m stylecam.runtime.media.video_probe PATH``: one JSON line on stdout (the isolated probe)."""
    try:
        info = inspect_video(argv[0])
        print(json.dumps({"ok": True, "info": info.to_dict()}))
    except SourceError as exc:
        print(json.dumps({"ok": False, "kind": "source", "error": str(exc)}))
    except InputError as exc:
        print(json.dumps({"ok": False, "kind": "input", "error": str(exc)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(_child_main(sys.argv[1:]))

"""Tiny synthetic video clips written with PyAV in the test's tmp_path (no data files needed)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def pattern(height: int, width: int, index: int = 0) -> np.ndarray:
    """A BGR frame with sharp grey edges (so a 1-pixel shift shows) over smooth colour ramps.

    The edges are in brightness only: 4:2:0 chroma subsampling blurs colour edges by design, and
    that is not what the tests look for. The frame changes with ``index``.
    """
    y, x = np.mgrid[0:height, 0:width]
    blocks = (((x // 4) + (y // 4) + index) % 2) * 100
    ramps = np.stack([x * 60 // max(width, 1), y * 60 // max(height, 1), (x + y) * 40 // max(width + height, 1)], -1)
    image = 40 + blocks[..., None] + ramps
    image[:, -1] = (255, 255, 255)  # a bright last column and row: cropping or padding shows up there
    image[-1, :] = (235, 235, 235)
    return image.astype(np.uint8)


def gradient(height: int, width: int, index: int = 0) -> np.ndarray:
    """A smooth BGR frame (no colour edges, so chroma subsampling changes it very little)."""
    y, x = np.mgrid[0:height, 0:width]
    image = np.stack([x * 3 + index, y * 4, 200 - x - y], axis=-1)
    return np.clip(image, 0, 255).astype(np.uint8)


def write_clip(
    path: Path,
    *,
    width: int = 64,
    height: int = 48,
    frames: int = 12,
    fps: int = 10,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    pts: Sequence[int] | None = None,
    time_base: Fraction | None = None,
    audio: str | None = None,
    audio_seconds: float | None = None,
    options: dict[str, str] | None = None,
    container_options: dict[str, str] | None = None,
    painter: Callable[[int, int, int], np.ndarray] | None = None,
    color_trc: int | None = None,
) -> Path:
    """Write ``frames`` pattern frames (and optionally a sine tone) to ``path``; return ``path``.

    ``pts`` with ``time_base`` gives each frame its own timestamp (variable frame rate);
    ``painter(height, width, index)`` replaces the default :func:`pattern`.
    """
    paint = painter or pattern
    with av.open(str(path), "w", options=container_options or {}) as container:
        stream = container.add_stream(codec, rate=fps, options=options or ({"crf": "10"} if codec == "libx264" else {}))
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        if color_trc is not None:  # e.g. 16: PQ (HDR10)
            stream.codec_context.color_trc = color_trc
        if time_base is not None:
            stream.time_base = time_base
            stream.codec_context.time_base = time_base
        sound = None
        if audio:
            sound = container.add_stream(audio, rate=16000)
            sound.layout = "mono"
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(paint(height, width, index), format="bgr24")
            if pts is not None:
                frame.pts, frame.time_base = pts[index], time_base
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
        if sound is not None:
            _write_tone(container, sound, audio_seconds or frames / fps)
    return path


def _write_tone(container: av.container.OutputContainer, sound: av.AudioStream, seconds: float) -> None:
    rate = 16000
    samples = (np.sin(2 * np.pi * 440 * np.arange(int(seconds * rate)) / rate) * 8000).astype(np.int16)
    for start in range(0, samples.size, 1600):
        chunk = samples[None, start : start + 1600]
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
        container.mux(sound.encode(frame))
    container.mux(sound.encode(None))


def stream_seconds(path: Path, kind: str) -> float:
    """Duration of the first ``kind`` ("video"/"audio") stream of ``path`` in seconds."""
    with av.open(str(path)) as container:
        stream = next(s for s in container.streams if s.type == kind)
        if stream.duration is not None:
            return float(stream.duration * stream.time_base)
        last = max(p.pts + (p.duration or 0) for p in container.demux(stream) if p.pts is not None)
        return float(last * stream.time_base)


def decode_all(path: Path) -> list[np.ndarray]:
    """Every video frame of ``path`` as BGR (decoded plainly with PyAV, independent of stylecam)."""
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="bgr24") for frame in container.decode(video=0)]


def frame_times(path: Path) -> list[float]:
    """Presentation times (seconds) of the video frames of ``path``, in display order."""
    with av.open(str(path)) as container:
        return [float(frame.time) for frame in container.decode(video=0)]

"""VideoInfo: what a source delivers (size, rate, length, pixel format, audio), torch- and cv2-free."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from fractions import Fraction
from typing import Any


@dataclass(frozen=True)
class VideoInfo:
    """Properties of a video source as probed (files) or opened (cameras).

    ``fps`` is what the container or camera declares; ``measured_fps`` what the timestamps (files)
    or the real frame intervals (cameras) say. ``frame_count`` is None when unknown or not to be
    trusted (see :mod:`stylecam.runtime.media.timing`).
    """

    width: int
    height: int
    fps: float | None = None
    measured_fps: float | None = None
    frame_count: int | None = None
    duration: float | None = None
    codec: str = ""
    pixel_format: str = ""
    bit_depth: int = 8
    has_audio: bool = False
    audio_codec: str = ""
    has_alpha: bool = False
    is_grayscale: bool = False
    hdr_transfer: str = ""  # "PQ (SMPTE 2084)", "HLG (ARIB STD-B67)" or ""
    rotation: int = 0  # degrees the frames are turned by for display
    time_base: Fraction | None = None
    container: str = ""
    variable_frame_rate: bool = False
    notes: tuple[str, ...] = ()

    @property
    def best_fps(self) -> float | None:
        """The rate to label output with: measured when available (cameras and files lie), else declared."""
        return self.measured_fps or self.fps

    def describe(self) -> str:
        """One line for logs: ``384x256, 20 fps, 118 frames, 5.9 s, h264 yuv420p, audio aac``."""
        parts = [f"{self.width}x{self.height}"]
        if self.best_fps:
            parts.append(f"{self.best_fps:.3g} fps" + (" (variable)" if self.variable_frame_rate else ""))
        if self.frame_count:
            parts.append(f"{self.frame_count} frames")
        if self.duration:
            parts.append(f"{self.duration:.1f} s")
        if self.codec:
            parts.append(f"{self.codec} {self.pixel_format}".strip())
        parts.append(f"audio {self.audio_codec}" if self.has_audio else "no audio")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (the isolated probe sends this over a pipe)."""
        data = asdict(self)
        data["time_base"] = None if self.time_base is None else [self.time_base.numerator, self.time_base.denominator]
        data["notes"] = list(self.notes)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VideoInfo:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if values.get("time_base") is not None:
            values["time_base"] = Fraction(*values["time_base"])
        values["notes"] = tuple(values.get("notes", ()))
        return cls(**values)

"""Which frame rate and frame count to believe when a file's header and its timestamps disagree.

Headers lie (phones write variable frame rates, cut files keep their old frame count, some muxers
write nonsense rates). Timestamps carry the truth for the output; this decides only what the
progress bar and the output's nominal rate show.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_FPS, MAX_FPS = 0.5, 1000.0
FPS_TOLERANCE = 0.10  # declared vs measured rate
COUNT_TOLERANCE = 0.20  # declared frame count vs duration x rate


@dataclass(frozen=True)
class Timing:
    """The settled view: nominal fps (None when unknown), a trusted frame count or None, notes."""

    fps: float | None
    frame_count: int | None
    variable: bool
    notes: tuple[str, ...] = ()


def _plausible(fps: float | None) -> bool:
    return fps is not None and MIN_FPS <= fps <= MAX_FPS


def settle_timing(
    declared_fps: float | None,
    measured_fps: float | None,
    frame_count: int | None,
    duration: float | None,
    variable: bool = False,
) -> Timing:
    """Pick the frame rate and frame count to trust; each distrusted value gets a note saying so."""
    notes: list[str] = []
    fps = declared_fps if _plausible(declared_fps) else None
    if _plausible(measured_fps):
        assert measured_fps is not None
        if fps is None:
            if declared_fps:
                notes.append(
                    f"declared frame rate {declared_fps:g} fps is implausible; timestamps say {measured_fps:.3g}"
                )
            fps = measured_fps
        elif abs(measured_fps - fps) > FPS_TOLERANCE * fps:
            notes.append(
                f"declares {fps:.3g} fps but its timestamps run at {measured_fps:.3g} fps; the timestamps are kept"
            )
            fps = measured_fps
    if fps is None:
        notes.append("frame rate unknown; frame timestamps are used as they are")
    if variable:
        notes.append("variable frame rate: every frame keeps its own timestamp")
    count = frame_count if frame_count and frame_count > 0 else None
    if count is None:
        notes.append("frame count unknown; progress is shown without a total")
    elif fps and duration and not variable:
        expected = duration * fps
        if abs(count - expected) > max(2.0, COUNT_TOLERANCE * expected):
            notes.append(
                f"declared frame count {count} does not match duration x rate (about {expected:.0f}); "
                "progress is shown without a total"
            )
            count = None
    return Timing(fps=fps, frame_count=count, variable=variable, notes=tuple(notes))

"""What the battery expects of a case, and checks on the files a successful case wrote.

An output check takes the case folder and returns a problem (a short sentence) or None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import av
import cv2
import numpy as np
from battery_inputs import apply_style

OutputCheck = Callable[[Path], "str | None"]


@dataclass(frozen=True)
class Expect:
    """The outcome a case must have.

    Attributes:
        code: exit code (0: the case must work).
        problem: regex the error line must match (names the problem); for code 0, stderr.
        fix: regex the error line must match (names what to do).
        notice: regex that must appear somewhere in stderr (a warning or note).
        one_line: the whole stderr is that one error line (refused before any work).
        new_files: names that must appear in the folder (nothing else may).
        changed: names that may change (a target overwritten on success).
    """

    code: int
    problem: str = ""
    fix: str = ""
    notice: str = ""
    one_line: bool = True
    new_files: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()


@dataclass
class Invocation:
    """How to run one case: stylecam arguments, the launcher, and what to check afterwards."""

    args: list[str]
    expect: Expect
    launcher: str = "cli"  # cli | camera | tinyfs | interrupt
    check: OutputCheck | None = None
    env: dict[str, str] = field(default_factory=dict)
    scenario: dict[str, object] = field(default_factory=dict)  # fake cameras / tiny filesystem settings
    marker: Path | None = None  # a hostile payload's marker file: must never appear


def video_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="bgr24") for frame in container.decode(video=0)]


def frame_times(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        return sorted(float(frame.time) for frame in container.decode(video=0))


def audio_seconds(path: Path) -> float:
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return 0.0
        stream = container.streams.audio[0]
        last = max((p.pts + (p.duration or 0) for p in container.demux(stream) if p.pts is not None), default=0)
        return float(last * stream.time_base)


def same_video_size(output: str, source: str) -> OutputCheck:
    def check(folder: Path) -> str | None:
        out, src = video_frames(folder / output), video_frames(folder / source)
        if not out:
            return "the output has no frames"
        if out[0].shape != src[0].shape:
            return f"output frames are {out[0].shape[1]}x{out[0].shape[0]}, source {src[0].shape[1]}x{src[0].shape[0]}"
        return None

    return check


def styled_without_shift(output: str, source: str) -> OutputCheck:
    """Same size, and the output matches the styled source better than any 1-pixel shift of it."""

    def check(folder: Path) -> str | None:
        problem = same_video_size(output, source)(folder)
        if problem:
            return problem
        out = video_frames(folder / output)[0].astype(np.float32)
        want = apply_style(video_frames(folder / source)[0]).astype(np.float32)
        error = np.abs(out - want).mean()
        shifts = [np.abs(out[1:] - want[:-1]).mean(), np.abs(out[:, 1:] - want[:, :-1]).mean()]
        if error > 8 or error >= min(shifts):
            return f"output differs from the styled source by {error:.1f} levels (1-px shifts: {min(shifts):.1f})"
        return None

    return check


def frame_count(output: str, source: str, *, at_least: float = 1.0) -> OutputCheck:
    def check(folder: Path) -> str | None:
        got, want = len(video_frames(folder / output)), len(video_frames(folder / source))
        if got < at_least * want or got > want:
            return f"{got} frames written for {want} source frames"
        return None

    return check


def same_timestamps(output: str, source: str) -> OutputCheck:
    def check(folder: Path) -> str | None:
        got, want = frame_times(folder / output), frame_times(folder / source)
        if len(got) != len(want) or max(abs(a - b) for a, b in zip(got, want)) > 0.002:
            return f"timestamps changed: {[round(t, 3) for t in got][:6]} vs source {[round(t, 3) for t in want][:6]}"
        return None

    return check


def audio_kept(output: str, source: str) -> OutputCheck:
    def check(folder: Path) -> str | None:
        got, want = audio_seconds(folder / output), audio_seconds(folder / source)
        if abs(got - want) > 0.1:
            return f"audio is {got:.2f} s long, the source's {want:.2f} s"
        return None

    return check


def image_kept(output: str, source: str, *, alpha: bool = False) -> OutputCheck:
    def check(folder: Path) -> str | None:
        out = cv2.imread(str(folder / output), cv2.IMREAD_UNCHANGED)
        src = cv2.imread(str(folder / source), cv2.IMREAD_UNCHANGED)
        if out is None:
            return "the output image does not decode"
        if out.shape[:2] != src.shape[:2]:
            return f"output is {out.shape[1]}x{out.shape[0]}, source {src.shape[1]}x{src.shape[0]}"
        if alpha and (out.ndim != 3 or out.shape[2] != 4 or not np.array_equal(out[..., 3], src[..., 3])):
            return "the alpha channel was not kept"
        return None

    return check


def playable(name: str, *, min_frames: int = 1) -> OutputCheck:
    def check(folder: Path) -> str | None:
        try:
            count = len(video_frames(folder / name))
        except (av.FFmpegError, OSError) as exc:
            return f"{name} does not play ({exc})"
        return None if count >= min_frames else f"{name} has {count} frames"

    return check


def duration_near(name: str, seconds: float, tolerance: float) -> OutputCheck:
    def check(folder: Path) -> str | None:
        times = frame_times(folder / name)
        span = times[-1] - times[0] if len(times) > 1 else 0.0
        return None if abs(span - seconds) <= tolerance else f"{name} spans {span:.2f} s, expected ~{seconds:.2f} s"

    return check


def video_size(name: str, width: int, height: int) -> OutputCheck:
    def check(folder: Path) -> str | None:
        frames = video_frames(folder / name)
        shape = frames[0].shape[:2] if frames else None
        return None if shape == (height, width) else f"{name} frames are {shape}, expected {(height, width)}"

    return check


def every(*checks: OutputCheck) -> OutputCheck:
    def check(folder: Path) -> str | None:
        for one in checks:
            problem = one(folder)
            if problem:
                return problem
        return None

    return check

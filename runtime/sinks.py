"""Where stylized frames go: a window, an image file, nowhere (benchmarks), or a video file.

Every sink is a context manager with ``write(frame)``, ``threaded`` (fed from the pipeline's
writer thread, or from the main thread as GUI toolkits require) and ``stop_requested`` (the user
pressed q/Esc or closed the window). :class:`~stylecam.runtime.video_sink.VideoFileSink` lives in
its own module.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Sequence
from types import ModuleType, TracebackType
from typing import Any

import cv2

from stylecam.atomic import atomic_output, check_output_path
from stylecam.errors import UsageError
from stylecam.images import check_image_suffix, write_image
from stylecam.runtime.metrics import FPSMeter
from stylecam.runtime.sources import Frame
from stylecam.runtime.video_sink import VideoFileSink

__all__ = ["ImageSink", "NullSink", "VideoFileSink", "WindowSink", "display_problem"]

log = logging.getLogger(__name__)

_QUIT_KEYS = {ord("q"), ord("Q"), 27}  # q, Q, Esc


class _SinkBase:
    threaded = False
    stop_requested = False

    def __enter__(self) -> Any:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release what the sink holds (idempotent)."""


class NullSink(_SinkBase):
    """Counts frames and throws them away (benchmarks, soak tests, throughput checks)."""

    def __init__(self) -> None:
        self.frames = 0
        self.last: Frame | None = None

    def write(self, frame: Frame) -> None:
        self.frames += 1
        self.last = frame


def display_problem(environ: dict[str, str] | None = None, platform: str = sys.platform) -> str | None:
    """Why no window can be shown here (None when a display is available)."""
    env = os.environ if environ is None else environ
    if platform.startswith("linux") and not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        return "no display to open a window on (DISPLAY is not set: a headless machine or an SSH session?)"
    return None


class WindowSink(_SinkBase):
    """Shows frames in an OpenCV window; q or Esc (or closing the window) stops the run.

    Args:
        title: window title (the live frame rate is appended).
        gui: the module providing OpenCV's HighGUI calls (tests pass a fake).
    """

    def __init__(self, title: str = "stylecam", *, gui: ModuleType | Any = cv2) -> None:
        self.title = title
        self._gui = gui
        self._opened = False
        self._meter = FPSMeter(window=30)
        self._last_title = 0.0
        self.frames = 0

    def __enter__(self) -> WindowSink:
        problem = display_problem() if self._gui is cv2 else None
        if problem is None:
            try:
                self._gui.namedWindow(self.title, cv2.WINDOW_NORMAL)
                self._opened = True
            except cv2.error as exc:
                problem = f"OpenCV cannot open a window ({str(exc).strip().splitlines()[-1]})"
        if problem is not None:
            raise UsageError(f"{problem}; write a file with --output out.mp4, or add --no-window")
        return self

    def write(self, frame: Frame) -> None:
        self._gui.imshow(self.title, frame.image)
        key = self._gui.waitKey(1)
        self.frames += 1
        if key != -1 and (key & 0xFF) in _QUIT_KEYS:
            self.stop_requested = True
        elif self._gui.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1:
            self.stop_requested = True  # closed with the window's own button
        self._update_title()

    def _update_title(self) -> None:
        fps = self._meter.tick()
        now = time.monotonic()
        if fps > 0 and now - self._last_title >= 0.5:  # retitling every frame makes some toolkits flicker
            self._gui.setWindowTitle(self.title, f"{self.title}: {fps:.1f} fps (q or Esc quits)")
            self._last_title = now

    def close(self) -> None:
        if self._opened:
            self._opened = False
            self._gui.destroyWindow(self.title)
            self._gui.waitKey(1)  # lets the toolkit actually remove the window


class ImageSink(_SinkBase):
    """Writes the last frame it gets to an image file, atomically, with the source's alpha put back.

    Args:
        target: output image path (.png keeps transparency).
        inputs: files the target must not be.
    """

    def __init__(self, target: str | os.PathLike[str], *, inputs: Sequence[str | os.PathLike[str]] = ()) -> None:
        check_image_suffix(target)
        self.target = check_output_path(target, inputs=inputs)
        self._inputs = list(inputs)
        self._frame: Frame | None = None

    def write(self, frame: Frame) -> None:
        self._frame = frame

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None and self._frame is not None:
            with atomic_output(self.target, inputs=self._inputs) as temp:
                write_image(temp, self._frame.image, self._frame.alpha)

"""The live preview window: frames with an overlay (FPS, latency, style, smoothing) and hotkeys.

The window sink handles the keys about the window itself (quit, pause, fullscreen, help, overlay)
and hands every other key to its ``controls`` (:class:`~stylecam.runtime.live.controls.LiveControls`: style,
smoothing, view). All HighGUI calls go through the injected ``gui`` module, so tests drive it
with a fake one and no display.

The window is the picture alone: no Qt toolbar or status bar (``WINDOW_GUI_NORMAL``), the aspect
ratio kept when it is resized, opened at the frame's size shrunk to fit the screen. The overlay's
text is sized for the size the picture is shown at, so it reads the same in a small window and in
full screen.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import deque
from collections.abc import Callable
from types import ModuleType
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from stylecam.errors import UsageError
from stylecam.runtime.live.hotkeys import WINDOW_KEYS
from stylecam.runtime.live.overlay import display_font_scale, draw_panel
from stylecam.runtime.live.screen import fit_to_screen, gui_backend, prepare_qt, screen_size
from stylecam.runtime.media.sources import Frame
from stylecam.runtime.metrics import FPSMeter

log = logging.getLogger(__name__)

QUIT_KEYS = {ord("q"), ord("Q"), 27}  # q, Q, Esc
TOAST_SECONDS = 2.0  # how long a hotkey's confirmation stays on screen
PAUSE_POLL_MS = 30
# A plain resizable window: no Qt toolbar/status bar, letterboxed instead of stretched.
WINDOW_FLAGS = cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL

# The HighGUI module windows are drawn with when given none (tests and embedders may replace it).
default_gui: ModuleType | Any = cv2


class WindowControls(Protocol):
    """What the window needs from the stage it controls."""

    hotkeys: tuple[tuple[str, str], ...]

    def on_key(self, key: str) -> str | None: ...

    def status_lines(self) -> list[str]: ...


def display_problem(environ: dict[str, str] | None = None, platform: str | None = None) -> str | None:
    """Why no window can be shown here (None when a display is available)."""
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if platform.startswith("linux") and not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        return "no display to open a window on (DISPLAY is not set: a headless machine or an SSH session?)"
    return None


class WindowSink:
    """Shows frames in an OpenCV window with an overlay; see the module doc for the keys.

    Args:
        title: window title (the live frame rate is appended).
        gui: the module providing OpenCV's HighGUI calls (default: :data:`default_gui`, i.e. cv2).
        controls: the stage that style/smoothing/view keys go to (None: window keys only).
        overlay: start with the info overlay shown (``i`` toggles it).
        screen: returns the screen's (width, height) or None (default: asked of the windowing system
            when ``gui`` is OpenCV, else None: the window opens at the frame's size).
    """

    threaded = False

    def __init__(
        self,
        title: str = "stylecam",
        *,
        gui: ModuleType | Any | None = None,
        controls: WindowControls | None = None,
        overlay: bool = True,
        screen: Callable[[], tuple[int, int] | None] | None = None,
    ) -> None:
        self.title = title
        self._gui = default_gui if gui is None else gui
        self._screen = screen if screen is not None else (screen_size if self._gui is cv2 else lambda: None)
        self._sized = False
        self.controls = controls
        self._opened = False
        self._meter = FPSMeter(window=30)
        self._latency_ms: deque[float] = deque(maxlen=30)
        self._last_title = 0.0
        self.frames = 0
        self.stop_requested = False
        self.paused = False
        self.fullscreen = False
        self.show_help = False
        self.show_info = overlay
        self.toast: tuple[str, float] | None = None  # (message, shown until)
        self.shown: npt.NDArray[np.uint8] | None = None  # the last image handed to imshow

    def __enter__(self) -> WindowSink:
        problem = display_problem() if self._gui is cv2 else None
        if problem is None:
            if self._gui is cv2:
                prepare_qt(gui_backend(cv2.getBuildInformation()))  # before Qt starts with the first window
            try:
                self._gui.namedWindow(self.title, WINDOW_FLAGS)
                self._opened = True
            except cv2.error as exc:
                problem = f"OpenCV cannot open a window ({str(exc).strip().splitlines()[-1]})"
        if problem is not None:
            raise UsageError(f"{problem}; write a file with --output out.mp4, or add --no-window")
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- frames ----------------------------------------------------------------------------------
    def write(self, frame: Frame) -> None:
        """Show one frame, handle the keys pressed meanwhile; blocks while paused."""
        self.frames += 1
        fps = self._meter.tick()
        if frame.captured is not None:
            self._latency_ms.append(max(0.0, (time.monotonic() - frame.captured) * 1000.0))
        self._show(frame.image)
        self._handle(self._gui.waitKey(1))
        while self.paused and not self.stop_requested:
            self._show(frame.image)
            self._handle(self._gui.waitKey(PAUSE_POLL_MS))
        self._update_title(fps)

    @property
    def latency_ms(self) -> float | None:
        """Median capture-to-display latency over the last 30 frames (None before the first)."""
        return float(np.median(self._latency_ms)) if self._latency_ms else None

    def overlay_lines(self) -> list[str]:
        """The info overlay's text, as drawn on the next frame."""
        if self.show_help:
            keys = WINDOW_KEYS + (self.controls.hotkeys if self.controls is not None else ())
            return [f"{key}\t{action}" for key, action in keys]
        lines: list[str] = []
        if self.show_info:
            latency = self.latency_ms
            timing = f"{self._meter.fps:.1f} fps" + (f" | latency {latency:.0f} ms" if latency is not None else "")
            lines = [timing, *(self.controls.status_lines() if self.controls is not None else []), "h: help"]
        if self.paused:
            lines.append("PAUSED (space resumes)")
        if self.toast is not None and time.monotonic() < self.toast[1]:
            lines.append(self.toast[0])
        return lines

    def _show(self, image: npt.NDArray[np.uint8]) -> None:
        height, width = image.shape[:2]
        if not self._sized:  # the first frame sets the window's size; the user may change it after
            self._gui.resizeWindow(self.title, *fit_to_screen(width, height, self._screen()))
            self._sized = True
        scale = display_font_scale(height, self.shown_height())
        self.shown = draw_panel(image, self.overlay_lines(), scale=scale)
        self._gui.imshow(self.title, self.shown)

    def shown_height(self) -> int | None:
        """The height the picture is shown at now (window size, full screen), None if the toolkit cannot say."""
        try:
            _x, _y, _width, height = self._gui.getWindowImageRect(self.title)
        except cv2.error:  # a backend without the call
            return None
        return int(height) if height > 0 else None

    # -- keys ------------------------------------------------------------------------------------
    def _handle(self, key: int) -> None:
        if key == -1:
            if self._gui.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1:
                self.stop_requested = True  # closed with the window's own button
            return
        code = key & 0xFF
        char = chr(code)
        if code in QUIT_KEYS:
            self.stop_requested = True
        elif char == " ":
            self.paused = not self.paused
        elif char in ("f", "F"):
            self.fullscreen = not self.fullscreen
            mode = cv2.WINDOW_FULLSCREEN if self.fullscreen else cv2.WINDOW_NORMAL
            self._gui.setWindowProperty(self.title, cv2.WND_PROP_FULLSCREEN, mode)
        elif char in ("h", "H"):
            self.show_help = not self.show_help
        elif char in ("i", "I"):
            self.show_info = not self.show_info
        elif self.controls is not None:
            message = self.controls.on_key(char)
            if message:
                self.toast = (message, time.monotonic() + TOAST_SECONDS)
                log.info("%s", message)

    def _update_title(self, fps: float) -> None:
        now = time.monotonic()
        if fps > 0 and now - self._last_title >= 0.5:  # retitling every frame makes some toolkits flicker
            self._gui.setWindowTitle(self.title, f"{self.title}: {fps:.1f} fps (h: help, q or Esc quits)")
            self._last_title = now

    def close(self) -> None:
        """Close the window (idempotent)."""
        if self._opened:
            self._opened = False
            self._gui.destroyWindow(self.title)
            self._gui.waitKey(1)  # lets the toolkit actually remove the window

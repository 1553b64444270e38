"""What the live window needs to know about the desktop: the screen's size and a quiet Qt.

OpenCV's HighGUI cannot say how big the screen is, so the size is asked of the windowing system
directly (Xlib on Linux, user32 on Windows) through ctypes; where neither answers, the window
simply opens at the frame's own size. The opencv-python wheels carry a Qt without fonts, and Qt
then prints "QFontDatabase: Cannot find font directory ..." on every window: pointing
``QT_QPA_FONTDIR`` at the system's fonts (when the user has not set it) silences exactly that,
and no other Qt message is hidden.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import logging
import os
import sys
from collections.abc import MutableMapping
from pathlib import Path

log = logging.getLogger(__name__)

# Fonts Qt can use, best first; the first folder holding .ttf files directly is taken (Qt's own font
# database does not search sub-folders).
FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/truetype/liberation",
    "/usr/share/fonts/truetype/noto",
)
FONT_GLOB = "/usr/share/fonts/**/*.ttf"
# The share of the screen a window may take when it opens (room for panels and the title bar).
SCREEN_SHARE = 0.9


def screen_size() -> tuple[int, int] | None:
    """(width, height) of the primary screen in pixels, or None when it cannot be asked."""
    try:
        if sys.platform.startswith("win"):
            user32 = ctypes.windll.user32  # type: ignore[attr-defined]
            return int(user32.GetSystemMetrics(0)), int(user32.GetSystemMetrics(1))
        if sys.platform.startswith("linux") and os.environ.get("DISPLAY"):
            return _x11_screen_size()
    except (OSError, AttributeError) as exc:  # no Xlib, or a display that went away
        log.debug("cannot ask the screen size: %s", exc)
    return None


def _x11_screen_size() -> tuple[int, int] | None:
    name = ctypes.util.find_library("X11")
    if not name:
        return None
    xlib = ctypes.CDLL(name)
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XDefaultScreen.argtypes = [ctypes.c_void_p]
    xlib.XDisplayWidth.argtypes = [ctypes.c_void_p, ctypes.c_int]
    xlib.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    display = xlib.XOpenDisplay(None)
    if not display:
        return None
    try:
        screen = xlib.XDefaultScreen(display)
        return int(xlib.XDisplayWidth(display, screen)), int(xlib.XDisplayHeight(display, screen))
    finally:
        xlib.XCloseDisplay(display)


def fit_to_screen(width: int, height: int, screen: tuple[int, int] | None) -> tuple[int, int]:
    """The window size for a ``width`` x ``height`` frame: its own size, shrunk (aspect kept) to fit the screen."""
    if screen is None:
        return width, height
    room_w, room_h = screen[0] * SCREEN_SHARE, screen[1] * SCREEN_SHARE
    factor = min(1.0, room_w / width, room_h / height)
    return max(1, round(width * factor)), max(1, round(height * factor))


def system_font_dir(candidates: tuple[str, ...] | None = None, pattern: str | None = None) -> str | None:
    """A folder of TrueType fonts for Qt (:data:`FONT_DIRS` first, then any), or None when the system has none."""
    for folder in FONT_DIRS if candidates is None else candidates:
        if glob.glob(os.path.join(folder, "*.ttf")):
            return folder
    found = next(iter(sorted(glob.glob(pattern or FONT_GLOB, recursive=True))), None)
    return str(Path(found).parent) if found else None


def prepare_qt(gui_backend: str, environ: MutableMapping[str, str] | None = None) -> None:
    """Give OpenCV's Qt a font folder before its first window (Linux Qt builds, QT_QPA_FONTDIR unset)."""
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux") or "QT" not in gui_backend.upper() or env.get("QT_QPA_FONTDIR"):
        return
    folder = system_font_dir()
    if folder is None:
        log.debug("no system fonts found for Qt: it will warn that it has none (install fonts-dejavu-core)")
        return
    env["QT_QPA_FONTDIR"] = folder


def gui_backend(build_information: str) -> str:
    """The GUI line of ``cv2.getBuildInformation()`` (``QT5``, ``GTK3``, ``WIN32UI``, ``NONE`` ...)."""
    for line in build_information.splitlines():
        if line.strip().startswith("GUI:"):
            return line.split(":", 1)[1].strip()
    return ""

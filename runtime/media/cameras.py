"""Camera devices: the capture interface, opening with OpenCV, and which cameras work.

Finding the cameras that work is what turns "camera 3 cannot be opened" into a message that
also says "cameras that work: 0, 2".
"""

from __future__ import annotations

import glob
import logging
import re
import sys
from collections.abc import Callable
from typing import Any, Protocol

import cv2

from stylecam.errors import SourceError

log = logging.getLogger(__name__)


class Capture(Protocol):
    """The part of ``cv2.VideoCapture`` a camera source uses (tests pass a fake)."""

    def isOpened(self) -> bool: ...  # OpenCV's camelCase name

    def read(self) -> tuple[bool, Any]: ...

    def get(self, prop: int) -> float: ...

    def set(self, prop: int, value: float) -> bool: ...

    def release(self) -> None: ...


CaptureFactory = Callable[[int | str], Capture]


def opencv_capture(device: int | str) -> Capture:
    """Open a camera with OpenCV (V4L2 on Linux, the platform default elsewhere)."""
    backend = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
    if not log.isEnabledFor(logging.DEBUG):
        # OpenCV prints its own "[ WARN ...] can't open camera by index" lines to stderr; our error
        # says it in one line and lists the cameras that work (--debug keeps OpenCV's diagnostics).
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    return cv2.VideoCapture(device, backend)


def _candidate_devices(factory: CaptureFactory) -> list[int]:
    if factory is opencv_capture and sys.platform.startswith("linux"):
        found = (re.fullmatch(r"/dev/video(\d+)", path) for path in glob.glob("/dev/video*"))
        return sorted(int(m.group(1)) for m in found if m)
    return list(range(8))


def list_cameras(factory: CaptureFactory = opencv_capture, *, exclude: set[int | str] = frozenset()) -> list[int]:
    """Indices of the cameras that open and deliver a frame (used to say which ones work)."""
    working = []
    for index in _candidate_devices(factory):
        if index in exclude:
            continue
        capture = factory(index)
        try:
            if capture.isOpened() and capture.read()[0]:
                working.append(index)
        finally:
            capture.release()
    return working


def cannot_open(device: int | str, factory: CaptureFactory, why: str) -> SourceError:
    """The error for a camera that does not work, listing the ones that do."""
    others = list_cameras(factory, exclude={device})
    if others:
        choice = ", ".join(str(i) for i in others)
        return SourceError(f"camera {device} {why}; cameras that work: {choice} (e.g. --source {others[0]})")
    return SourceError(
        f"camera {device} {why}, and no other camera works on this machine; connect one, close programs "
        "using it, or convert a file instead (--source in.mp4)"
    )

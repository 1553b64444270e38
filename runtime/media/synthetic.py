"""A simulated camera with a moving test pattern, behind the ``cv2.VideoCapture`` interface.

Used by the soak benchmark and the camera tests: real-time paced frames, a declared frame rate
that can differ from the real one, and switches to unplug it, make it busy or change its
resolution while a run is going.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt


@dataclass
class SyntheticCamera:
    """One simulated device. Flip ``plugged``/``busy`` or call :meth:`resize` from any thread."""

    width: int = 640
    height: int = 480
    fps: float = 30.0  # the rate frames really arrive at
    declared_fps: float | None = None  # what the camera claims (None: the truth)
    plugged: bool = True
    busy: bool = False  # opens, but read() fails (how a camera in use elsewhere behaves on V4L2)
    frames_served: int = 0
    opens: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def resize(self, width: int, height: int) -> None:
        """Change the resolution mid-stream (as some cameras do when light or settings change)."""
        with self._lock:
            self.width, self.height = width, height

    def pattern(self, index: int) -> npt.NDArray[np.uint8]:
        """Frame ``index``: colour gradients with a bright square sliding across."""
        with self._lock:
            width, height = self.width, self.height
        y, x = np.ogrid[0:height, 0:width]
        shift = index * 4
        blue = ((x + shift) * 255 // max(width, 1)) % 256
        green = (y * 255 // max(height, 1)) + np.zeros_like(x)
        red = ((x + y + 2 * shift) % 256) + np.zeros_like(y)
        image = np.dstack([np.broadcast_to(blue, (height, width)), green, red]).astype(np.uint8)
        side = max(4, min(width, height) // 6)
        left = (shift * 2) % max(1, width - side)
        cv2.rectangle(image, (left, height // 3), (left + side, height // 3 + side), (255, 255, 255), -1)
        return image


class SyntheticCapture:
    """A ``cv2.VideoCapture`` look-alike over a :class:`SyntheticCamera`, paced in real time."""

    def __init__(self, camera: SyntheticCamera | None) -> None:
        self.camera = camera
        self._open = camera is not None and camera.plugged
        self._next = time.monotonic()
        if camera is not None and self._open:
            camera.opens += 1

    def isOpened(self) -> bool:  # OpenCV's camelCase name
        return self._open

    def read(self) -> tuple[bool, Any]:
        camera = self.camera
        if camera is None or not self._open or not camera.plugged or camera.busy:
            time.sleep(0.01)  # a failing read still takes a moment, as with a real driver
            return False, None
        now = time.monotonic()
        if self._next > now:
            time.sleep(self._next - now)
        self._next = max(self._next, now) + 1.0 / camera.fps
        image = camera.pattern(camera.frames_served)
        camera.frames_served += 1
        return True, image

    def get(self, prop: int) -> float:
        camera = self.camera
        if camera is None:
            return 0.0
        if prop == cv2.CAP_PROP_FRAME_WIDTH:
            return float(camera.width)
        if prop == cv2.CAP_PROP_FRAME_HEIGHT:
            return float(camera.height)
        if prop == cv2.CAP_PROP_FPS:
            return float(camera.declared_fps if camera.declared_fps is not None else camera.fps)
        return 0.0

    def set(self, prop: int, value: float) -> bool:
        camera = self.camera
        if camera is None:
            return False
        if prop == cv2.CAP_PROP_FRAME_WIDTH:
            camera.resize(int(value), camera.height)
        elif prop == cv2.CAP_PROP_FRAME_HEIGHT:
            camera.resize(camera.width, int(value))
        else:
            return False
        return True

    def release(self) -> None:
        self._open = False


class SyntheticCameraBus:
    """A set of simulated devices by index; :meth:`open` is a ``capture_factory`` for WebcamSource."""

    def __init__(self, cameras: dict[int | str, SyntheticCamera] | None = None) -> None:
        self.cameras = dict(cameras if cameras is not None else {0: SyntheticCamera()})

    def open(self, device: int | str) -> SyntheticCapture:
        return SyntheticCapture(self.cameras.get(device))

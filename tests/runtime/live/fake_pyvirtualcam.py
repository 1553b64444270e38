"""A stand-in for the pyvirtualcam module: records what a real one would send, or fails like one without a backend."""

from __future__ import annotations

import enum
import types
from typing import Any

import numpy as np


def make(*, backend: bool = True) -> Any:
    """A fake ``pyvirtualcam`` module; ``backend=False`` fails to open as on a machine without v4l2loopback."""
    module: Any = types.ModuleType("pyvirtualcam")
    module.__version__ = "0.0-fake"
    module.PixelFormat = enum.Enum("PixelFormat", "RGB BGR I420")
    module.cameras = []

    class Camera:
        def __init__(self, width: int, height: int, fps: float, *, fmt: Any = None, print_fps: bool = False) -> None:
            if not backend:
                raise RuntimeError(
                    "'v4l2loopback' backend: No v4l2 loopback device found at /dev/video[0-99]. "
                    "Did you run 'modprobe v4l2loopback'?"
                )
            self.width, self.height, self.fps, self.fmt = width, height, fps, fmt
            self.device = "/dev/video7"
            self.sent: list[np.ndarray] = []
            self.closed = False
            module.cameras.append(self)

        def send(self, frame: np.ndarray) -> None:
            assert not self.closed and frame.shape == (self.height, self.width, 3) and frame.dtype == np.uint8
            self.sent.append(frame.copy())

        def close(self) -> None:
            self.closed = True

        def __enter__(self) -> Camera:
            return self

        def __exit__(self, *exc: object) -> None:
            self.close()

    module.Camera = Camera
    return module

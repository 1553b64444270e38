"""The painted frames as a virtual camera (pyvirtualcam), so video-call apps can pick "stylecam".

pyvirtualcam is optional (``pip install 'stylecam[vcam]'``) and needs a backend: the v4l2loopback
kernel module on Linux, OBS Studio's virtual camera on Windows and macOS. Where there is none,
opening fails with one error naming how to get one. The camera gets exactly what the pipeline
made, never the window's overlay.
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from stylecam.errors import DependencyError
from stylecam.runtime.media.sources import Frame

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'stylecam[vcam]'"
BACKEND_HINT = (
    "on Linux load v4l2loopback (sudo apt install v4l2loopback-dkms && "
    "sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label=stylecam); "
    "on Windows or macOS install OBS Studio and start its Virtual Camera once"
)
DEFAULT_FPS = 30.0


def import_pyvirtualcam() -> ModuleType:
    """The pyvirtualcam module; DependencyError naming the extra when it is not installed."""
    try:
        return importlib.import_module("pyvirtualcam")
    except ImportError as exc:
        raise DependencyError(f"--virtual-camera needs pyvirtualcam (not installed): {INSTALL_HINT}") from exc


def open_virtual_camera(width: int, height: int, fps: float, *, module: ModuleType | None = None) -> Any:
    """A ``pyvirtualcam.Camera`` taking BGR frames; DependencyError naming the fix when there is no backend."""
    pyvirtualcam = module or import_pyvirtualcam()
    try:
        return pyvirtualcam.Camera(
            width=width, height=height, fps=fps, fmt=pyvirtualcam.PixelFormat.BGR, print_fps=False
        )
    except (RuntimeError, OSError, ValueError) as exc:  # pyvirtualcam says "no backend/device" with these
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DependencyError(f"no virtual camera to send to ({reason}); {BACKEND_HINT}") from exc


class VirtualCameraSink:
    """Sends frames to a virtual camera of a fixed size (frames of another size are resized).

    Args:
        width, height: the camera's frame size (the source's).
        fps: the rate the camera announces (the source's, else 30).
        module: the pyvirtualcam module (tests give a fake one).
    """

    threaded = False
    stop_requested = False

    def __init__(self, width: int, height: int, fps: float | None = None, *, module: ModuleType | None = None) -> None:
        self.size = (width, height)
        self.camera: Any = open_virtual_camera(width, height, fps or DEFAULT_FPS, module=module)
        self.device = str(getattr(self.camera, "device", "virtual camera"))
        self.frames = 0
        log.info("sending to virtual camera %s (%dx%d)", self.device, width, height)

    def write(self, frame: Frame) -> None:
        image: npt.NDArray[np.uint8] = frame.image
        if (image.shape[1], image.shape[0]) != self.size:
            image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
        self.camera.send(np.ascontiguousarray(image))
        self.frames += 1

    def close(self) -> None:
        """Release the device (idempotent): video apps see the camera stop."""
        camera, self.camera = self.camera, None
        if camera is not None:
            camera.close()

    def __enter__(self) -> VirtualCameraSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class VirtualCameraTee:
    """Another sink (the window, a recording, or nothing) plus a virtual camera.

    Everything the run asks of a sink (``threaded``, ``stop_requested``, ``window``, ``audio``,
    ``source_complete``) is the other sink's; the camera gets each frame after it.
    """

    def __init__(self, sink: Any, camera: VirtualCameraSink) -> None:
        object.__setattr__(self, "sink", sink)
        object.__setattr__(self, "camera", camera)

    @property
    def threaded(self) -> bool:
        return bool(self.sink.threaded)

    @property
    def stop_requested(self) -> bool:
        return bool(self.sink.stop_requested)

    @property
    def window(self) -> Any:
        """The window the live controls attach to (the sink's own, or the sink itself)."""
        return getattr(self.sink, "window", self.sink)

    def __getattr__(self, name: str) -> Any:  # audio, source_complete, ... of the other sink
        return getattr(self.sink, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.sink, name, value)  # e.g. source_complete, which the recording needs

    def write(self, frame: Frame) -> None:
        self.sink.write(frame)
        self.camera.write(frame)

    def __enter__(self) -> VirtualCameraTee:
        self.sink.__enter__()
        return self

    def __exit__(self, *exc: Any) -> Any:
        try:
            return self.sink.__exit__(*exc)
        finally:
            self.camera.close()


def with_virtual_camera(sink: Any, width: int, height: int, fps: float | None) -> VirtualCameraTee:
    """``sink`` plus a virtual camera of the source's size (opened now: a missing backend fails early)."""
    return VirtualCameraTee(sink, VirtualCameraSink(width, height, fps))

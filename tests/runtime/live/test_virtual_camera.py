"""The virtual camera sink, with a fake pyvirtualcam: what it sends, and the one error where no backend exists."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from stylecam.errors import DependencyError
from stylecam.runtime.live.virtual_camera import VirtualCameraSink, VirtualCameraTee, open_virtual_camera
from stylecam.runtime.media.sources import Frame
from stylecam.runtime.pipeline.sinks import NullSink
from tests.conftest import make_photo
from tests.runtime.live import fake_pyvirtualcam


def _frame(width: int = 64, height: int = 48, index: int = 0) -> Frame:
    return Frame(image=make_photo(height, width, seed=index), index=index, time=index / 30)


def test_frames_go_to_the_camera_in_bgr_and_at_its_size() -> None:
    module = fake_pyvirtualcam.make()
    with VirtualCameraSink(64, 48, 25.0, module=module) as sink:
        sink.write(_frame())
        sink.write(_frame(128, 96, index=1))  # a frame of another size is resized, not refused
    (camera,) = module.cameras
    assert (camera.width, camera.height, camera.fps, camera.fmt) == (64, 48, 25.0, module.PixelFormat.BGR)
    assert len(camera.sent) == 2 and np.array_equal(camera.sent[0], _frame().image)
    assert camera.closed and sink.frames == 2 and sink.device == "/dev/video7"


def test_no_frame_rate_known_announces_30() -> None:
    module = fake_pyvirtualcam.make()
    VirtualCameraSink(64, 48, None, module=module).close()
    assert module.cameras[0].fps == 30.0


def test_no_backend_is_one_error_naming_the_fix() -> None:
    with pytest.raises(DependencyError) as error:
        open_virtual_camera(64, 48, 30, module=fake_pyvirtualcam.make(backend=False))
    message = str(error.value)
    assert "\n" not in message and message.startswith("no virtual camera to send to ('v4l2loopback' backend")
    assert "sudo modprobe v4l2loopback devices=1" in message and "OBS Studio" in message


def test_without_pyvirtualcam_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyvirtualcam", None)  # an import of it now fails
    with pytest.raises(DependencyError, match=r"needs pyvirtualcam \(not installed\): pip install 'stylecam\[vcam\]'"):
        VirtualCameraSink(64, 48, 30)


def test_the_tee_is_the_other_sink_to_the_run_and_feeds_the_camera() -> None:
    module = fake_pyvirtualcam.make()
    inner = NullSink()
    tee = VirtualCameraTee(inner, VirtualCameraSink(64, 48, 30, module=module))
    assert tee.window is inner and not tee.threaded and not tee.stop_requested
    with tee:
        for index in range(3):
            tee.write(_frame(index=index))
    assert inner.frames == 3 and len(module.cameras[0].sent) == 3 and module.cameras[0].closed
    assert tee.last is inner.last  # attributes read through
    tee.source_complete = True  # and written through (the recording's audio tail needs it)
    assert inner.source_complete is True  # type: ignore[attr-defined]


def test_the_camera_is_closed_when_the_other_sink_fails() -> None:
    class Failing(NullSink):
        def __exit__(self, *exc: object) -> None:
            raise OSError("disk full")

    module = fake_pyvirtualcam.make()
    with pytest.raises(OSError), VirtualCameraTee(Failing(), VirtualCameraSink(64, 48, 30, module=module)) as tee:
        tee.write(_frame())
    assert module.cameras[0].closed

"""WebcamSource against simulated cameras: newest frame, real rate, unplug, wrong index, busy, resize."""

from __future__ import annotations

import itertools
import logging
import os
import sys
import threading
import time
from typing import Any

import pytest

from stylecam.errors import SourceError
from stylecam.runtime.media.cameras import opencv_capture
from stylecam.runtime.media.synthetic import SyntheticCamera, SyntheticCameraBus
from stylecam.runtime.media.webcam import WebcamSource


def _source(bus: SyntheticCameraBus, device: int = 0, **options: Any) -> WebcamSource:
    options.setdefault("open_timeout", 2.0)
    options.setdefault("lost_timeout", 2.0)
    return WebcamSource(device, capture_factory=bus.open, **options)


def _later(seconds: float, action: Any) -> threading.Timer:
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


def test_slow_consumer_gets_the_newest_frame_and_stale_ones_are_dropped() -> None:
    camera = SyntheticCamera(width=64, height=48, fps=100)
    with _source(SyntheticCameraBus({0: camera})) as source:
        frames, served = [], []
        for frame in itertools.islice(source, 6):
            frames.append(frame)
            served.append(camera.frames_served)  # frames the camera had produced when this one was taken
            time.sleep(0.1)  # a slow stylizer: about 10 camera frames arrive meanwhile
    assert source.dropped >= 10  # about 50 on an idle machine; a loaded one still drops plenty
    gaps = [b.index - a.index for a, b in itertools.pairwise(frames)]
    assert min(gaps) >= 2  # never handed an old frame
    assert all(f.index >= n - 2 for f, n in zip(frames, served, strict=True))  # (nearly) the newest each time
    assert all(b.time > a.time for a, b in itertools.pairwise(frames))


def test_real_frame_rate_is_measured_when_the_camera_lies(caplog: pytest.LogCaptureFixture) -> None:
    camera = SyntheticCamera(width=32, height=24, fps=25, declared_fps=60)
    with caplog.at_level(logging.INFO), _source(SyntheticCameraBus({0: camera})) as source:
        for _ in itertools.islice(source, 20):
            pass
        info = source.info
    assert info.fps == 60
    assert info.measured_fps == pytest.approx(25, rel=0.25)
    assert info.best_fps == info.measured_fps
    assert "declared 60 fps but delivered" in caplog.text


def test_unplugged_camera_is_retried_and_resumes(caplog: pytest.LogCaptureFixture) -> None:
    camera = SyntheticCamera(width=32, height=24, fps=50)
    source = _source(SyntheticCameraBus({0: camera}), lost_timeout=5.0, max_backoff=0.2)
    with caplog.at_level(logging.WARNING), source:
        iterator = iter(source)
        next(iterator)
        camera.plugged = False
        timer = _later(0.6, lambda: setattr(camera, "plugged", True))
        started = time.monotonic()
        frame = next(iterator)
        while frame.time < started - source._t0 + 0.5:  # a frame captured after the reconnect
            frame = next(iterator)
        timer.join()
    assert "camera 0 lost, retrying" in caplog.text and "camera 0 is back" in caplog.text
    assert source.reconnects >= 1


def test_camera_that_never_comes_back_ends_with_an_error() -> None:
    camera = SyntheticCamera(width=32, height=24, fps=50)
    with _source(SyntheticCameraBus({0: camera}), lost_timeout=0.5, max_backoff=0.1) as source:
        iterator = iter(source)
        next(iterator)
        camera.plugged = False
        started = time.monotonic()
        with pytest.raises(SourceError, match=r"was lost and did not come back within 0\.5 s; check its cable"):
            for _ in iterator:
                pass
    assert time.monotonic() - started < 3.0


class _StuckCapture:
    """A driver that delivers one frame and then blocks inside read() forever."""

    def __init__(self) -> None:
        self.calls = 0
        self.release_event = threading.Event()

    def isOpened(self) -> bool:  # OpenCV's camelCase name
        return True

    def read(self) -> tuple[bool, Any]:
        self.calls += 1
        if self.calls == 1:
            return True, SyntheticCamera(width=32, height=24).pattern(0)
        self.release_event.wait(30)
        return False, None

    def get(self, prop: int) -> float:
        return 0.0

    def set(self, prop: int, value: float) -> bool:
        return False

    def release(self) -> None:
        self.release_event.set()


def test_camera_stuck_in_the_driver_never_hangs_the_program() -> None:
    stuck = _StuckCapture()
    source = WebcamSource(0, capture_factory=lambda device: stuck, lost_timeout=0.3)
    iterator = iter(source)
    next(iterator)
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"sent no frame for 2\.3 s and does not respond"):
        next(iterator)
    source.close()
    assert time.monotonic() - started < 6.0
    stuck.release_event.set()


@pytest.mark.parametrize(
    ("cameras", "device", "message"),
    [
        (
            {0: SyntheticCamera(32, 24), 2: SyntheticCamera(32, 24)},
            5,
            r"camera 5 cannot be opened .*; cameras that work: 0, 2 \(e.g. --source 0\)",
        ),
        ({}, 0, "camera 0 cannot be opened .*, and no other camera works on this machine"),
        (
            {0: SyntheticCamera(32, 24, busy=True), 1: SyntheticCamera(32, 24)},
            0,
            r"opened but sent no frame within 0.5 s \(busy in another program\?\); cameras that work: 1",
        ),
        ({1: SyntheticCamera(32, 24, plugged=False)}, 1, "no other camera works"),
    ],
    ids=["wrong-index", "no-camera", "busy", "unplugged"],
)
def test_cameras_that_cannot_open_list_the_ones_that_work(
    cameras: dict[int | str, SyntheticCamera], device: int, message: str
) -> None:
    started = time.monotonic()
    with pytest.raises(SourceError, match=message):
        _source(SyntheticCameraBus(cameras), device, open_timeout=0.5)
    assert time.monotonic() - started < 5.0


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.path.exists("/dev/video63"), reason="V4L2 test")
def test_real_opencv_open_of_a_missing_camera_prints_nothing_of_its_own(capfd: pytest.CaptureFixture[str]) -> None:
    """OpenCV's own '[ WARN ] can't open camera by index' lines would break the one-line error."""
    capture = opencv_capture(63)
    try:
        assert not capture.isOpened()
    finally:
        capture.release()
    assert "WARN" not in capfd.readouterr().err


def test_resolution_change_mid_stream_is_passed_on(caplog: pytest.LogCaptureFixture) -> None:
    camera = SyntheticCamera(width=64, height=48, fps=60)
    with caplog.at_level(logging.WARNING), _source(SyntheticCameraBus({0: camera})) as source:
        shapes = []
        for count, frame in enumerate(source):
            shapes.append(frame.image.shape)
            if count == 3:
                camera.resize(80, 40)
            if frame.image.shape == (40, 80, 3) or count > 60:
                break
        info = source.info
    assert shapes[0] == (48, 64, 3) and shapes[-1] == (40, 80, 3)
    assert (info.width, info.height) == (80, 40)
    assert "changed resolution 64x48 -> 80x40" in caplog.text


def test_requested_mode_and_max_size_apply() -> None:
    camera = SyntheticCamera(width=640, height=480, fps=60)
    with _source(SyntheticCameraBus({0: camera}), width=320, height=240, max_size=160) as source:
        frame = next(iter(source))
    assert frame.image.shape == (120, 160, 3)
    assert (camera.width, camera.height) == (320, 240)

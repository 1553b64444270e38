"""Pacing a file to its frame rate (stylecam live on a video), with a fake clock."""

from __future__ import annotations

import threading

import pytest

from stylecam.runtime.pipeline.pacing import Pacer
from stylecam.runtime.pipeline.sinks import NullSink
from stylecam.runtime.pipeline.threaded import run
from tests.runtime.pipeline.test_pipeline import ListSource


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _pacer(clock: FakeClock, **kwargs: float) -> Pacer:
    return Pacer(clock=clock, sleep=clock.sleep, **kwargs)


def test_frames_are_released_at_their_media_time() -> None:
    clock = FakeClock()
    pacer = _pacer(clock)
    released = []
    for index in range(5):
        pacer.wait(index / 25)
        released.append(round(clock.now - 100.0, 6))
        clock.now += 0.01  # the frame took 10 ms to read
    assert released == [0.0, 0.04, 0.08, 0.12, 0.16]
    assert pacer.restarts == 0


def test_a_late_frame_is_not_waited_for_and_a_slow_pipeline_does_not_rush_to_catch_up() -> None:
    clock = FakeClock()
    pacer = _pacer(clock, max_lag=0.25)
    pacer.wait(0.0)
    clock.now += 0.1  # frame 1 (due at 0.04) is 60 ms late: shown at once, schedule kept
    assert pacer.wait(0.04) == 0.0 and pacer.restarts == 0
    clock.now += 1.0  # the window was paused for a second: 1 s behind
    assert pacer.wait(0.08) == 0.0 and pacer.restarts == 1
    assert pacer.wait(0.12) == pytest.approx(0.04)  # then 25 fps again from there, no burst


@pytest.mark.parametrize("jump", [-5.0, 60.0])
def test_timestamp_jumps_restart_the_schedule_instead_of_waiting(jump: float) -> None:
    clock = FakeClock()
    pacer = _pacer(clock, max_wait=5.0)
    pacer.wait(10.0)
    assert pacer.wait(10.0 + jump) == 0.0 and pacer.restarts == 1
    assert pacer.wait(10.0 + jump + 0.5) == pytest.approx(0.5)


def test_a_stop_request_ends_the_wait() -> None:
    clock = FakeClock()
    stop = threading.Event()

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        stop.set()  # Ctrl-C arrives during the first slice

    pacer = Pacer(clock=clock, sleep=sleep)
    pacer.wait(0.0)
    assert pacer.wait(2.0, stop) == pytest.approx(0.05)


def test_the_pipeline_paces_a_file_source_without_dropping_frames() -> None:
    clock = FakeClock()
    sink = NullSink()
    summary = run(ListSource(12), lambda image: image, sink, progress=False, pacer=_pacer(clock))
    assert summary.frames_out == 12 and summary.dropped == 0
    assert sum(clock.slept) == pytest.approx(1.1)  # 12 frames at 10 fps: 11 intervals of 0.1 s

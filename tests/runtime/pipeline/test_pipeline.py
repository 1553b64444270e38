"""The threaded pipeline: order, back-pressure, dropping on live sources, errors and Ctrl-C."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from stylecam.errors import SourceError
from stylecam.runtime.media.sources import Frame
from stylecam.runtime.media.synthetic import SyntheticCamera, SyntheticCameraBus
from stylecam.runtime.media.video_file import VideoFileSource
from stylecam.runtime.media.video_info import VideoInfo
from stylecam.runtime.media.webcam import WebcamSource
from stylecam.runtime.pipeline.sinks import NullSink
from stylecam.runtime.pipeline.threaded import run
from tests.runtime.clips import write_clip


class ListSource:
    """Frames from a list; can fail at a frame, stall, or change size half way."""

    name = "test source"
    dropped = 0
    corrupt = 0

    def __init__(
        self,
        count: int = 12,
        *,
        live: bool = False,
        fail_at: int | None = None,
        stall_at: int | None = None,
        known_total: bool = True,
    ) -> None:
        self.count, self.live, self.fail_at, self.stall_at = count, live, fail_at, stall_at
        self.info = VideoInfo(width=16, height=8, frame_count=count if known_total else None)
        self.closed = threading.Event()

    def __iter__(self) -> Iterator[Frame]:
        for index in range(self.count):
            if index == self.fail_at:
                raise SourceError(f"damaged at frame {index}")
            if index == self.stall_at:
                self.closed.wait(10)
                return
            image = np.full((8, 16, 3), index, np.uint8)
            if index >= self.count // 2 and self.count > 20:
                image = np.full((10, 20, 3), index, np.uint8)
            yield Frame(image=image, index=index, time=index / 10)

    def close(self) -> None:
        self.closed.set()


class SlowSink(NullSink):
    threaded = True

    def __init__(self, delay: float = 0.0, fail_at: int | None = None) -> None:
        super().__init__()
        self.delay, self.fail_at, self.seen = delay, fail_at, []

    def write(self, frame: Frame) -> None:
        if frame.index == self.fail_at:
            raise OSError(28, "No space left on device")
        time.sleep(self.delay)
        self.seen.append((frame.index, int(frame.image[0, 0, 0])))
        super().write(frame)


def _pipeline_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name in ("stylecam-reader", "stylecam-writer")]


def invert(image: np.ndarray) -> np.ndarray:
    return 255 - image


def test_file_source_keeps_every_frame_in_order_under_back_pressure() -> None:
    sink = SlowSink(delay=0.01)
    summary = run(ListSource(30), invert, sink, queue_size=2, progress=False)
    assert sink.seen == [(i, 255 - i) for i in range(30)]
    assert (summary.frames_in, summary.frames_out, summary.dropped, summary.stopped_by) == (30, 30, 0, "end")
    assert summary.fps > 0 and not _pipeline_threads()


def test_real_video_file_through_the_pipeline(tmp_path: Path) -> None:
    path = write_clip(tmp_path / "clip.mp4", frames=10)
    sink = SlowSink()
    summary = run(VideoFileSource(path), invert, sink, smooth=lambda src, out: out, progress=False)
    assert [index for index, _ in sink.seen] == list(range(10)) and summary.corrupt == 0


def test_live_source_drops_stale_frames_and_stays_fresh() -> None:
    camera = SyntheticCamera(width=32, height=24, fps=120)
    source = WebcamSource(0, capture_factory=SyntheticCameraBus({0: camera}).open)

    def slow(image: np.ndarray) -> np.ndarray:
        time.sleep(0.05)  # about 6 camera frames arrive meanwhile
        return image

    sink = SlowSink()
    summary = run(source, slow, sink, max_frames=10, progress=False)
    assert summary.frames_out == 10 and summary.stopped_by == "frames"
    assert summary.dropped >= 10
    indices = [index for index, _ in sink.seen]
    assert indices == sorted(indices) and indices[-1] - indices[0] > 10
    assert not _pipeline_threads()


def test_size_change_resets_the_smoother() -> None:
    resets = []

    class Smoother:
        def __call__(self, source: np.ndarray, stylized: np.ndarray) -> np.ndarray:
            return stylized

        def reset(self) -> None:
            resets.append(True)

    run(ListSource(24), invert, SlowSink(), smooth=Smoother(), progress=False)
    assert resets == [True]


def test_source_error_reaches_the_caller_and_threads_end() -> None:
    sink = SlowSink()
    with pytest.raises(SourceError, match="damaged at frame 5"):
        run(ListSource(12, fail_at=5), invert, sink, progress=False)
    written = [index for index, _ in sink.seen]
    assert written == list(range(len(written))) and len(written) <= 5  # nothing after the damage
    assert not _pipeline_threads()


def test_stylize_error_reaches_the_caller_and_threads_end() -> None:
    def broken(image: np.ndarray) -> np.ndarray:
        if image[0, 0, 0] == 3:
            raise ValueError("inference failed")
        return image

    with pytest.raises(ValueError, match="inference failed"):
        run(ListSource(40), broken, SlowSink(delay=0.01), queue_size=2, progress=False)
    assert not _pipeline_threads()


def test_writer_error_reaches_the_caller_even_with_the_reader_blocked() -> None:
    with pytest.raises(OSError, match="No space left"):
        run(ListSource(200), invert, SlowSink(fail_at=2), queue_size=2, progress=False)
    assert not _pipeline_threads()


def test_ctrl_c_stops_both_threads() -> None:
    def interrupted(image: np.ndarray) -> np.ndarray:
        if image[0, 0, 0] == 4:
            raise KeyboardInterrupt
        return image

    sink = SlowSink(delay=0.02)
    with pytest.raises(KeyboardInterrupt):
        run(ListSource(100), interrupted, sink, queue_size=4, progress=False)
    assert not _pipeline_threads()
    assert len(sink.seen) <= 4  # nothing is written after the interrupt


def test_stalled_source_is_reported_not_waited_on_forever() -> None:
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"delivered no frame for 0\.3 s"):
        run(ListSource(10, stall_at=3), invert, SlowSink(), progress=False, stall_timeout=0.3)
    assert time.monotonic() - started < 3 and not _pipeline_threads()


def test_user_stop_from_the_sink() -> None:
    class Quitter(NullSink):
        def write(self, frame: Frame) -> None:
            super().write(frame)
            self.stop_requested = frame.index == 2

    summary = run(ListSource(10), invert, Quitter(), progress=False)
    assert (summary.frames_out, summary.stopped_by) == (3, "user")


@pytest.mark.parametrize(("known_total", "shown"), [(True, "12/12"), (False, "12frame")])
def test_progress_shows_a_total_only_when_known(
    capsys: pytest.CaptureFixture[str], known_total: bool, shown: str
) -> None:
    run(ListSource(12, known_total=known_total), invert, SlowSink(), progress=True)
    err = capsys.readouterr().err
    assert shown in err.replace(" ", "")
    assert ("12/12" in err.replace(" ", "")) == known_total


def test_live_stream_keeps_only_the_newest_frame(tmp_path: Path) -> None:
    """A live stream (rtsp://...) is read as fast as it comes; a slow stylizer sees only fresh frames."""
    path = write_clip(tmp_path / "stream.mkv", frames=60, codec="mpeg4")

    def slow(image: np.ndarray) -> np.ndarray:
        time.sleep(0.02)
        return image

    sink = SlowSink()
    summary = run(VideoFileSource(path, live=True), slow, sink, progress=False)
    assert summary.dropped > 0 and summary.frames_out + summary.dropped == 60
    indices = [index for index, _ in sink.seen]
    assert indices == sorted(indices) and indices[-1] == 59  # the last frame is never dropped

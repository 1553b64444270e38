"""The flow thread: frames identical to the sequential pipeline, ordering, errors, Ctrl-C, stage times."""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterator

import numpy as np
import pytest

from stylecam.errors import SourceError
from stylecam.runtime.config import SmoothingConfig
from stylecam.runtime.media.sources import Frame
from stylecam.runtime.media.video_info import VideoInfo
from stylecam.runtime.pipeline.sinks import NullSink
from stylecam.runtime.pipeline.stages import StageTimes
from stylecam.runtime.pipeline.threaded import run
from stylecam.runtime.temporal.smoothing import TemporalSmoother
from tests.runtime.synthetic_clip import clean_style, flicker, make_clip

PIPELINE_THREADS = ("stylecam-reader", "stylecam-writer", "stylecam-flow")


class ClipSource:
    """The synthetic moving clip (exact motion, an occluding disc) as a file-like source; a cut at ``cut_at``."""

    name = "synthetic clip"
    live = False
    dropped = 0
    corrupt = 0

    def __init__(self, frames: int = 16, *, cut_at: int | None = None) -> None:
        self.images = [frame.source for frame in make_clip(frames=frames)]
        if cut_at is not None:
            self.images[cut_at:] = [255 - image for image in self.images[cut_at:]]
        height, width = self.images[0].shape[:2]
        self.info = VideoInfo(width=width, height=height, frame_count=frames)

    def __iter__(self) -> Iterator[Frame]:
        for index, image in enumerate(self.images):
            yield Frame(image=image, index=index, time=index / 25)

    def close(self) -> None:
        """Nothing to release."""


class Collect(NullSink):
    threaded = True

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[tuple[int, np.ndarray]] = []

    def write(self, frame: Frame) -> None:
        self.frames.append((frame.index, frame.image))


class FlickeringStylizer:
    """Deterministic per-frame flicker keyed by the frame's content (so order mistakes show)."""

    def __call__(self, image: np.ndarray) -> np.ndarray:
        return flicker(clean_style(image), int(image[0, 0, 0]) * 7 + int(image[-1, -1, 1]))


def _flow_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(PIPELINE_THREADS)]


def _convert(overlap: bool, *, cut_at: int | None = None, stages: StageTimes | None = None) -> list[np.ndarray]:
    sink = Collect()
    smoother = TemporalSmoother(SmoothingConfig(mode="flow"))
    summary = run(
        ClipSource(cut_at=cut_at),
        FlickeringStylizer(),
        sink,
        smooth=smoother,
        progress=False,
        overlap=overlap,
        queue_size=2,
        stages=stages,
    )
    assert summary.frames_out == len(sink.frames) == 16
    assert [index for index, _ in sink.frames] == list(range(16))
    return [image for _, image in sink.frames]


@pytest.mark.parametrize("cut_at", [None, 9])
def test_parallel_flow_gives_the_same_frames_as_the_sequential_pipeline(cut_at: int | None) -> None:
    sequential = _convert(overlap=False, cut_at=cut_at)
    parallel = _convert(overlap=True, cut_at=cut_at)
    for index, (one, other) in enumerate(zip(sequential, parallel)):
        np.testing.assert_array_equal(one, other, err_msg=f"frame {index}")
    # and the same as calling the smoother by hand, frame by frame
    smoother, stylize = TemporalSmoother(SmoothingConfig(mode="flow")), FlickeringStylizer()
    by_hand = [smoother(image, stylize(image)) for image in ClipSource(cut_at=cut_at).images]
    for one, other in zip(by_hand, parallel):
        np.testing.assert_array_equal(one, other)
    raw = [FlickeringStylizer()(image) for image in ClipSource(cut_at=cut_at).images]
    blended = [index for index, (one, other) in enumerate(zip(raw, parallel)) if not np.array_equal(one, other)]
    assert len(blended) >= 12  # the flow was used, not skipped: all but the first frame of each shot
    assert not _flow_threads()


class OrderSmoother:
    """Records start_frame / smooth calls; its flow job checks it runs on the flow thread."""

    def __init__(self, events: list[tuple[str, int]]) -> None:
        self.events, self.futures = events, collections.deque()

    def start_frame(self, image: np.ndarray, submit) -> None:  # type: ignore[no-untyped-def]
        self.events.append(("start", int(image[0, 0, 0])))
        self.futures.append(submit(self.flow, image))

    def flow(self, image: np.ndarray) -> int:
        assert threading.current_thread().name.startswith("stylecam-flow")
        return int(image[0, 0, 0])

    def __call__(self, source: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        assert self.futures.popleft().result() == int(source[0, 0, 0])  # the flow of this very frame
        self.events.append(("smooth", int(source[0, 0, 0])))
        return stylized


def _recording_stylizer(events: list[tuple[str, int]]):  # type: ignore[no-untyped-def]
    def stylize(image: np.ndarray) -> np.ndarray:
        events.append(("stylize", int(image[0, 0, 0])))
        return image

    return stylize


def test_from_a_file_the_flow_of_the_next_frame_starts_before_this_one_is_painted() -> None:
    events: list[tuple[str, int]] = []
    source = ClipSource(frames=6)
    values = [int(image[0, 0, 0]) for image in source.images]
    run(source, _recording_stylizer(events), Collect(), smooth=OrderSmoother(events), progress=False)
    expected = [("start", values[0])]
    for index, value in enumerate(values):
        if index + 1 < len(values):
            expected.append(("start", values[index + 1]))  # one frame ahead of the network
        expected += [("stylize", value), ("smooth", value)]
    assert events == expected
    assert not _flow_threads()


def test_a_live_source_never_looks_ahead() -> None:
    """Camera frames: start(t) -> stylize(t) -> smooth(t); frame t+1 is taken only after t is shown."""
    events: list[tuple[str, int]] = []
    source = ClipSource(frames=12)
    source.live = True  # type: ignore[misc]
    run(source, _recording_stylizer(events), Collect(), smooth=OrderSmoother(events), progress=False)
    assert events and len(events) % 3 == 0
    for index in range(0, len(events), 3):
        value = events[index][1]
        assert events[index : index + 3] == [("start", value), ("stylize", value), ("smooth", value)]
    assert not _flow_threads()


def test_flow_thread_error_reaches_the_caller_and_every_thread_ends() -> None:
    class Broken(TemporalSmoother):
        def estimate(self, source_bgr: np.ndarray):  # type: ignore[no-untyped-def]
            if threading.current_thread().name.startswith("stylecam-flow") and source_bgr is self.fail_on:
                raise MemoryError("flow ran out of memory")
            return super().estimate(source_bgr)

    source = ClipSource()
    smoother = Broken(SmoothingConfig(mode="flow"))
    smoother.fail_on = source.images[5]  # type: ignore[attr-defined]
    sink = Collect()
    with pytest.raises(MemoryError, match="flow ran out of memory"):
        run(source, FlickeringStylizer(), sink, smooth=smoother, progress=False, queue_size=2)
    assert len(sink.frames) <= 5  # nothing after the failed frame
    assert not _flow_threads()


def test_ctrl_c_while_the_flow_runs_joins_every_thread() -> None:
    started = threading.Event()

    class Slow(TemporalSmoother):
        def estimate(self, source_bgr: np.ndarray):  # type: ignore[no-untyped-def]
            started.set()
            return super().estimate(source_bgr)

    def interrupted(image: np.ndarray) -> np.ndarray:
        if started.is_set() and image is source.images[3]:
            raise KeyboardInterrupt
        return image

    source = ClipSource()
    with pytest.raises(KeyboardInterrupt):
        run(source, interrupted, Collect(), smooth=Slow(SmoothingConfig(mode="flow")), progress=False)
    assert not _flow_threads()


def test_modes_without_flow_start_no_thread() -> None:
    seen: list[str] = []

    def stylize(image: np.ndarray) -> np.ndarray:
        seen.extend(t.name for t in threading.enumerate() if t.name.startswith("stylecam-flow"))
        return image

    run(ClipSource(), stylize, Collect(), smooth=TemporalSmoother(SmoothingConfig(mode="ema")), progress=False)
    assert seen == []


def test_stage_times_cover_every_thread() -> None:
    stages = StageTimes()
    _convert(overlap=True, stages=stages)
    summary = stages.summary()
    assert list(summary) == ["read", "flow", "stylize", "smooth", "write"]
    assert summary["stylize"]["count"] == 16 and summary["write"]["count"] == 16
    assert summary["flow"]["count"] == 16 and all(row["p50_ms"] >= 0 for row in summary.values())
    stages.clear()
    assert stages.summary() == {}


def test_a_source_error_while_looking_ahead_comes_after_the_frames_before_it() -> None:
    class Failing(ClipSource):
        def __iter__(self) -> Iterator[Frame]:
            for frame in super().__iter__():
                if frame.index == 6:
                    raise SourceError("damaged at frame 6")
                yield frame

    sink = Collect()
    smoother = TemporalSmoother(SmoothingConfig(mode="flow"))
    with pytest.raises(SourceError, match="damaged at frame 6"):
        run(Failing(), FlickeringStylizer(), sink, smooth=smoother, progress=False, queue_size=16)
    assert [index for index, _ in sink.frames] == list(range(6))  # every frame before the damage, in order
    assert not _flow_threads()


def test_max_frames_with_look_ahead() -> None:
    sink = Collect()
    smoother = TemporalSmoother(SmoothingConfig(mode="flow"))
    summary = run(ClipSource(), FlickeringStylizer(), sink, smooth=smoother, progress=False, max_frames=5)
    assert (summary.frames_out, summary.stopped_by) == (5, "frames")
    assert [index for index, _ in sink.frames] == list(range(5)) and not _flow_threads()

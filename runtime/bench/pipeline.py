"""Pipeline and end-to-end benchmarks: the real threaded pipeline, timed per frame in the steady state.

* ``pipeline``: in-memory moving frames -> stylize -> smooth -> NullSink. Measures what ``stylecam
  run`` adds on top of the model (frame checks, resizing, smoothing, queue hand-offs) without any
  codec in the way.
* ``end-to-end``: a real video file decoded (PyAV) -> stylize -> smooth -> encoded into a scratch
  file with the source's audio carried over, exactly as ``stylecam run --source V --output O`` does.

Per-frame time is the interval between consecutive frames leaving the main thread. Queues are
bounded, so in the steady state that interval is set by the slowest stage (decode, inference or
encode), which is what a user waits for; ``fps`` is 1000 / its mean. Each row's ``extra.stages``
holds what every stage took per frame in that steady state, each timed on its own thread (read,
flow, stylize, smooth, write: :mod:`stylecam.runtime.pipeline.stages`).

``smoothing`` is a spec such as ``flow`` or ``flow,preset=ultrafast,width=256``
(:func:`stylecam.runtime.config.parse_smoothing`); ``overlap`` runs the flow on its own thread.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from stylecam.errors import UsageError
from stylecam.runtime.bench.model import MIN_TIMED, BenchResult, PanningScene, check_counts, make_result, warmup_over
from stylecam.runtime.config import ThreadBudget, parse_smoothing
from stylecam.runtime.inference.stylizer import Stylizer
from stylecam.runtime.media.sources import Frame
from stylecam.runtime.media.video_info import VideoInfo
from stylecam.runtime.metrics import LatencyStats
from stylecam.runtime.pipeline.sinks import NullSink
from stylecam.runtime.pipeline.stages import StageTimes
from stylecam.runtime.pipeline.threaded import PipelineState, run
from stylecam.runtime.temporal.smoothing import TemporalSmoother

log = logging.getLogger(__name__)


class SceneSource:
    """A file-like (never dropping) source of ``count`` frames of a :class:`PanningScene`."""

    live = False
    dropped = 0
    corrupt = 0

    def __init__(self, width: int, height: int, count: int, fps: float = 30.0) -> None:
        self.scene = PanningScene(width, height)
        self.count, self.fps = count, fps
        self.name = f"synthetic {width}x{height} scene"
        self.info = VideoInfo(width=width, height=height, fps=fps, frame_count=count, codec="synthetic")

    def __iter__(self) -> Iterator[Frame]:
        for index in range(self.count):
            yield Frame(image=self.scene.frame(index), index=index, time=index / self.fps)

    def close(self) -> None:
        """Nothing to release."""


class StepClock:
    """Pipeline monitor: per-frame intervals (ms) after ``warmup`` frames; asks the sink to stop on budget.

    Args:
        sink: the run's sink; its ``stop_requested`` is set once ``frames`` intervals are in or
            ``max_seconds`` have passed since timing began (with at least ``MIN_TIMED`` intervals).
    """

    def __init__(self, sink: Any, *, frames: int, warmup: int, max_seconds: float | None) -> None:
        self.sink, self.frames, self.warmup, self.max_seconds = sink, frames, warmup, max_seconds
        self.stats = LatencyStats()
        self.stages = StageTimes()  # emptied when the warm-up ends: steady-state stage times only
        self.warmed = 0  # warm-up frames actually run
        self._warming = True
        self._started: float | None = None
        self._last: float | None = None
        self._timing_since: float | None = None

    def __call__(self, state: PipelineState) -> None:
        now = time.perf_counter()
        if self._warming:
            # Frame k's interval needs frame k-1's time, so at least one frame is never timed.
            self._started = self._started if self._started is not None else now
            if warmup_over(state.frames_in, self.warmup, now - self._started, self.max_seconds):
                self._warming, self.warmed, self._timing_since = False, state.frames_in, now
                self.stages.clear()
        elif self._last is not None:
            self.stats.add((now - self._last) * 1000.0)
        self._last = now
        since = self._timing_since
        over_budget = (
            since is not None
            and self.max_seconds is not None
            and self.stats.count >= MIN_TIMED
            and now - since > self.max_seconds
        )
        if self.stats.count >= self.frames or over_budget:
            self.sink.stop_requested = True


def make_smoother(smoothing: str) -> TemporalSmoother | None:
    """The smoother for a spec (``none``: no smoother at all, as ``--smooth none`` runs)."""
    config = parse_smoothing(smoothing)
    return None if config.mode == "none" else TemporalSmoother(config)


def _stage_extra(clock: StepClock, overlap: bool) -> dict[str, Any]:
    return {"flow_thread": overlap, "stages": clock.stages.summary()}


def bench_pipeline(
    stylizer: Stylizer,
    width: int,
    height: int,
    *,
    smoothing: str = "flow",
    frames: int = 50,
    warmup: int = 5,
    max_seconds: float | None = None,
    overlap: bool = True,
) -> BenchResult:
    """Time the threaded pipeline on moving synthetic frames into a NullSink (see the module doc)."""
    check_counts(width, height, frames, warmup)
    smoother = make_smoother(smoothing)
    source = SceneSource(width, height, warmup + frames + 1)
    sink = NullSink()
    clock = StepClock(sink, frames=frames, warmup=warmup, max_seconds=max_seconds)
    summary = run(
        source, stylizer, sink, smooth=smoother, progress=False, monitor=clock, overlap=overlap, stages=clock.stages
    )
    extra = {"wall_s": round(summary.seconds, 3), "frames_out": summary.frames_out, **_stage_extra(clock, overlap)}
    return make_result(
        stylizer, "pipeline", width, height, clock.stats, warmup=clock.warmed, smoothing=smoothing, extra=extra
    )


def _check_clip(info: VideoInfo, name: str, frames: int, warmup: int) -> None:
    check_counts(info.width, info.height, frames, warmup)
    if info.frame_count is not None and info.frame_count < warmup + MIN_TIMED + 1:
        raise UsageError(
            f"{name} has {info.frame_count} frames; the end-to-end benchmark needs at least "
            f"{warmup + MIN_TIMED + 1} (lower --warmup or use a longer clip)"
        )


def bench_end_to_end(
    stylizer: Stylizer,
    video: str | os.PathLike[str],
    *,
    smoothing: str = "flow",
    frames: int = 50,
    warmup: int = 5,
    max_seconds: float | None = None,
    scratch_dir: str | os.PathLike[str] | None = None,
    overlap: bool = True,
    threads: ThreadBudget | None = None,
    preset: str | None = None,
) -> BenchResult:
    """Decode ``video``, stylize, smooth and encode it (audio kept) into a scratch file, timing each frame.

    The scratch file is deleted afterwards. Stops after ``warmup + frames`` frames, the end of the
    video, or ``max_seconds`` of timing, whichever comes first. ``threads`` sets the decoder and
    encoder threads as the stream commands do (None: FFmpeg's choice); ``preset`` the libx264 preset
    (None: the budget's, as ``stylecam convert``; medium without a budget).
    """
    from stylecam.runtime.media.video_file import VideoFileSource
    from stylecam.runtime.media.video_sink import VideoFileSink

    source = VideoFileSource(video, decode_threads=threads.decode if threads is not None else 0)
    info = source.info
    _check_clip(info, Path(video).name, frames, warmup)
    with tempfile.TemporaryDirectory(prefix="stylecam-bench-", dir=scratch_dir) as scratch:
        target = Path(scratch) / "end_to_end.mp4"
        encode_threads = threads.encode if threads is not None else 0
        preset = preset or (threads.encoder_preset if threads is not None else None)
        sink = VideoFileSink(target, info, audio_from=source.audio_source, encode_threads=encode_threads, preset=preset)
        clock = StepClock(sink, frames=frames, warmup=warmup, max_seconds=max_seconds)
        started = time.perf_counter()
        with sink:
            summary = run(
                source,
                stylizer,
                sink,
                smooth=make_smoother(smoothing),
                progress=False,
                monitor=clock,
                overlap=overlap,
                stages=clock.stages,
            )
            sink.source_complete = summary.stopped_by == "end"
        wall = time.perf_counter() - started
        audio = sink.audio.description if sink.audio is not None else "none"
        encoder = sink.encoder.codec
        encoder_preset = sink.encoder.options.get("preset")
    extra = {
        "video": Path(video).name,
        "frames_out": summary.frames_out,
        "wall_s": round(wall, 3),
        "wall_fps": round(summary.frames_out / wall, 3) if wall > 0 else 0.0,
        "encoder": encoder,
        "encoder_preset": encoder_preset,
        "audio": audio,
        **_stage_extra(clock, overlap),
    }
    return make_result(
        stylizer,
        "end-to-end",
        info.width,
        info.height,
        clock.stats,
        warmup=clock.warmed,
        smoothing=smoothing,
        extra=extra,
    )

"""The threaded pipeline: reader thread -> stylize + smooth on the main thread -> writer thread.

Threads sit at the I/O edges, plus one helper for optical flow: the flow of frame t depends only
on the source frames, so a stage that can (``start_frame(image, submit)``: the
:class:`~stylecam.runtime.temporal.smoothing.TemporalSmoother`, ``LiveControls``) starts it on the
"stylecam-flow" thread before the network paints frame t, and its blend waits for both. From a
file the main thread looks one frame ahead: frame t+1's flow is started before frame t is
stylized, so the flow thread works a frame ahead and the blend rarely waits (a busy machine
delays threads unevenly). A live source never looks ahead: the frame shown stays the newest one.
The frames are the same as with everything on the main thread (``overlap=False``).

Queues are bounded and ``None`` ends the stream. A file source never loses a frame (the reader
blocks when the queue is full); a live source keeps only the newest frame (the one waiting is
replaced and counted as dropped). An exception in any thread is re-raised on the caller's thread;
every thread is stopped and joined in ``finally``, so Ctrl-C leaves no thread writing while the
sink closes its file.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from stylecam.runtime.media.sources import Frame, Source
from stylecam.runtime.pipeline.pacing import Pacer
from stylecam.runtime.pipeline.stages import StageTimes
from stylecam.runtime.pipeline.workers import FrameReader, FrameWriter, SideWorker, Sink

__all__ = ["PipelineState", "RunSummary", "Sink", "Smooth", "Stylize", "run"]

_LATER = object()  # no frame fetched ahead: fetch the next one when it is needed

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
Stylize = Callable[[Image], Image]
Smooth = Callable[[Image, Image], Image]  # (source frame, stylized frame) -> smoothed frame


@dataclass(frozen=True)
class PipelineState:
    """A snapshot handed to ``run(monitor=...)`` after every frame (soak tests, overlays)."""

    frames_in: int
    frames_out: int
    dropped: int
    reader_queue: int  # frames waiting for the main thread
    writer_queue: int  # frames waiting to be written
    seconds: float


@dataclass(frozen=True)
class RunSummary:
    """What a run did: frames read and written, frames dropped (live) or damaged (files), time."""

    frames_in: int
    frames_out: int
    dropped: int
    corrupt: int
    seconds: float
    stopped_by: str  # "end", "frames" (--frames reached) or "user" (window closed, q/Esc)

    @property
    def fps(self) -> float:
        return self.frames_out / self.seconds if self.seconds > 0 else 0.0


def _start_hooks(*stages: object) -> list[Callable[..., None]]:
    """The ``start_frame(image, submit)`` methods of the stages that have source-only work to start."""
    hooks = [getattr(stage, "start_frame", None) for stage in stages if stage is not None]
    return [hook for hook in hooks if callable(hook)]


class _MainLoop:
    """The main-thread side of one run: pull, stylize, smooth, push; counts what happened."""

    def __init__(
        self,
        source: Source,
        stylize: Stylize,
        sink: Sink,
        smooth: Smooth | None,
        queue_size: int,
        monitor: Callable[[PipelineState], None] | None,
        *,
        overlap: bool = True,
        pacer: Pacer | None = None,
        stages: StageTimes | None = None,
    ) -> None:
        self.source, self.stylize, self.sink, self.smooth, self.monitor = source, stylize, sink, smooth, monitor
        self.stages = stages
        self.reader = FrameReader(source, queue_size, pacer=pacer, stages=stages)
        self.writer = FrameWriter(sink, queue_size, stages=stages) if sink.threaded else None
        self.hooks = _start_hooks(stylize, smooth) if overlap else []
        self.side = SideWorker(stages=stages) if self.hooks else None
        self.lookahead = self.side is not None and not source.live
        self.frames_in = self.frames_out = 0
        self.started = time.perf_counter()
        self._last_shape: tuple[int, ...] | None = None

    def step(self, frame: Frame) -> None:
        """Stylize one frame and hand it to the sink (or the writer thread)."""
        self.frames_in += 1
        if frame.image.shape != self._last_shape:
            if self._last_shape is not None:
                height, width = frame.image.shape[:2]
                log.info("frame size changed to %dx%d; smoothing restarts", width, height)
                reset = getattr(self.smooth, "reset", None)
                if reset is not None:
                    reset()
            self._last_shape = frame.image.shape
        stylized = self._timed("stylize", self.stylize, frame.image)
        if self.smooth is not None:
            stylized = self._timed("smooth", self.smooth, frame.image, stylized)
        if self.writer is not None:
            self.writer.put(frame.with_image(stylized))
        else:
            self.sink.write(frame.with_image(stylized))
            self.frames_out += 1
        if self.monitor is not None:
            self.monitor(self.state())

    def fetch(self, timeout: float) -> Frame | None:
        """The next frame (None: the end), its optical flow started on the flow thread."""
        frame = self.reader.get(timeout)
        if frame is not None and self.side is not None:
            for hook in self.hooks:
                hook(frame.image, self.side.submit)
        return frame

    def fetch_ahead(self, timeout: float) -> Frame | Exception | None:
        """:meth:`fetch`, its error returned (raised after the current frame is written)."""
        try:
            return self.fetch(timeout)
        except Exception as exc:  # re-raised by the caller, one frame later
            return exc

    def _timed(self, stage: str, function: Callable[..., Image], *args: Image) -> Image:
        if self.stages is None:
            return function(*args)
        with self.stages.time(stage):
            return function(*args)

    @property
    def dropped(self) -> int:
        return self.reader.dropped + self.source.dropped

    def state(self) -> PipelineState:
        writer = self.writer
        return PipelineState(
            frames_in=self.frames_in,
            frames_out=writer.written if writer is not None else self.frames_out,
            dropped=self.dropped,
            reader_queue=self.reader.queue.qsize(),
            writer_queue=writer.queue.qsize() if writer is not None else 0,
            seconds=time.perf_counter() - self.started,
        )


def _progress_total(frame_count: int | None, max_frames: int | None) -> int | None:
    if max_frames is None:
        return frame_count
    return max_frames if frame_count is None else min(frame_count, max_frames)


def run(
    source: Source,
    stylize: Stylize,
    sink: Sink,
    *,
    smooth: Smooth | None = None,
    max_frames: int | None = None,
    queue_size: int = 8,
    progress: bool = True,
    stall_timeout: float = 60.0,
    monitor: Callable[[PipelineState], None] | None = None,
    overlap: bool = True,
    pacer: Pacer | None = None,
    stages: StageTimes | None = None,
) -> RunSummary:
    """Stream ``source`` through ``stylize`` (and ``smooth``) into ``sink``; return what happened.

    The pipeline owns the source from here on and closes it. The sink stays the caller's (open it
    with ``with`` around this call), so on Ctrl-C it closes after both threads have stopped.

    Args:
        source: frames to stylize (live sources drop stale frames, others never drop).
        stylize: ``(H, W, 3)`` uint8 BGR -> the same shape (e.g. a ``Stylizer``).
        sink: where results go (``threaded`` sinks are written from the writer thread).
        smooth: ``(source, stylized) -> frame`` temporal smoother; its ``reset()`` (if any) is
            called when the frame size changes.
        max_frames: stop after this many frames (None: until the source ends).
        queue_size: frames buffered on each side of the main thread.
        progress: show a tqdm bar (frame total when known, live frame rate).
        stall_timeout: seconds without a frame before the source counts as stalled.
        monitor: called on the main thread after every frame with a :class:`PipelineState`.
        overlap: run the source-only half of smoothing (optical flow) on the flow thread while the
            main thread stylizes (False: everything on the main thread; the frames are the same).
        pacer: wait until each frame's time has come (``stylecam live`` playing a file); None: as
            fast as the pipeline goes.
        stages: filled with the milliseconds each stage took per frame (read, flow, stylize,
            smooth, write).
    """
    loop = _MainLoop(source, stylize, sink, smooth, queue_size, monitor, overlap=overlap, pacer=pacer, stages=stages)
    total = _progress_total(source.info.frame_count, max_frames)
    bar = tqdm(total=total, unit="frame", disable=not progress, dynamic_ncols=True, desc="stylecam", leave=True)
    stopped_by, finished = "end", False
    loop.reader.start()
    if loop.writer is not None:
        loop.writer.start()
    try:
        upcoming: Frame | Exception | object | None = _LATER
        while True:
            if max_frames is not None and loop.frames_in >= max_frames:
                stopped_by = "frames"
                break
            frame = loop.fetch(stall_timeout) if upcoming is _LATER else upcoming
            if isinstance(frame, Exception):
                raise frame
            if not isinstance(frame, Frame):
                break
            more = max_frames is None or loop.frames_in + 1 < max_frames
            upcoming = loop.fetch_ahead(stall_timeout) if loop.lookahead and more else _LATER
            loop.step(frame)
            bar.update(1)
            if source.live and loop.frames_in % 30 == 0:
                bar.set_postfix(dropped=loop.dropped, refresh=False)
            if sink.stop_requested:
                stopped_by = "user"
                break
        if loop.writer is not None:
            loop.writer.finish()
            loop.frames_out = loop.writer.written
        finished = True
    finally:
        loop.reader.stop()
        if loop.side is not None:
            loop.side.stop()
        if loop.writer is not None and not finished:
            loop.writer.stop()
        bar.close()
    return RunSummary(
        frames_in=loop.frames_in,
        frames_out=loop.frames_out,
        dropped=loop.dropped,
        corrupt=source.corrupt,
        seconds=time.perf_counter() - loop.started,
        stopped_by=stopped_by,
    )

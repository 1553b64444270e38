"""The threaded pipeline: reader thread -> stylize + smooth on the main thread -> writer thread.

Threads sit only at the I/O edges. Queues are bounded and ``None`` ends the stream. A file source
never loses a frame (the reader blocks when the queue is full); a live source keeps only the
newest frame (the one waiting is replaced and counted as dropped). An exception in either thread
is re-raised on the caller's thread; both threads are stopped and joined in ``finally``, so
Ctrl-C leaves no thread writing while the sink closes its file.
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
from stylecam.runtime.pipeline.workers import FrameReader, FrameWriter, Sink

__all__ = ["PipelineState", "RunSummary", "Sink", "Smooth", "Stylize", "run"]

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
    ) -> None:
        self.source, self.stylize, self.sink, self.smooth, self.monitor = source, stylize, sink, smooth, monitor
        self.reader = FrameReader(source, queue_size)
        self.writer = FrameWriter(sink, queue_size) if sink.threaded else None
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
        stylized = self.stylize(frame.image)
        if self.smooth is not None:
            stylized = self.smooth(frame.image, stylized)
        if self.writer is not None:
            self.writer.put(frame.with_image(stylized))
        else:
            self.sink.write(frame.with_image(stylized))
            self.frames_out += 1
        if self.monitor is not None:
            self.monitor(self.state())

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
    """
    loop = _MainLoop(source, stylize, sink, smooth, queue_size, monitor)
    total = _progress_total(source.info.frame_count, max_frames)
    bar = tqdm(total=total, unit="frame", disable=not progress, dynamic_ncols=True, desc="stylecam", leave=True)
    stopped_by, finished = "end", False
    loop.reader.start()
    if loop.writer is not None:
        loop.writer.start()
    try:
        while max_frames is None or loop.frames_in < max_frames:
            frame = loop.reader.get(stall_timeout)
            if frame is None:
                break
            loop.step(frame)
            bar.update(1)
            if source.live and loop.frames_in % 30 == 0:
                bar.set_postfix(dropped=loop.dropped, refresh=False)
            if sink.stop_requested:
                stopped_by = "user"
                break
        else:
            stopped_by = "frames"
        if loop.writer is not None:
            loop.writer.finish()
            loop.frames_out = loop.writer.written
        finished = True
    finally:
        loop.reader.stop()
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

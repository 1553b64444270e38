"""The pipeline's threads: a reader feeding the main thread, a writer draining it, and a flow helper.

The reader and the writer use bounded queues and a ``None`` sentinel, keep the exception that
stopped them for the main thread to re-raise, and can be stopped from the main thread at any
point. The helper (:class:`SideWorker`) runs one job at a time for the main thread, which waits
for each result (a ``Future``, whose ``result()`` re-raises the job's exception there).
"""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, Protocol

from stylecam.errors import SourceError
from stylecam.runtime.media.sources import Frame, Source
from stylecam.runtime.pipeline.pacing import Pacer
from stylecam.runtime.pipeline.stages import StageTimes

log = logging.getLogger(__name__)

_POLL_S = 0.1


class Sink(Protocol):
    """What the pipeline writes to. ``threaded`` sinks are fed from the writer thread."""

    threaded: bool  # True: written on the writer thread (encoders); False: on the main thread (GUI)
    stop_requested: bool  # the user asked to stop (q / Esc / closed the window)

    def write(self, frame: Frame) -> None: ...


class FrameReader(threading.Thread):
    """Iterates the source into a bounded queue; ``get`` re-raises the source's exception."""

    def __init__(
        self, source: Source, maxsize: int, *, pacer: Pacer | None = None, stages: StageTimes | None = None
    ) -> None:
        super().__init__(name="stylecam-reader", daemon=True)
        self.source = source
        self.pacer = pacer  # None: frames go on as fast as they are read (files) or arrive (cameras)
        self.stages = stages
        self.drop_stale = source.live
        self.queue: queue.Queue[Frame | None] = queue.Queue(maxsize=1 if source.live else maxsize)
        self.stop_event = threading.Event()
        self.error: BaseException | None = None
        self.dropped = 0

    def run(self) -> None:
        frames: Iterator[Frame] = iter(self.source)
        try:
            while True:
                started = time.perf_counter()
                frame = next(frames, None)
                if frame is None:
                    break
                if self.stages is not None:
                    self.stages.add("read", (time.perf_counter() - started) * 1000.0)
                if self.pacer is not None:
                    self.pacer.wait(frame.time, self.stop_event)
                if frame.captured is None:  # file sources: latency counts from when the frame was read (and due)
                    frame = replace(frame, captured=time.monotonic())
                if not self._put(frame):
                    return
        except BaseException as exc:  # handed to the main thread, which re-raises it
            self.error = exc
        finally:
            close = getattr(frames, "close", None)
            if close is not None:
                close()  # a generator closes its container here, on its own thread
            self._put_end()

    def _put(self, frame: Frame) -> bool:
        if self.drop_stale:
            while not self.stop_event.is_set():
                try:
                    self.queue.put_nowait(frame)
                    return True
                except queue.Full:
                    try:
                        self.queue.get_nowait()  # the waiting frame is stale now: drop it
                        self.dropped += 1
                    except queue.Empty:
                        pass
            return False
        while not self.stop_event.is_set():
            try:
                self.queue.put(frame, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _put_end(self) -> None:
        while True:
            try:
                self.queue.put(None, timeout=_POLL_S)
                return
            except queue.Full:
                if self.stop_event.is_set():
                    return

    def get(self, timeout: float) -> Frame | None:
        try:
            item = self.queue.get(timeout=timeout)
        except queue.Empty:
            raise SourceError(
                f"{self.source.name} delivered no frame for {timeout:g} s (a stalled stream or a damaged file)"
            ) from None
        if item is None and self.error is not None:
            raise self.error
        return item

    def stop(self) -> None:
        self.stop_event.set()
        self.source.close()  # unblocks a camera source waiting for its next frame
        self.join(timeout=5.0)
        if self.is_alive():
            log.debug("reader thread still busy in %s; left to finish on its own", self.source.name)


class FrameWriter(threading.Thread):
    """Writes frames from a bounded queue to a threaded sink; ``put``/``finish`` re-raise its errors."""

    def __init__(self, sink: Sink, maxsize: int, *, stages: StageTimes | None = None) -> None:
        super().__init__(name="stylecam-writer", daemon=True)
        self.sink = sink
        self.stages = stages
        self.queue: queue.Queue[Frame | None] = queue.Queue(maxsize=maxsize)
        self.error: BaseException | None = None
        self.abort = threading.Event()
        self.written = 0

    def run(self) -> None:
        try:
            while not self.abort.is_set():
                frame = self.queue.get()
                if frame is None:
                    return
                started = time.perf_counter()
                self.sink.write(frame)
                if self.stages is not None:
                    self.stages.add("write", (time.perf_counter() - started) * 1000.0)
                self.written += 1
        except BaseException as exc:
            self.error = exc

    def put(self, frame: Frame) -> None:
        while True:
            self._raise_if_failed()
            try:
                self.queue.put(frame, timeout=_POLL_S)
                return
            except queue.Full:
                continue

    def finish(self) -> None:
        """Write everything queued, then stop; re-raises a write error."""
        self.put_end()
        self.join()
        if self.error is not None:
            raise self.error

    def put_end(self) -> None:
        while self.is_alive():
            try:
                self.queue.put(None, timeout=_POLL_S)
                return
            except queue.Full:
                continue

    def stop(self) -> None:
        """Stop without writing what is queued (error or Ctrl-C): the sink closes right after."""
        self.abort.set()
        while True:
            try:
                self.queue.get_nowait()
            except queue.Empty:
                break
        self.put_end()
        self.join(timeout=30.0)

    def _raise_if_failed(self) -> None:
        if self.error is not None:
            raise self.error
        if not self.is_alive() and self.ident is not None:
            raise RuntimeError("the writer thread stopped early")  # an internal invariant, not user input


class SideWorker:
    """One helper thread ("stylecam-flow") for work that needs only the source frame: optical flow.

    The main thread submits a frame's job, stylizes the frame meanwhile (ONNX Runtime and OpenCV
    release the GIL, so both cores work), then waits for the job's ``Future``. Jobs run one at a
    time, in the order submitted; the thread starts with the first job.
    """

    def __init__(self, *, stages: StageTimes | None = None) -> None:
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="stylecam-flow")
        self.stages = stages

    def submit(self, function: Callable[..., Any], *args: Any) -> concurrent.futures.Future[Any]:
        """Run ``function(*args)`` on the helper thread; its exception is raised by ``result()``."""
        job = function if self.stages is None else self.stages.timed("flow", function)
        return self._executor.submit(job, *args)

    def stop(self) -> None:
        """Cancel jobs not started, wait for the running one and join the thread (Ctrl-C included)."""
        self._executor.shutdown(wait=True, cancel_futures=True)

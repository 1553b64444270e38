"""Where stylized frames go: a window, an image file, nowhere (benchmarks), a video file, or both.

Every sink is a context manager with ``write(frame)``, ``threaded`` (fed from the pipeline's
writer thread, or from the main thread as GUI toolkits require) and ``stop_requested`` (the user
pressed q/Esc or closed the window). :class:`~stylecam.runtime.media.video_sink.VideoFileSink` and
:class:`~stylecam.runtime.live.window.WindowSink` live in their own modules.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from stylecam.atomic import atomic_output, check_output_path
from stylecam.images import check_image_suffix, write_image
from stylecam.runtime.live.window import WindowSink, display_problem
from stylecam.runtime.media.sources import Frame
from stylecam.runtime.media.video_sink import VideoFileSink
from stylecam.runtime.pipeline.workers import FrameWriter

__all__ = ["ImageSink", "NullSink", "TeeSink", "VideoFileSink", "WindowSink", "display_problem"]

log = logging.getLogger(__name__)


class _SinkBase:
    threaded = False
    stop_requested = False

    def __enter__(self) -> Any:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release what the sink holds (idempotent)."""


class NullSink(_SinkBase):
    """Counts frames and throws them away (benchmarks, soak tests, throughput checks)."""

    def __init__(self) -> None:
        self.frames = 0
        self.last: Frame | None = None

    def write(self, frame: Frame) -> None:
        self.frames += 1
        self.last = frame


class ImageSink(_SinkBase):
    """Writes the last frame it gets to an image file, atomically, with the source's alpha put back.

    Args:
        target: output image path (.png keeps transparency).
        inputs: files the target must not be.
    """

    def __init__(self, target: str | os.PathLike[str], *, inputs: Sequence[str | os.PathLike[str]] = ()) -> None:
        check_image_suffix(target)
        self.target = check_output_path(target, inputs=inputs)
        self._inputs = list(inputs)
        self._frame: Frame | None = None

    def write(self, frame: Frame) -> None:
        self._frame = frame

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None and self._frame is not None:
            with atomic_output(self.target, inputs=self._inputs) as temp:
                write_image(temp, self._frame.image, self._frame.alpha)


class TeeSink(_SinkBase):
    """A live recording you can watch: the window on the main thread, the file on its own writer thread.

    The recorder gets every frame as the pipeline made it (the window's overlay is drawn on a copy),
    so encoding never slows the preview; the user stops both with the window's keys.

    Args:
        window: the preview (not threaded).
        recorder: a threaded file sink (a :class:`VideoFileSink`).
        queue_size: frames buffered for the recorder.
    """

    def __init__(self, window: WindowSink, recorder: VideoFileSink, *, queue_size: int = 8) -> None:
        self.window, self.recorder, self._queue_size = window, recorder, queue_size
        self._writer: FrameWriter | None = None

    @property
    def stop_requested(self) -> bool:  # type: ignore[override]
        return self.window.stop_requested

    @property
    def audio(self) -> Any:
        return self.recorder.audio

    @property
    def source_complete(self) -> bool:
        return self.recorder.source_complete

    @source_complete.setter
    def source_complete(self, value: bool) -> None:
        self.recorder.source_complete = value

    def __enter__(self) -> TeeSink:
        self.window.__enter__()
        try:
            self.recorder.__enter__()
        except BaseException:
            self.window.close()
            raise
        self._writer = FrameWriter(self.recorder, self._queue_size)
        self._writer.start()
        return self

    def write(self, frame: Frame) -> None:
        assert self._writer is not None, "use TeeSink as a context manager"
        self._writer.put(frame)
        self.window.write(frame)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        writer, self._writer = self._writer, None
        try:
            if writer is not None and exc is None:
                try:
                    writer.finish()  # everything queued reaches the file; a write error surfaces here
                except BaseException as failure:
                    self.recorder.__exit__(type(failure), failure, failure.__traceback__)  # temp file removed
                    raise
            elif writer is not None:
                writer.stop()  # Ctrl-C or an error: the recorder keeps or removes what it has
            return bool(self.recorder.__exit__(exc_type, exc, tb))
        finally:
            self.window.close()

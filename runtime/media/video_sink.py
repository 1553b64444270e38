"""VideoFileSink: stylized frames -> a video file with the source's timestamps and audio.

The file is written to a temporary path beside the target (:func:`stylecam.atomic.atomic_output`)
and renamed only when complete. On Ctrl-C the container is closed cleanly and kept as
``name.partial.ext`` (it plays); on any other error, including a full disk, the temporary file is
removed and the target is untouched. Frames keep their source timestamps, so variable frame
rates survive; colours are converted with BT.709 and tagged so players decode them the same way.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import cv2
from av.video.reformatter import Colorspace, VideoReformatter

from stylecam.atomic import atomic_output, check_output_path
from stylecam.runtime.media.audio import AudioCarrier
from stylecam.runtime.media.colour import BT709, EXACT, TV_RANGE
from stylecam.runtime.media.encoders import DEFAULT_CRF, EncoderChoice, choose_encoder
from stylecam.runtime.media.sources import Frame
from stylecam.runtime.media.video_info import VideoInfo

log = logging.getLogger(__name__)

_DEFAULT_TIME_BASE = Fraction(1, 90000)


def _open_container(path: Path, muxer: str) -> av.container.OutputContainer:
    """Open the output (tests replace this to inject a full disk)."""
    options = {"movflags": "+faststart"} if muxer in ("mp4", "mov") else {}
    return av.open(str(path), "w", format=muxer, options=options)


def _disk_full(exc: BaseException) -> bool:
    """ENOSPC anywhere in the chain (PyAV wraps errors raised inside its I/O callbacks)."""
    seen: BaseException | None = exc
    while seen is not None:
        if getattr(seen, "errno", None) in (errno.ENOSPC, errno.EDQUOT):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class VideoFileSink:
    """Encode frames into ``target`` (see module doc). Use as a context manager.

    Args:
        target: output path; its suffix picks the container (.mp4, .mov, .mkv, .webm, .avi).
        info: the source's VideoInfo (size, rate, time base) after any downscaling.
        encoder: a checked encoder (default: :func:`choose_encoder` with ``codec``/``crf``).
        audio_from: file whose audio is carried into the output (None: no audio).
        inputs: files the target must not be (the source, the model).
        realtime: a live recording (faster encoder settings, so it keeps up with the camera).
        encode_threads: encoder threads (0: the encoder's choice).
        preset: libx264/libx265 preset (default: medium; veryfast when ``realtime``).
    """

    threaded = True
    stop_requested = False

    def __init__(
        self,
        target: str | os.PathLike[str],
        info: VideoInfo,
        *,
        encoder: EncoderChoice | None = None,
        codec: str | None = None,
        crf: int = DEFAULT_CRF,
        audio_from: str | os.PathLike[str] | None = None,
        inputs: Sequence[str | os.PathLike[str]] = (),
        realtime: bool = False,
        encode_threads: int = 0,
        preset: str | None = None,
    ) -> None:
        self.target = check_output_path(target, inputs=inputs)
        self.encode_threads = encode_threads
        self.info = info
        self._inputs = list(inputs)
        self.encoder = encoder or choose_encoder(
            self.target.suffix,
            info.width,
            info.height,
            info.best_fps,
            codec=codec,
            crf=crf,
            realtime=realtime,
            preset=preset,
        )
        if self.encoder.note:
            log.warning("%s", self.encoder.note)
        self._audio_from = audio_from
        self.audio: AudioCarrier | None = None
        self.source_complete = False  # set by the caller when every source frame was written
        self.frames = 0
        self._last_pts: int | None = None
        self._end_time = 0.0
        self._resize_warned = False
        self._reformatter = VideoReformatter()  # kept: a fresh converter per frame costs ~20 ms
        self._stack: contextlib.ExitStack | None = None
        self._container: av.container.OutputContainer | None = None

    def __enter__(self) -> VideoFileSink:
        stack = contextlib.ExitStack()
        temp = stack.enter_context(atomic_output(self.target, inputs=self._inputs, keep_partial_on_interrupt=True))
        try:
            self._container = _open_container(temp, self.encoder.muxer)
            self._add_video_stream()
            if self._audio_from is not None:
                self.audio = AudioCarrier(self._audio_from, self._container, self.encoder.muxer)
        except BaseException:
            if self._container is not None:
                self._container.close()
            stack.close()
            raise
        self._stack = stack
        return self

    def _add_video_stream(self) -> None:
        assert self._container is not None
        choice, info = self.encoder, self.info
        rate = Fraction(info.best_fps or 30.0).limit_denominator(1001)
        stream = self._container.add_stream(choice.codec, rate=rate, options=dict(choice.options))
        stream.width, stream.height, stream.pix_fmt = info.width, info.height, choice.pix_fmt
        self._time_base = info.time_base or _DEFAULT_TIME_BASE
        stream.time_base = self._time_base
        stream.codec_context.time_base = self._time_base
        if choice.bit_rate:
            stream.bit_rate = choice.bit_rate
        context = stream.codec_context
        if self.encode_threads:
            context.thread_count = self.encode_threads
        context.color_primaries, context.color_trc, context.colorspace = BT709, BT709, BT709
        context.color_range = TV_RANGE
        if choice.codec == "libx265":
            stream.codec_tag = "hvc1"  # what Apple players look for
        self._stream = stream

    def write(self, frame: Frame) -> None:
        """Encode one frame at its source timestamp (made strictly increasing if the source was not)."""
        assert self._container is not None, "use VideoFileSink as a context manager"
        image = frame.image
        size = (self.info.width, self.info.height)
        if (image.shape[1], image.shape[0]) != size:
            if not self._resize_warned:
                log.warning(
                    "frame size changed to %dx%d; the file keeps %dx%d (frames are scaled)",
                    image.shape[1],
                    image.shape[0],
                    *size,
                )
                self._resize_warned = True
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        video_frame = av.VideoFrame.from_ndarray(image, format="bgr24")
        video_frame = self._reformatter.reformat(
            video_frame,
            format=self.encoder.pix_fmt,
            dst_colorspace=Colorspace.ITU709,
            dst_color_range=TV_RANGE,
            interpolation=EXACT,
        )
        pts = self._pts_for(frame)
        video_frame.pts, video_frame.time_base = pts, self._time_base
        try:
            self._container.mux(self._stream.encode(video_frame))
            if self.audio is not None:
                self.audio.mux_until(frame.time)
        except (av.FFmpegError, OSError) as exc:
            raise self._translate(exc) from exc
        self.frames += 1
        self._end_time = max(self._end_time, frame.time + 1.0 / (self.info.best_fps or 30.0))

    def _pts_for(self, frame: Frame) -> int:
        if frame.pts is not None and frame.time_base is not None:
            pts = round(frame.pts * frame.time_base / self._time_base)
        else:
            pts = round(frame.time / self._time_base)
        if self._last_pts is not None and pts <= self._last_pts:
            pts = self._last_pts + 1  # encoders need strictly increasing timestamps
        self._last_pts = pts
        return pts

    def _translate(self, exc: BaseException) -> BaseException:
        if _disk_full(exc):
            return OSError(errno.ENOSPC, f"disk full while writing {self.target}")
        return exc

    def _close_container(self, flush: bool) -> None:
        container, self._container = self._container, None
        if container is None:
            return
        try:
            if flush:
                container.mux(self._stream.encode(None))
                if self.audio is not None:
                    self.audio.finish(None if self.source_complete else self._end_time)
        except (av.FFmpegError, OSError) as exc:
            raise self._translate(exc) from exc
        finally:
            if self.audio is not None:
                self.audio.close()
            try:
                container.close()
            except (av.FFmpegError, OSError) as exc:
                if flush:
                    raise self._translate(exc) from exc

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        stack, self._stack = self._stack, None
        assert stack is not None
        # A clean close on success and on Ctrl-C (the partial file must play); after an error the
        # temporary file is deleted anyway, so it is only released.
        flush = exc is None or isinstance(exc, KeyboardInterrupt)
        try:
            self._close_container(flush)
        except BaseException as close_error:
            if exc is not None:
                log.debug("closing %s after an error failed too: %s", self.target, close_error)
            else:
                # the atomic context turns ENOSPC into an OutputError and removes the temporary file
                if not stack.__exit__(type(close_error), close_error, close_error.__traceback__):
                    raise
                return False
        return bool(stack.__exit__(exc_type, exc, tb))

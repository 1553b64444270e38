"""VideoFileSource: every frame of a video file (or stream URL), in order, with its timestamp.

Decoding runs on whatever thread iterates the source: the pipeline's reader thread, which feeds
a bounded queue and never drops a frame. Damaged packets are skipped, and frames the decoder
flags as corrupt are replaced by the last good one, up to ``max_corrupt`` (and, as FFmpeg's
``-max_error_rate`` does, at most 2/3 of the packets); then a SourceError names the frame.
10-bit/HDR input is converted to 8 bits, alpha is dropped (both with a warning).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
from av.video.reformatter import Colorspace, VideoReformatter

from stylecam.errors import SourceError
from stylecam.runtime.media.colour import EXACT, UNSPECIFIED_COLORSPACE
from stylecam.runtime.media.sources import Frame, fit_within, fitted_size
from stylecam.runtime.media.video_info import VideoInfo
from stylecam.runtime.media.video_probe import is_url, probe_video

log = logging.getLogger(__name__)

MAX_CORRUPT = 50
# FFmpeg's default -max_error_rate: a stream where more than this fraction fails to decode is an
# error even below MAX_CORRUPT (a short clip that is mostly damage is not a usable result).
MAX_ERROR_RATE = 2 / 3
_LISTED_DAMAGE = 5  # warnings for the first few damaged packets; the rest are counted in the summary


def _warn_about(info: VideoInfo, name: str) -> None:
    if info.bit_depth > 8:
        hdr = f", HDR {info.hdr_transfer}" if info.hdr_transfer else ""
        look = "; HDR colours will look flat (no tone mapping)" if info.hdr_transfer else ""
        log.warning(
            "%s is %d-bit (%s%s): converted to 8 bits per channel for stylization%s",
            name,
            info.bit_depth,
            info.pixel_format,
            hdr,
            look,
        )
    elif info.hdr_transfer:
        log.warning("%s is HDR (%s): processed without tone mapping; colours may look flat", name, info.hdr_transfer)
    if info.has_alpha:
        log.warning(
            "%s has an alpha channel (%s): video output has no transparency, so it is dropped", name, info.pixel_format
        )
    if info.is_grayscale:
        log.info("%s is grayscale (%s): processed as three equal channels", name, info.pixel_format)
    if info.rotation:
        log.info("%s is displayed rotated by %d degrees: frames are turned upright", name, info.rotation)
    for note in info.notes:
        log.info("%s: %s", name, note)


class VideoFileSource:
    """Frames of a video file or stream, decoded with PyAV; ``live`` streams may drop stale frames.

    Args:
        source: path or URL.
        info: probe result (probed here when None).
        max_size: shrink frames whose longer side exceeds this.
        max_corrupt: damaged packets/frames tolerated before giving up.
        live: a live stream (rtsp://...): the pipeline keeps only the newest frame.
        decode_threads: FFmpeg decoder threads (0: FFmpeg's choice, one per core).
    """

    def __init__(
        self,
        source: str | os.PathLike[str],
        *,
        info: VideoInfo | None = None,
        max_size: int | None = None,
        max_corrupt: int = MAX_CORRUPT,
        live: bool = False,
        decode_threads: int = 0,
    ) -> None:
        self.name = os.fspath(source)
        self.decode_threads = decode_threads
        self.path = None if is_url(self.name) else Path(self.name)
        probed = info or probe_video(self.name)
        _warn_about(probed, self.name)
        width, height = fitted_size(probed.width, probed.height, max_size)
        if (width, height) != (probed.width, probed.height):
            log.info(
                "frames %dx%d are shrunk to %dx%d (--max-size %s)", probed.width, probed.height, width, height, max_size
            )
        self.info = probed if max_size is None else _resized(probed, width, height)
        self.source_info = probed
        # where a sink can read the audio again (not from a live stream: it cannot be replayed)
        self.audio_source: str | None = self.name if probed.has_audio and not live else None
        self.live = live
        self.max_size = max_size
        self.max_corrupt = max_corrupt
        self.dropped = 0
        self.corrupt = 0
        self._packets = 0
        self._last_damage = ""

    def __iter__(self) -> Iterator[Frame]:
        try:
            container = av.open(self.name, timeout=(15.0, 15.0))
        except (av.FFmpegError, OSError) as exc:
            raise SourceError(f"cannot open {self.name} ({exc}); check that it still exists and plays") from exc
        with container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"  # frame + slice threads: decoding keeps up with inference
            if self.decode_threads:
                stream.codec_context.thread_count = self.decode_threads
            yield from self._decode(container, stream)

    def _decode(self, container: av.container.InputContainer, stream: av.VideoStream) -> Iterator[Frame]:
        index = 0
        last_good: npt.NDArray[np.uint8] | None = None
        # one converter for the whole stream: a fresh one per frame costs ~10 ms at 720p
        reformatter = VideoReformatter()
        time_base = stream.time_base
        for packet in container.demux(stream):
            self._packets += packet.size > 0
            try:
                decoded = packet.decode()
            except av.error.InvalidDataError:
                self._count_corrupt(index, packet.pts, time_base)
                continue
            except av.FFmpegError as exc:
                raise SourceError(f"reading {self.name} failed at frame {index} ({exc}); the file is damaged") from exc
            for frame in decoded:
                if frame.is_corrupt and last_good is not None:
                    self._count_corrupt(index, frame.pts, time_base)
                    image = last_good  # repeat the last good frame: keeps the timing, hides the damage
                else:
                    image = fit_within(_to_bgr(frame, reformatter), self.max_size)
                    last_good = image
                pts = frame.pts
                seconds = (
                    float(pts * time_base) if pts is not None and time_base else index / (self.info.best_fps or 30.0)
                )
                yield Frame(image=image, index=index, time=seconds, pts=pts, time_base=time_base)
                index += 1
        self._check_error_rate()

    def _count_corrupt(self, index: int, pts: int | None, time_base: object) -> None:
        self.corrupt += 1
        where = f"frame {index}" + (f" (at {float(pts * time_base):.2f} s)" if pts is not None and time_base else "")
        self._last_damage = where
        if self.corrupt <= _LISTED_DAMAGE:
            more = "; further damage is counted, not listed" if self.corrupt == _LISTED_DAMAGE else ""
            log.warning("%s: damaged data near %s skipped (%d so far%s)", self.name, where, self.corrupt, more)
        else:
            log.debug("%s: damaged data near %s skipped (%d so far)", self.name, where, self.corrupt)
        if self.corrupt > self.max_corrupt:
            raise SourceError(
                f"{self.name} is badly damaged: more than {self.max_corrupt} damaged packets, the last near {where}; "
                "repair or re-export it (e.g. ffmpeg -i in.mp4 -c:v libx264 fixed.mp4)"
            )

    def _check_error_rate(self) -> None:
        if self.corrupt and self.corrupt > MAX_ERROR_RATE * max(self._packets, 1):
            raise SourceError(
                f"{self.name} is badly damaged: {self.corrupt} of its {self._packets} packets could not be decoded "
                f"(more than 2/3, FFmpeg's own limit), the last near {self._last_damage}; "
                "repair or re-export it (e.g. ffmpeg -i in.mp4 -c:v libx264 fixed.mp4)"
            )

    def close(self) -> None:
        """Nothing held between iterations: the container is closed when iteration ends."""


def _resized(info: VideoInfo, width: int, height: int) -> VideoInfo:
    from dataclasses import replace

    return replace(info, width=width, height=height)


def _to_bgr(frame: av.VideoFrame, reformatter: VideoReformatter) -> npt.NDArray[np.uint8]:
    """Decode to 8-bit BGR, upright, reading untagged HD video as BT.709 the way players do."""
    fmt = frame.format
    is_yuv = not fmt.is_rgb and len([c for c in fmt.components if not c.is_alpha]) == 3
    untagged_hd = is_yuv and frame.colorspace == UNSPECIFIED_COLORSPACE and frame.height >= 720
    converted = reformatter.reformat(
        frame,
        format="bgr24",
        src_colorspace=Colorspace.ITU709 if untagged_hd else None,
        src_color_range=frame.color_range,
        interpolation=EXACT,
    )
    image = converted.to_ndarray()
    turns = round(frame.rotation / 90) % 4
    if turns:
        image = np.ascontiguousarray(np.rot90(image, k=turns))  # rotation is counter-clockwise, as np.rot90
    return image

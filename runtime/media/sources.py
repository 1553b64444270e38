"""Frame sources: what every source yields (:class:`Frame`), still images, and picking a source.

Four kinds of source feed the pipeline, all iterables of :class:`Frame`:

* :class:`~stylecam.runtime.media.webcam.WebcamSource`: live; a capture thread serves the newest frame.
* :class:`~stylecam.runtime.media.video_file.VideoFileSource`: files and streams; every frame, in order,
  with its timestamp.
* :class:`ImageSource`: one still image (alpha kept aside and put back by the image sink).
* :class:`~stylecam.runtime.media.sequence.ImageSequenceSource`: a folder of images or a glob pattern
  (``frames/*.png``) played as a video at a given frame rate.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from stylecam.errors import UsageError
from stylecam.images import IMAGE_SUFFIXES, read_image
from stylecam.runtime.media.video_info import VideoInfo
from stylecam.runtime.media.video_probe import is_url

log = logging.getLogger(__name__)

SourceKind = Literal["camera", "image", "video", "stream", "sequence"]
LIVE_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "rtmps://", "udp://", "tcp://", "srt://")


@dataclass(frozen=True)
class Frame:
    """One frame on its way through the pipeline.

    Attributes:
        image: ``(H, W, 3)`` uint8 BGR pixels.
        index: position in the source (0-based; live sources skip the indices they dropped).
        time: seconds since the start of the source (file timestamp or capture time).
        pts: the source timestamp in ``time_base`` units (None for cameras and images).
        time_base: the unit of ``pts``.
        alpha: an image's alpha channel, put back on the result by the image sink.
        captured: ``time.monotonic()`` when the frame was captured (cameras) or read (files): the
            start of the capture-to-display latency a live window shows.
    """

    image: npt.NDArray[np.uint8]
    index: int
    time: float
    pts: int | None = None
    time_base: Fraction | None = None
    alpha: npt.NDArray[np.uint8] | None = None
    captured: float | None = None

    def with_image(self, image: npt.NDArray[np.uint8]) -> Frame:
        """The same frame (index, timestamps, alpha) with other pixels: the stylized result."""
        return replace(self, image=image)


class Source(Protocol):
    """What the pipeline needs from a source."""

    info: VideoInfo
    live: bool  # live sources drop stale frames; the others never drop
    name: str
    dropped: int  # frames replaced by newer ones before anyone read them (live sources)
    corrupt: int  # damaged packets skipped or frames repeated (file sources)

    def __iter__(self) -> Iterator[Frame]: ...

    def close(self) -> None: ...


def fit_within(image: npt.NDArray[np.uint8], max_side: int | None) -> npt.NDArray[np.uint8]:
    """Shrink ``image`` (area filter) so its longer side is at most ``max_side``; never enlarges."""
    if max_side is None or max(image.shape[:2]) <= max_side:
        return image
    height, width = image.shape[:2]
    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def fitted_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """The (width, height) :func:`fit_within` produces for a frame of this size."""
    if max_side is None or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


class ImageSource:
    """A still image as a one-frame source (grayscale, 16-bit and alpha handled by stylecam.images)."""

    live = False

    def __init__(self, path: str | os.PathLike[str], *, max_size: int | None = None) -> None:
        self.path = Path(path)
        self.name = str(path)
        loaded = read_image(path)
        self._image = fit_within(loaded.bgr, max_size)
        self._alpha = None if loaded.alpha is None else fit_within(loaded.alpha, max_size)
        if self._image.shape != loaded.bgr.shape:
            log.info(
                "image %dx%d shrunk to %dx%d (--max-size %s)",
                loaded.bgr.shape[1],
                loaded.bgr.shape[0],
                self._image.shape[1],
                self._image.shape[0],
                max_size,
            )
        height, width = self._image.shape[:2]
        self.info = VideoInfo(width=width, height=height, frame_count=1, has_alpha=self._alpha is not None)
        self.dropped = 0
        self.corrupt = 0

    def __iter__(self) -> Iterator[Frame]:
        yield Frame(image=self._image, index=0, time=0.0, alpha=self._alpha)

    def close(self) -> None:
        """Nothing to release: the image was decoded up front."""


def classify_source(spec: str) -> SourceKind:
    """Tell what ``--source`` names: a camera (index or /dev/videoN), a stream URL, an image, a video,
    or an image sequence (a folder, or a glob pattern such as ``frames/*.png``)."""
    from stylecam.runtime.media.sequence import is_sequence

    text = spec.strip()
    if text.isdigit() or text.startswith("/dev/video"):
        return "camera"
    if text.lower().startswith(LIVE_SCHEMES):
        return "stream"
    if is_url(text):
        return "video"  # http(s): a file served over the network, read in order
    if is_sequence(text):
        return "sequence"
    if Path(text).suffix.lower() in IMAGE_SUFFIXES:
        return "image"
    return "video"


def open_source(
    spec: str,
    *,
    max_size: int | None = None,
    camera_options: dict[str, Any] | None = None,
    capture_factory: Callable[[int | str], Any] | None = None,
    info: VideoInfo | None = None,
    decode_threads: int = 0,
) -> Source:
    """Open what ``--source`` names (see :func:`classify_source`); errors name the problem and the fix.

    Args:
        spec: camera index, /dev/videoN, stream URL, image or video path.
        max_size: shrink frames whose longer side exceeds this (None: keep the size).
        camera_options: ``width``/``height``/``fps`` requests and timeouts for cameras.
        capture_factory: builds the OpenCV-like capture object (tests pass a fake camera).
        info: an already probed VideoInfo for a video file (saves a second probe).
        decode_threads: FFmpeg decoder threads for a video file or stream (0: FFmpeg's choice).
    """
    kind = classify_source(spec)
    options = dict(camera_options or {})
    if kind == "sequence":
        from stylecam.runtime.media.sequence import DEFAULT_FPS, ImageSequenceSource

        _refuse_camera_options(options, spec, kind, allowed=("fps",))
        return ImageSequenceSource(spec, fps=options.get("fps") or DEFAULT_FPS, max_size=max_size)
    if kind == "camera":
        from stylecam.runtime.media.webcam import WebcamSource

        device: int | str = int(spec) if spec.strip().isdigit() else spec.strip()
        if capture_factory is not None:
            options["capture_factory"] = capture_factory
        return WebcamSource(device, max_size=max_size, **options)
    if kind == "image":
        return ImageSource(spec, max_size=max_size)
    from stylecam.runtime.media.video_file import VideoFileSource

    _refuse_camera_options(options, spec, kind)
    return VideoFileSource(spec, info=info, max_size=max_size, live=kind == "stream", decode_threads=decode_threads)


def _refuse_camera_options(options: dict[str, Any], spec: str, kind: str, allowed: tuple[str, ...] = ()) -> None:
    unused = ", ".join(f"--{key}" for key, value in options.items() if value is not None and key not in allowed)
    if unused:
        what = "cameras and image sequences" if "fps" in unused else "cameras"
        raise UsageError(f"{unused} only apply to {what}; {spec} is a {kind} (use --max-size to shrink it)")

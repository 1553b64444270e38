"""An image sequence as a video source: a folder of frames, or a glob pattern such as ``frames/*.png``.

Files are played in natural name order (``frame2.png`` before ``frame10.png``) at a fixed frame
rate. Like a video file, a sequence never drops a frame; an image that cannot be read is replaced
by the last good one (keeping the timing) and counted, the way damaged video packets are. Alpha
channels are dropped (a video has no transparency), with a notice.
"""

from __future__ import annotations

import glob
import logging
import os
import re
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np
import numpy.typing as npt

from stylecam.errors import SourceError, StylecamError, UsageError
from stylecam.images import IMAGE_SUFFIXES, read_image
from stylecam.runtime.media.sources import Frame, fit_within
from stylecam.runtime.media.video_info import VideoInfo

log = logging.getLogger(__name__)

DEFAULT_FPS = 25.0
_GLOB_CHARS = re.compile(r"[*?\[]")
_DIGITS = re.compile(r"(\d+)")
_LISTED_DAMAGE = 5


def is_sequence(spec: str) -> bool:
    """Whether ``--source`` names an image sequence: an existing folder or a glob pattern."""
    text = os.path.expanduser(spec.strip())
    return bool(_GLOB_CHARS.search(text)) or Path(text).is_dir()


def natural_key(path: Path) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders the numbers in names by value: ``f2.png`` < ``f10.png``."""
    parts = _DIGITS.split(path.name.lower())
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in parts if part)


def sequence_files(spec: str) -> list[Path]:
    """The image files of a folder (not its subfolders) or a glob pattern, in natural order.

    Raises:
        SourceError: nothing matches, or nothing that matches is an image (names the suffixes).
    """
    text = os.path.expanduser(spec.strip())
    folder = Path(text)
    found = sorted(folder.iterdir()) if folder.is_dir() else [Path(p) for p in glob.glob(text)]
    files = [path for path in found if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        what = f"the folder {spec}" if folder.is_dir() else f"the pattern {spec!r}"
        raise SourceError(
            f"{what} holds no images ({', '.join(IMAGE_SUFFIXES)}); check the path "
            "(quote a pattern so the shell does not expand it: --source 'frames/*.png')"
        )
    return sorted(files, key=natural_key)


def _time_base(fps: float) -> Fraction:
    return 1 / Fraction(fps).limit_denominator(1001)


class ImageSequenceSource:
    """Frames from image files, in order, at ``fps`` (see the module doc).

    Args:
        spec: a folder or a glob pattern.
        fps: the frame rate to play the images at.
        max_size: shrink frames whose longer side exceeds this.

    Raises:
        SourceError: no images found. InputError: the first image cannot be read (checked up front).
    """

    live = False

    def __init__(self, spec: str, *, fps: float = DEFAULT_FPS, max_size: int | None = None) -> None:
        if not 0 < fps <= 1000:
            raise UsageError(f"--fps must be between 1 and 1000 for an image sequence, got {fps:g}")
        self.name = spec
        self.files = sequence_files(spec)
        self.max_size = max_size
        first = read_image(self.files[0])
        self._first = fit_within(first.bgr, max_size)
        height, width = self._first.shape[:2]
        self._time_base = _time_base(fps)
        self.info = VideoInfo(
            width=width,
            height=height,
            fps=fps,
            frame_count=len(self.files),
            duration=len(self.files) / fps,
            codec="images",
            has_alpha=first.alpha is not None,
            time_base=self._time_base,
        )
        if first.alpha is not None:
            log.info("%s: the images have an alpha channel; video output has no transparency, so it is dropped", spec)
        log.info("%s: %d images, %dx%d, played at %g fps", spec, len(self.files), width, height, fps)
        self.dropped = 0
        self.corrupt = 0

    def __iter__(self) -> Iterator[Frame]:
        last: npt.NDArray[np.uint8] = self._first
        for index, path in enumerate(self.files):
            image = self._first if index == 0 else self._read(path, last)
            last = image
            yield Frame(
                image=image, index=index, time=float(index * self._time_base), pts=index, time_base=self._time_base
            )

    def _read(self, path: Path, last: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        try:
            return fit_within(read_image(path).bgr, self.max_size)
        except StylecamError as exc:
            self.corrupt += 1
            if self.corrupt <= _LISTED_DAMAGE:
                log.warning("%s cannot be read (%s); the previous frame is repeated in its place", path, exc)
            return last

    def close(self) -> None:
        """Nothing held: each image is read when its turn comes."""

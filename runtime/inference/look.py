"""Adjusting what the model draws: processing resolution, colour preservation and strength.

These run after the model and before temporal smoothing, so the smoother stabilises exactly what
is shown and its history never mixes adjusted and unadjusted frames. All numpy/OpenCV.

* **processing resolution** (``scale`` / ``size``): the model runs on a resized frame and its
  output is resized back, so the output keeps the source's size. A smaller run size is faster and
  paints bigger strokes (a feed-forward network's strokes have a fixed size in pixels).
* **preserve colour**: luminance from the stylized frame, chroma from the source (YCrCb, the
  same choice as ``stylecam paint --preserve-color``; Gatys et al. 2016, "Preserving colour").
* **strength**: ``strength * stylized + (1 - strength) * source``.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import numpy.typing as npt

from stylecam.errors import UsageError
from stylecam.runtime.config import LookConfig
from stylecam.runtime.inference.preprocess import resize_batch

Image = npt.NDArray[np.uint8]


def processing_size(height: int, width: int, config: LookConfig) -> tuple[int, int]:
    """The (height, width) the model runs at for a frame of this size (the frame's own by default)."""
    if config.size is not None:
        run_w, run_h = config.size
        return run_h, run_w
    if config.scale is not None:
        return max(1, round(height * config.scale)), max(1, round(width * config.scale))
    return height, width


def resize_to(image: Image, height: int, width: int) -> Image:
    """Resize one frame to (height, width), with the Stylizer's own choice of filters."""
    return image if image.shape[:2] == (height, width) else resize_batch(image[None], height, width)[0]


def _check_pair(source: Image, stylized: Image) -> None:
    if source.shape != stylized.shape or source.dtype != np.uint8 or stylized.dtype != np.uint8:
        raise UsageError(
            f"source {source.dtype} {source.shape} and stylized {stylized.dtype} {stylized.shape} must be uint8 "
            "frames of the same shape"
        )


def keep_source_colours(source: Image, stylized: Image) -> Image:
    """Luminance (Y) of ``stylized`` with the chroma (Cr, Cb) of ``source``; inputs are not modified."""
    _check_pair(source, stylized)
    mixed = cv2.cvtColor(source, cv2.COLOR_BGR2YCrCb)
    # mixChannels writes channel 0 in place: no full-size temporary for the split/merge.
    cv2.mixChannels([cv2.cvtColor(stylized, cv2.COLOR_BGR2YCrCb)], [mixed], [0, 0])
    return cv2.cvtColor(mixed, cv2.COLOR_YCrCb2BGR)


def blend_strength(source: Image, stylized: Image, strength: float) -> Image:
    """``strength * stylized + (1 - strength) * source``, rounded and saturated to uint8."""
    _check_pair(source, stylized)
    if strength >= 1.0:
        return stylized
    return cv2.addWeighted(stylized, float(strength), source, 1.0 - float(strength), 0.0)


class Look:
    """A stylize callable with the adjustments of a :class:`LookConfig` around it.

    Args:
        stylize: ``(H, W, 3)`` uint8 BGR -> the same shape (a Stylizer, or anything like it).
        config: strength, colour preservation and processing resolution.
    """

    def __init__(self, stylize: Callable[[Image], Image], config: LookConfig | None = None) -> None:
        self.stylize = stylize
        self.config = config or LookConfig()

    def __call__(self, frame: Image) -> Image:
        config = self.config
        if config.strength == 0.0:
            return frame.copy()  # the original: no need to run the model at all
        height, width = frame.shape[:2]
        run_h, run_w = processing_size(height, width, config)
        out = self.stylize(resize_to(frame, run_h, run_w))
        out = resize_to(out, height, width)
        if config.preserve_color:
            out = keep_source_colours(frame, out)
        return blend_strength(frame, out, config.strength)

"""Stability without a video: the warping error of a network under known, synthetic motion.

A real clip's warping error depends on its optical flow (estimated, with occlusions); here the
motion is drawn, so it is exact. For a photo ``x`` and a random smooth warp ``W`` (a global shift
of a few pixels plus a smooth local field: displacements on a coarse grid, upsampled bicubically)
and a little sensor noise ``n``, the second "frame" is ``W(x) + n``. A stable network paints it
as the first frame's painting moved the same way, so the error is::

    E = mean over valid pixels of |W(S(x)) - S(W(x) + n)|^2 / 3      (pixels on a 0-1 scale)

the same measure as :mod:`stylecam.runtime.temporal.stability` (Lai et al.). The source's own
error ``|W(x) - (W(x) + n)|^2`` is the floor the noise sets, and the ratio to it reads like the
real-clip ratio. The same construction trains stability in (``stylecam train --temporal-weight``).
Torch-free: numpy and OpenCV only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class WarpSettings:
    """The motion drawn for each pair (defaults match ``stylecam train``'s temporal term)."""

    shift: float = 4.0  # largest global shift, px
    local: float = 2.0  # largest local displacement, px
    cells: int = 4  # coarse grid cells per side
    noise: float = 2.0  # std of the Gaussian noise on the moved photo, 0-255


@dataclass(frozen=True)
class SyntheticResult:
    pairs: int
    warp_error: float  # mean over pairs, 0-1 pixels squared
    source_warp_error: float  # the noise floor
    ratio: float


def random_maps(
    height: int, width: int, settings: WarpSettings, rng: np.random.Generator
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    """``cv2.remap`` maps of one random smooth warp, and the mask of pixels that stay inside."""
    shift = rng.uniform(-settings.shift, settings.shift, size=2)
    coarse = rng.uniform(-settings.local, settings.local, size=(settings.cells + 1, settings.cells + 1, 2))
    field = cv2.resize(coarse.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    map_x = xs + field[..., 0] + np.float32(shift[0])
    map_y = ys + field[..., 1] + np.float32(shift[1])
    valid = (map_x >= 0) & (map_x <= width - 1) & (map_y >= 0) & (map_y <= height - 1)
    return map_x, map_y, valid


def apply_maps(image: Image, map_x: npt.NDArray[np.float32], map_y: npt.NDArray[np.float32]) -> Image:
    return cv2.remap(image, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _error(first: Image, second: Image, valid: npt.NDArray[np.bool_]) -> float:
    difference = (first.astype(np.float32) - second.astype(np.float32)) / 255.0
    squared = (difference**2).sum(axis=2)[valid]
    return float(squared.mean() / 3.0) if squared.size else 0.0


def synthetic_warp_error(
    stylize: Callable[[Image], Image],
    photos: Sequence[Image],
    *,
    warps: int = 4,
    settings: WarpSettings | None = None,
    seed: int = 0,
) -> SyntheticResult:
    """Warping error of ``stylize`` over ``warps`` random warps of each photo (BGR uint8)."""
    settings = settings or WarpSettings()
    rng = np.random.default_rng(seed)
    errors, floors = [], []
    for photo in photos:
        painted = stylize(photo)
        height, width = photo.shape[:2]
        for _ in range(warps):
            map_x, map_y, valid = random_maps(height, width, settings, rng)
            moved = apply_maps(photo, map_x, map_y)
            noisy = np.clip(moved.astype(np.float32) + rng.normal(0, settings.noise, moved.shape), 0, 255)
            noisy = noisy.round().astype(np.uint8)
            errors.append(_error(apply_maps(painted, map_x, map_y), stylize(noisy), valid))
            floors.append(_error(moved, noisy, valid))
    error, floor = float(np.mean(errors)), float(np.mean(floors))
    return SyntheticResult(len(errors), error, floor, error / floor if floor > 0 else float("inf"))

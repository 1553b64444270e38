"""Natural test frames for the parity gate: crops of the bundled CC0 photos.

Random noise is a poor probe of a style network (its statistics drive instance norm to places no
camera frame goes), so the gate uses the two photos that ship with the package; a synthetic
gradient stands in only if the assets are missing from a stripped install.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

import stylecam

PHOTOS_FOLDER = Path(stylecam.__file__).resolve().parent / "assets" / "photos"


@cache
def _photos() -> tuple[npt.NDArray[np.uint8], ...]:
    photos = []
    for path in sorted(PHOTOS_FOLDER.glob("*.jpg")):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is not None:
            photos.append(image)
    if not photos:
        y, x = np.mgrid[0:256, 0:256].astype(np.float32)
        photos.append(np.stack([x, y, (x + y) / 2], axis=-1).astype(np.uint8))
    return tuple(photos)


def sample_frames(batch: int, height: int, width: int, *, seed: int = 0) -> npt.NDArray[np.uint8]:
    """``(batch, height, width, 3)`` uint8 BGR crops of the bundled photos, deterministic per seed."""
    rng = np.random.default_rng(seed)
    photos = _photos()
    frames = np.empty((batch, height, width, 3), dtype=np.uint8)
    for index in range(batch):
        photo = photos[(seed + index) % len(photos)]
        # Scale so the crop shows a scene, not a few pixels of one (tiny frames see a shrunk photo).
        scale = 1.5 * max(height / photo.shape[0], width / photo.shape[1])
        size = (max(width, round(photo.shape[1] * scale)), max(height, round(photo.shape[0] * scale)))
        resized = cv2.resize(photo, size, interpolation=cv2.INTER_AREA)
        top = int(rng.integers(0, resized.shape[0] - height + 1))
        left = int(rng.integers(0, resized.shape[1] - width + 1))
        frames[index] = resized[top : top + height, left : left + width]
    return frames

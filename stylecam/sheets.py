"""Contact sheets: frames laid out in a grid with captions, written as small JPEGs.

Used by ``stylecam demo`` (source | stylized side by side), the packaging tool (painting |
stylized photo thumbnails) and the README gallery. Torch-free (OpenCV and numpy only).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from stylecam.atomic import atomic_output
from stylecam.errors import OutputError, UsageError

Image = npt.NDArray[np.uint8]
BACKGROUND = (255, 255, 255)
CAPTION_HEIGHT = 22


def fit_height(image: Image, height: int) -> Image:
    """Resize to ``height`` px high, keeping the aspect ratio (area filter to shrink)."""
    if image.shape[0] == height:
        return image
    width = max(1, round(image.shape[1] * height / image.shape[0]))
    interpolation = cv2.INTER_AREA if height < image.shape[0] else cv2.INTER_CUBIC
    return cv2.resize(image, (width, height), interpolation=interpolation)


def _captioned(image: Image, caption: str) -> Image:
    strip = np.full((CAPTION_HEIGHT, image.shape[1], 3), BACKGROUND, np.uint8)
    scale, thickness = 0.45, 1
    (width, _), _ = cv2.getTextSize(caption, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    while width > image.shape[1] - 4 and len(caption) > 4:  # shorten captions wider than the tile
        caption = caption[:-4] + "..."
        (width, _), _ = cv2.getTextSize(caption, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    origin = (max(2, (image.shape[1] - width) // 2), CAPTION_HEIGHT - 7)
    cv2.putText(strip, caption, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (40, 40, 40), thickness, cv2.LINE_AA)
    return np.vstack([image, strip])


def grid(
    rows: Sequence[Sequence[Image]],
    *,
    height: int,
    captions: Sequence[Sequence[str]] | None = None,
    gap: int = 4,
) -> Image:
    """Tiles (BGR uint8) scaled to ``height`` px high, laid out row by row with ``gap`` px between them.

    Rows may differ in width; shorter rows are padded on the right. ``captions`` (same shape as
    ``rows``) are printed under each tile.
    """
    if not rows or not all(rows):
        raise UsageError("a contact sheet needs at least one tile in every row")
    lines = []
    for index, row in enumerate(rows):
        tiles = [fit_height(tile, height) for tile in row]
        if captions is not None:
            tiles = [_captioned(tile, text) for tile, text in zip(tiles, captions[index])]
        spacer = np.full((tiles[0].shape[0], gap, 3), BACKGROUND, np.uint8)
        parts = [part for tile in tiles for part in (tile, spacer)][:-1]
        lines.append(np.hstack(parts))
    width = max(line.shape[1] for line in lines)
    padded = []
    for line in lines:
        pad = np.full((line.shape[0], width - line.shape[1], 3), BACKGROUND, np.uint8)
        padded += [np.hstack([line, pad]), np.full((gap, width, 3), BACKGROUND, np.uint8)]
    return np.vstack(padded[:-1])


def write_jpeg(path: str | os.PathLike[str], image: Image, *, quality: int = 85) -> None:
    """Write ``image`` as a JPEG of the given quality, atomically (the target only ever holds a whole file)."""
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_OPTIMIZE, 1])
    if not ok:
        raise OutputError(f"could not encode {os.fspath(path)} as JPEG")
    with atomic_output(path) as tmp:
        tmp.write_bytes(encoded.tobytes())

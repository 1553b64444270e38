"""Contact sheets: tiles scaled to one height, rows padded, captions, atomic JPEG output."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from stylecam.errors import UsageError
from stylecam.sheets import CAPTION_HEIGHT, fit_height, grid, write_jpeg


@pytest.mark.parametrize(("shape", "height", "expected"), [((40, 60), 20, (20, 30)), ((30, 31), 60, (60, 62))])
def test_fit_height_keeps_the_aspect(shape: tuple[int, int], height: int, expected: tuple[int, int]) -> None:
    assert fit_height(np.zeros((*shape, 3), np.uint8), height).shape[:2] == expected


def test_grid_layout() -> None:
    wide, square = np.full((10, 40, 3), 50, np.uint8), np.full((20, 20, 3), 200, np.uint8)
    sheet = grid([[wide, square], [square]], height=20, gap=2)
    assert sheet.shape == (20 + 2 + 20, 80 + 2 + 20, 3)
    assert (sheet[0, :80] == 50).all() and (sheet[0, 82:] == 200).all()
    assert (sheet[22:, 22:] == 255).all()  # the short second row is padded with the background
    captioned = grid([[square]], height=20, captions=[["a caption far too long for the tile"]])
    assert captioned.shape[0] == 20 + CAPTION_HEIGHT and (captioned[20:] < 255).any()


@pytest.mark.parametrize("rows", [[], [[]], [[np.zeros((4, 4, 3), np.uint8)], []]])
def test_grid_needs_tiles(rows: list) -> None:
    with pytest.raises(UsageError, match=re.escape("a contact sheet needs at least one tile in every row")):
        grid(rows, height=10)


def test_write_jpeg_round_trips(tmp_path: Path) -> None:
    image = np.zeros((32, 48, 3), np.uint8)
    image[:, 24:] = (0, 0, 255)
    target = tmp_path / "sheet.jpg"
    write_jpeg(target, image)
    back = cv2.imread(str(target))
    assert back.shape == image.shape and np.abs(back.astype(int) - image).mean() < 3
    assert [p.name for p in tmp_path.iterdir()] == ["sheet.jpg"]

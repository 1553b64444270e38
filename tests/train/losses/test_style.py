"""The style image: bundled names, grayscale, alpha, tiny, huge, thin and unreadable paintings."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from stylecam.errors import InputError
from stylecam.train.losses.style import BUNDLED_LICENSES, bundled_styles, file_sha256, load_style, resolve_style

from ..conftest import make_painting


def _write(path: Path, pixels: np.ndarray) -> Path:
    cv2.imwrite(str(path), pixels)
    return path


def test_bundled_name_resolves_with_its_licence() -> None:
    assert set(bundled_styles()) == set(BUNDLED_LICENSES)
    style = load_style("starry_night", long_side=96)
    assert style.name == "starry_night" and "public domain" in style.license
    assert max(style.bgr.shape[:2]) == 96 and style.sha256 == file_sha256(resolve_style("starry_night"))


def test_unknown_style_lists_the_bundled_ones() -> None:
    with pytest.raises(InputError, match=r"neither an image file.*great_wave.*starry_night"):
        resolve_style("van_gogh_please")


def test_path_style_takes_its_stem_and_overrides(tmp_path: Path) -> None:
    path = _write(tmp_path / "my painting.png", make_painting(120, 200))
    style = load_style(str(path), long_side=100)
    assert style.name == "my painting" and style.license == "" and style.bgr.shape == (60, 100, 3)
    assert style.original_size == (200, 120)
    named = load_style(str(path), long_side=100, name="sunset", license="CC0")
    assert (named.name, named.license) == ("sunset", "CC0")


def test_grayscale_is_accepted_with_a_note(tmp_path: Path) -> None:
    gray = cv2.cvtColor(make_painting(128, 128), cv2.COLOR_BGR2GRAY)
    style = load_style(str(_write(tmp_path / "g.png", gray)), long_side=128)
    assert style.bgr.shape == (128, 128, 3) and any("grayscale" in n for n in style.notes)


def test_alpha_is_painted_white(tmp_path: Path) -> None:
    bgra = np.dstack([make_painting(128, 128), np.full((128, 128), 255, np.uint8)])
    bgra[:64, :, 3] = 0  # top half fully transparent (its colour is meaningless)
    bgra[:64, :, :3] = 0
    style = load_style(str(_write(tmp_path / "a.png", bgra)), long_side=128)
    assert (style.bgr[:60] == 255).all() and style.bgr[70:].mean() < 250
    assert any("alpha" in n for n in style.notes)


def test_small_style_is_upscaled_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = _write(tmp_path / "small.png", make_painting(40, 40))
    with caplog.at_level(logging.WARNING):
        style = load_style(str(path), long_side=256)
    assert style.bgr.shape == (256, 256, 3) and "blurry" in caplog.text


def test_huge_style_is_resized_with_a_note(tmp_path: Path) -> None:
    path = _write(tmp_path / "huge.jpg", make_painting(1200, 2000))
    style = load_style(str(path), long_side=256)
    assert style.bgr.shape == (154, 256, 3) and any("resized" in n for n in style.notes)


@pytest.mark.parametrize(
    ("pixels", "message"),
    [
        (make_painting(10, 10), "only 10x10"),
        (make_painting(20, 1000), "too narrow"),
        (None, "cannot be decoded"),
    ],
)
def test_unusable_styles_are_refused(tmp_path: Path, pixels, message: str) -> None:
    path = tmp_path / "style.png"
    if pixels is None:
        path.write_text("this is a text file, not a painting")
    else:
        _write(path, pixels)
    with pytest.raises(InputError, match=message):
        load_style(str(path), long_side=256)

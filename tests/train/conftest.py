"""Fixtures for the training tests: a tiny folder of synthetic photos and a synthetic painting."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from ..conftest import make_painting, make_photo


def write_photos(folder: Path, count: int, *, height: int = 72, width: int = 88) -> list[Path]:
    """``count`` synthetic photos, every other one in a subfolder (the listing is recursive)."""
    paths = []
    for index in range(count):
        sub = folder / "sub" if index % 2 else folder
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"photo{index:02d}.jpg"
        cv2.imwrite(str(path), make_photo(height, width, seed=index))
        paths.append(path)
    return paths


@pytest.fixture
def photo_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    write_photos(folder, 6)
    return folder


@pytest.fixture
def painting(tmp_path: Path) -> Path:
    path = tmp_path / "painting.png"
    cv2.imwrite(str(path), make_painting(160, 160))
    return path


@pytest.fixture
def one_thread():
    """Tiny tensors: thread start-up costs more than it saves, and CI shares its two cores."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

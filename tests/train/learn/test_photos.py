"""Training photos of a learn job: the bundled CC0 set, a folder, a video, a camera; crops fill up."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from stylecam.errors import InputError
from stylecam.runtime.media import webcam
from stylecam.runtime.media.synthetic import SyntheticCamera, SyntheticCameraBus
from stylecam.train.learn import photos
from stylecam.train.learn.photos import DEMO_CLIP, data_kind, prepare_photos

from ..conftest import write_photos


def _written(folder: Path) -> list[tuple[int, int]]:
    return [cv2.imread(str(p)).shape[:2] for p in sorted(folder.glob("*.jpg"))]


def test_the_default_set_ships_with_stylecam(tmp_path: Path) -> None:
    made = prepare_photos(None, tmp_path / "photos", count=12, side=128, at_least=4)
    shapes = _written(tmp_path / "photos")
    assert made.count == len(shapes) == 12 and all(max(shape) <= 128 for shape in shapes)
    assert "CC0 photos and demo clip" in made.description
    assert not list(tmp_path.glob(".*"))  # the scratch folder was renamed into place


def test_a_folder_is_sampled_evenly_and_unreadable_files_are_skipped(tmp_path: Path) -> None:
    source = tmp_path / "mine"
    write_photos(source, 10, height=90, width=120)
    (source / "broken.jpg").write_bytes(b"not a jpeg")
    made = prepare_photos(str(source), tmp_path / "photos", count=6, side=64, at_least=2)
    assert 5 <= made.count <= 6 and all(max(shape) == 64 for shape in _written(tmp_path / "photos"))


def test_few_images_are_filled_up_with_crops(tmp_path: Path) -> None:
    source = tmp_path / "one"
    write_photos(source, 1, height=120, width=160)
    made = prepare_photos(str(source), tmp_path / "photos", count=24, side=96, at_least=8)
    assert made.count == 8


def test_frames_of_a_video(tmp_path: Path) -> None:
    made = prepare_photos(str(DEMO_CLIP), tmp_path / "photos", count=5, side=96, at_least=2)
    assert made.count == 5 and made.description.startswith("frames of")


def test_frames_of_a_camera(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webcam, "default_capture_factory", SyntheticCameraBus({0: SyntheticCamera(320, 240)}).open)
    monkeypatch.setattr(photos, "CAMERA_INTERVAL_S", 0.0)
    made = prepare_photos("0", tmp_path / "photos", count=4, side=160, at_least=2)
    assert made.count == 4 and _written(tmp_path / "photos")[0] == (120, 160)


@pytest.mark.parametrize(("spec", "kind"), [(None, "bundled"), ("0", "camera"), ("/dev/video2", "camera")])
def test_data_kinds(spec: str | None, kind: str) -> None:
    assert data_kind(spec) == kind


def test_missing_data(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="camera index"):
        data_kind(str(tmp_path / "gone"))

"""Image folders and glob patterns as video sources (runtime/sequence.py)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from stylecam.errors import SourceError, UsageError
from stylecam.runtime.media.sequence import ImageSequenceSource, natural_key, sequence_files
from stylecam.runtime.media.sources import classify_source, open_source
from tests.conftest import make_photo


def write_frames(folder: Path, names: list[str], size: tuple[int, int] = (24, 32)) -> list[np.ndarray]:
    folder.mkdir(exist_ok=True)
    images = []
    for index, name in enumerate(names):
        image = make_photo(*size, seed=index)
        image[0, 0] = index  # a marker that survives PNG
        cv2.imwrite(str(folder / name), image)
        images.append(image)
    return images


def test_natural_order() -> None:
    names = ["f10.png", "f2.png", "f1.png", "F3.png"]
    assert [p.name for p in sorted(map(Path, names), key=natural_key)] == ["f1.png", "f2.png", "F3.png", "f10.png"]


def test_folder_and_glob_list_images_only_in_natural_order(tmp_path: Path) -> None:
    write_frames(tmp_path / "frames", ["f10.png", "f9.png", "f1.png"])
    (tmp_path / "frames" / "notes.txt").write_text("not a frame")
    (tmp_path / "frames" / "sub").mkdir()
    expected = ["f1.png", "f9.png", "f10.png"]
    assert [p.name for p in sequence_files(str(tmp_path / "frames"))] == expected
    assert [p.name for p in sequence_files(str(tmp_path / "frames" / "f*.png"))] == expected
    assert [p.name for p in sequence_files(str(tmp_path / "frames" / "f1*.png"))] == ["f1.png", "f10.png"]


@pytest.mark.parametrize(
    ("spec", "kind"),
    [("0", "camera"), ("clip.mp4", "video"), ("photo.png", "image"), ("frames/*.png", "sequence"), ("DIR", "sequence")],
)
def test_classify(tmp_path: Path, spec: str, kind: str) -> None:
    assert classify_source(spec.replace("DIR", str(tmp_path))) == kind


def test_frames_come_in_order_with_timestamps_at_the_given_rate(tmp_path: Path) -> None:
    images = write_frames(tmp_path / "frames", [f"{i}.png" for i in range(5)])
    source = open_source(str(tmp_path / "frames" / "*.png"), camera_options={"fps": 12.5, "width": None})
    assert isinstance(source, ImageSequenceSource) and not source.live
    assert (source.info.width, source.info.height, source.info.frame_count, source.info.fps) == (32, 24, 5, 12.5)
    frames = list(source)
    assert [int(f.image[0, 0, 0]) for f in frames] == [0, 1, 2, 3, 4]
    assert np.array_equal(frames[3].image, images[3])
    assert [f.time for f in frames] == pytest.approx([0, 0.08, 0.16, 0.24, 0.32])
    assert frames[1].time_base == Fraction(2, 25) and frames[4].pts == 4


def test_an_unreadable_image_repeats_the_last_good_one_and_is_counted(tmp_path: Path) -> None:
    write_frames(tmp_path / "frames", ["a1.png", "a2.png", "a4.png"])
    (tmp_path / "frames" / "a3.png").write_bytes(b"damaged")
    source = ImageSequenceSource(str(tmp_path / "frames"))
    frames = list(source)
    assert [int(f.image[0, 0, 0]) for f in frames] == [0, 1, 1, 2] and source.corrupt == 1


@pytest.mark.parametrize(
    ("setup", "spec", "error", "message"),
    [
        ("empty", "frames", SourceError, "holds no images"),
        ("none", "frames/*.jpg", SourceError, "quote a pattern"),
        ("ok", "frames", UsageError, "--fps must be between 1 and 1000"),
    ],
)
def test_refusals(tmp_path: Path, setup: str, spec: str, error: type[Exception], message: str) -> None:
    (tmp_path / "frames").mkdir()
    if setup == "ok":
        write_frames(tmp_path / "frames", ["1.png"])
    with pytest.raises(error, match=message):
        ImageSequenceSource(str(tmp_path / spec), fps=0 if setup == "ok" else 25)


def test_camera_size_options_are_refused_for_a_sequence(tmp_path: Path) -> None:
    write_frames(tmp_path / "frames", ["1.png"])
    with pytest.raises(UsageError, match="--width only apply to cameras"):
        open_source(str(tmp_path / "frames"), camera_options={"width": 640, "fps": None})

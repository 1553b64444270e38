from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from stylecam.errors import InputError, UsageError
from stylecam.images import check_image_suffix, read_image, resize_long_side, write_image

from .conftest import make_photo


def test_grayscale_becomes_three_equal_channels(tmp_path: Path) -> None:
    path = tmp_path / "g.png"
    cv2.imwrite(str(path), np.full((10, 12), 77, np.uint8))
    image = read_image(path)
    assert image.bgr.shape == (10, 12, 3) and (image.bgr == 77).all() and image.alpha is None
    assert any("grayscale" in note for note in image.notes)


def test_alpha_is_kept_aside(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    bgra = np.dstack([make_photo(20, 30), np.full((20, 30), 128, np.uint8)])
    cv2.imwrite(str(path), bgra)
    image = read_image(path)
    assert image.bgr.shape == (20, 30, 3) and image.alpha is not None and (image.alpha == 128).all()
    out = tmp_path / "b.png"
    write_image(out, image.bgr, image.alpha)
    assert cv2.imread(str(out), cv2.IMREAD_UNCHANGED).shape == (20, 30, 4)


def test_sixteen_bit_is_reduced(tmp_path: Path) -> None:
    path = tmp_path / "deep.png"
    cv2.imwrite(str(path), np.full((8, 8, 3), 65535, np.uint16))
    image = read_image(path)
    assert image.bgr.dtype == np.uint8 and (image.bgr == 255).all()


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width x height`` with almost no pixel data (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"hello, not an image", "text file"),
        (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 40, "video"),
        (cv2.imencode(".png", make_photo(40, 50))[1].tobytes()[:120], "damaged or cut-off PNG image; re-save it"),
        (cv2.imencode(".jpg", make_photo(40, 50))[1].tobytes()[:20], "damaged or cut-off JPEG image"),
        (_png_header(60000, 60000), r"too large to decode .*OpenCV's safety limit\); shrink it first"),
    ],
)
def test_bad_inputs_are_named(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.png"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_image(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_image(tmp_path / "nope.png")


def test_unknown_output_suffix() -> None:
    with pytest.raises(UsageError, match=r"\.png"):
        check_image_suffix("out.xyz")


def test_resize_long_side_keeps_aspect() -> None:
    assert resize_long_side(make_photo(50, 100), 40).shape == (20, 40, 3)
    assert resize_long_side(make_photo(100, 50), 200).shape == (200, 100, 3)

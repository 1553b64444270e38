"""The painting checks of ``stylecam learn``: each bad picture is refused in one line, before anything is made."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from stylecam.cli import main
from stylecam.errors import InputError
from stylecam.train.learn.painting import check_painting

from ...conftest import make_painting


def _png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims ``width`` x ``height`` (the pixel data is a token: never decoded that far)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    pixels = chunk(b"IDAT", zlib.compress(b"\x00" * 64))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + header + pixels + chunk(b"IEND", b""))
    return path


def _write(path: Path, image: np.ndarray) -> Path:
    assert cv2.imwrite(str(path), image)
    return path


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _transparent(path: Path, share: float) -> Path:
    bgra = cv2.cvtColor(make_painting(128, 128), cv2.COLOR_BGR2BGRA)
    rows = int(128 * share)
    bgra[:rows, :, 3] = 0
    return _write(path, bgra)


BAD = {
    "missing": (lambda p: p / "nope.jpg", "does not exist"),
    "empty": (lambda p: _bytes(p / "empty.jpg", b""), "empty"),
    "not an image": (lambda p: _bytes(p / "notes.jpg", b"hello"), "cannot be decoded"),
    "damaged": (lambda p: _bytes(p / "cut.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40), "damaged"),
    "tiny": (lambda p: _write(p / "tiny.png", make_painting(40, 200)), "at least 64 px"),
    "huge": (lambda p: _png_header_only(p / "huge.png", 20000, 15000), "shrink it"),
    "flat grey": (lambda p: _write(p / "grey.png", np.full((128, 128, 3), 128, np.uint8)), "single flat colour"),
    "greyscale": (
        lambda p: _write(p / "bw.png", cv2.cvtColor(make_painting(128, 128), cv2.COLOR_BGR2GRAY)),
        "--allow-grey",
    ),
    "transparent": (lambda p: _transparent(p / "holes.png", 0.3), "transparent; flatten it"),
    "fully transparent": (lambda p: _transparent(p / "glass.png", 1.0), "fully transparent"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_paintings_are_refused_with_the_fix(tmp_path: Path, case: str) -> None:
    make, words = BAD[case]
    with pytest.raises(InputError, match=words.replace("(", r"\(")):
        check_painting(make(tmp_path))


@pytest.mark.parametrize("case", ["tiny", "huge", "greyscale", "transparent", "not an image"])
def test_the_command_fails_in_one_line_and_leaves_nothing(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    painting = BAD[case][0](tmp_path)
    out = tmp_path / "models"
    code = main(["learn", str(painting), "--out", str(out), "--quality", "tiny", "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 3
    assert len(err) == 1 and err[0].startswith("stylecam: error: painting") and "Traceback" not in err[0]
    assert not out.exists()


def test_a_good_painting_passes(tmp_path: Path) -> None:
    path = _write(tmp_path / "ok.png", make_painting(96, 300))
    painting = check_painting(path)
    assert (painting.width, painting.height) == (300, 96) and len(painting.sha256) == 64


def test_greyscale_is_accepted_when_asked(tmp_path: Path) -> None:
    path = _write(tmp_path / "bw.png", cv2.cvtColor(make_painting(128, 128), cv2.COLOR_BGR2GRAY))
    assert check_painting(path, allow_grey=True).bgr.shape == (128, 128, 3)


def test_a_few_transparent_edge_pixels_are_fine(tmp_path: Path) -> None:
    assert check_painting(_transparent(tmp_path / "edge.png", 0.005)).width == 128

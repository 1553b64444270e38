"""Magic-byte sniffing and the MP4 box walk that catches cut-off files without FFmpeg."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from stylecam.runtime.media.sniff import check_iso_media, sniff


def _box(kind: bytes, payload: bytes = b"", size: int | None = None) -> bytes:
    return struct.pack(">I4s", size if size is not None else 8 + len(payload), kind) + payload


FTYP = _box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41")


@pytest.mark.parametrize(
    ("head", "description", "is_video"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "a JPEG image", False),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "a PNG image", False),
        (b"PK\x03\x04\x14\x00", "a ZIP archive", False),
        (b"%PDF-1.7\n", "a PDF document", False),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "a WAV audio file", False),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "an AVI video", True),
        (b"\x1a\x45\xdf\xa3\x01\x00", "a Matroska/WebM video", True),
        (FTYP, "an MP4/MOV video", True),
        (_box(b"ftyp", b"heic\x00\x00\x00\x00"), "a HEIC image", False),
        (_box(b"ftyp", b"M4A \x00\x00\x00\x00"), "an M4A audio file", False),
        (b"<!DOCTYPE html><html><body>404</body></html>", "an HTML page (a failed download?)", False),
        (b"just some notes\nline two\n", "a text file", False),
        (b"GIF89a\x01\x00", "a GIF image", True),
    ],
)
def test_sniff_names_what_a_file_is(head: bytes, description: str, is_video: bool) -> None:
    kind = sniff(head)
    assert kind is not None and kind.description == description and kind.is_video == is_video


@pytest.mark.parametrize("head", [b"", bytes(range(256)) * 2, b"\x00\x01\x02\x03\xfe\xff" * 20])
def test_unknown_binary_is_not_guessed(head: bytes) -> None:
    assert sniff(head) is None


@pytest.mark.parametrize(
    ("boxes", "problem"),
    [
        (FTYP + _box(b"moov", b"\x00" * 16) + _box(b"mdat", b"\x01" * 64), None),
        (FTYP + _box(b"mdat", b"\x01" * 64) + _box(b"moov", b"\x00" * 16), None),
        (FTYP + _box(b"mdat", b"\x01" * 64), "no index ('moov' atom)"),
        (FTYP + _box(b"moov", b"\x00" * 16) + _box(b"mdat", b"\x01" * 20, size=8 + 200), "inside its media data"),
        (FTYP + _box(b"mdat", b"\x01" * 20, size=8 + 200), "and it has no index"),
        (FTYP + _box(b"moov", b"", size=3), "is invalid"),
        (FTYP + struct.pack(">I4sQ", 1, b"mdat", 16 + 32) + b"\x00" * 32 + _box(b"moov", b"\x00" * 8), None),
    ],
    ids=["moov-first", "moov-last", "no-moov", "cut-mid-frame", "cut-and-no-moov", "bad-box-size", "64-bit-size"],
)
def test_iso_media_structure(tmp_path: Path, boxes: bytes, problem: str | None) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(boxes)
    found = check_iso_media(path)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found

"""Frames from a browser: the JPEG header is read before decoding, and every bad frame is a FrameRejected."""

from __future__ import annotations

import struct

import cv2
import numpy as np
import pytest

from stylecam.runtime.serve.frames import FrameRejected, decode_frame, encode_reply, jpeg_size
from tests.runtime.serve.conftest import decode_reply, jpeg

LIMITS = {"max_bytes": 2 * 2**20, "max_pixels": 1920 * 1080}


def _claiming(width: int, height: int) -> bytes:
    """A real JPEG whose header is rewritten to claim another size (a decompression bomb's trick)."""
    data = bytearray(jpeg(64, 48))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


@pytest.mark.parametrize(("width", "height"), [(160, 120), (1, 1), (641, 479)])
def test_the_header_gives_the_size(width: int, height: int) -> None:
    assert jpeg_size(jpeg(width, height)) == (width, height)


def test_progressive_jpegs_are_read_too() -> None:
    ok, data = cv2.imencode(".jpg", np.zeros((30, 50, 3), np.uint8), [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
    assert ok and jpeg_size(data.tobytes()) == (50, 30)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not a JPEG"),
        (b"GIF89a....", "not a JPEG"),
        (cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))[1].tobytes(), "not a JPEG"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "no frame header"),  # header cut short
        (b"\xff\xd8\xff\xe0\x00\x01", "damaged JPEG header"),  # impossible segment length
        (b"\xff\xd8\xff\xda\x00\x08" + bytes(20), "no frame header"),  # image data before any size
        (b"\xff\xd8\xffX\x00\x02", "no frame header"),
    ],
)
def test_malformed_frames_are_rejected_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(FrameRejected, match=reason):
        decode_frame(data, **LIMITS)


def test_a_frame_over_the_pixel_limit_is_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: object) -> None:
        raise AssertionError("decoded a frame over the limit")

    monkeypatch.setattr(cv2, "imdecode", never)
    with pytest.raises(FrameRejected, match=r"30000x30000 is over the 2073600 pixel limit"):
        decode_frame(_claiming(30000, 30000), **LIMITS)


def test_a_frame_over_the_byte_limit_is_refused() -> None:
    with pytest.raises(FrameRejected, match="over the 16 KiB limit"):
        decode_frame(jpeg(640, 480, quality=100), max_bytes=16 * 1024, max_pixels=10**7)


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9])
def test_a_truncated_frame_is_rejected_or_decodes_at_its_header_size(keep: float) -> None:
    """libjpeg fills a cut-off picture with grey: either way nothing but FrameRejected escapes."""
    data = jpeg(160, 120)
    try:
        image = decode_frame(data[: int(len(data) * keep)], **LIMITS)
    except FrameRejected:
        return
    assert image.shape == (120, 160, 3)


def test_a_good_frame_decodes_and_a_reply_carries_its_sequence() -> None:
    image = decode_frame(jpeg(160, 120), **LIMITS)
    assert image.shape == (120, 160, 3) and image.dtype == np.uint8
    sequence, back = decode_reply(encode_reply(7, image, 80))
    assert sequence == 7 and back.shape == image.shape
    assert np.abs(back.astype(int) - image).mean() < 6

"""The frames a browser sends and gets back: JPEG in, JPEG out, sizes checked before decoding.

A JPEG's pixel size is read from its header (the SOF segment) before anything is decoded, so a
small file that claims to be 30000x30000 pixels is refused without allocating the gigabytes it
would decode to. Decoding errors become :class:`FrameRejected` with a one-line reason the page
shows; nothing here raises anything else for bad input.
"""

from __future__ import annotations

import struct

import cv2
import numpy as np
import numpy.typing as npt

from stylecam.errors import InputError

Image = npt.NDArray[np.uint8]
JPEG_MAGIC = b"\xff\xd8\xff"
# Start-of-frame markers (baseline, progressive, lossless ...); C4, C8 and CC are other tables.
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_STANDALONE = {0x01, *range(0xD0, 0xD9)}  # TEM, RSTn, SOI: no length field
_SOS = 0xDA
REPLY_HEADER = struct.Struct(">I")  # the sequence number of the frame a reply answers


class FrameRejected(InputError):
    """A frame from a client was refused (not a JPEG, damaged, too big); the connection goes on."""


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a JPEG's header, without decoding it; FrameRejected if there is none."""
    if not data.startswith(JPEG_MAGIC):
        raise FrameRejected("not a JPEG image (send image/jpeg frames)")
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise FrameRejected("damaged JPEG header")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if length < 2:
            raise FrameRejected("damaged JPEG header")
        if marker in _SOF:
            if pos + 9 > len(data):
                break
            height, width = struct.unpack_from(">HH", data, pos + 5)
            if width == 0 or height == 0:
                raise FrameRejected("JPEG without a frame size")
            return width, height
        if marker == _SOS:
            break  # image data began before any frame header
        pos += 2 + length
    raise FrameRejected("damaged JPEG: no frame header")


def check_frame(data: bytes, *, max_bytes: int, max_pixels: int) -> tuple[int, int]:
    """(width, height) of a client's JPEG if it is within the byte and pixel limits (header only)."""
    if len(data) > max_bytes:
        raise FrameRejected(f"frame of {len(data) // 1024} KiB is over the {max_bytes // 1024} KiB limit")
    width, height = jpeg_size(data)
    if width * height > max_pixels:
        raise FrameRejected(f"frame of {width}x{height} is over the {max_pixels} pixel limit; send smaller frames")
    return width, height


def decode_jpeg(data: bytes, size: tuple[int, int] | None = None) -> Image:
    """A JPEG as an (H, W, 3) BGR frame of the size its header gives (``size``: already read)."""
    width, height = size or jpeg_size(data)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.shape[:2] != (height, width):
        raise FrameRejected("damaged JPEG: it does not decode")
    return image


def decode_frame(data: bytes, *, max_bytes: int, max_pixels: int) -> Image:
    """A client's JPEG as an (H, W, 3) BGR frame, after the byte and pixel limits are checked."""
    return decode_jpeg(data, check_frame(data, max_bytes=max_bytes, max_pixels=max_pixels))


def encode_reply(sequence: int, image: Image, quality: int) -> bytes:
    """The binary reply: 4-byte big-endian sequence number, then the JPEG."""
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # only for an empty image: a bug, not bad input
        raise RuntimeError(f"cannot encode a {image.shape} frame as JPEG")
    return REPLY_HEADER.pack(sequence & 0xFFFFFFFF) + encoded.tobytes()

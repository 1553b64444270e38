"""Still-image input and output with OpenCV, torch-free (used by paint, train and the runtime).

Images are handled as OpenCV does: ``(H, W, 3)`` uint8 **BGR**. Grayscale becomes three equal
channels, 16-bit is reduced to 8-bit with a notice, and an alpha channel is returned separately so
callers can put it back on the result.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from stylecam.errors import InputError, OutputError, UsageError
from stylecam.paths import check_input_file

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")


@dataclass
class LoadedImage:
    """A decoded image: 8-bit BGR pixels, the alpha channel if it had one, and what was changed."""

    bgr: npt.NDArray[np.uint8]
    alpha: npt.NDArray[np.uint8] | None = None
    notes: list[str] = field(default_factory=list)


def _image_kind(head: bytes) -> str | None:
    """The image format the first bytes announce (None: not an image we know)."""
    if head.startswith(b"\x89PNG"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "TIFF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    return None


# OpenCV refuses to decode images above this many pixels (a decompression-bomb guard).
OPENCV_MAX_PIXELS = int(os.environ.get("CV_IO_MAX_IMAGE_PIXELS", 1 << 30))


def _what_is_it(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(16)
    if head[4:8] == b"ftyp" or head[:4] == b"\x1aE\xdf\xa3":
        return "a video file"
    if head[:5] in (b"<?xml", b"<!DOC", b"<html"):
        return "a text/HTML file"
    if head.isascii():
        return "a text file"
    return "not a supported image"


def read_image(path: str | os.PathLike[str], *, what: str = "image") -> LoadedImage:
    """Decode an image file into 8-bit BGR (+ alpha); InputError names what went wrong."""
    file = check_input_file(path, what=what)
    data = np.fromfile(file, dtype=np.uint8)
    try:
        pixels = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    except cv2.error as exc:  # OpenCV raises, instead of returning None, for oversized or huge images
        raise InputError(_decode_failure(what, file, exc)) from exc
    if pixels is None or pixels.size == 0:
        kind = _image_kind(data[:16].tobytes())
        if kind is not None:
            raise InputError(f"{what} {file} is a damaged or cut-off {kind} image; re-save it or copy it again")
        raise InputError(
            f"{what} {file} cannot be decoded as an image ({_what_is_it(file)}); use PNG, JPEG, BMP, WebP or TIFF"
        )
    notes: list[str] = []
    if pixels.dtype != np.uint8:
        # 16-bit PNG/TIFF (or float TIFF): scale into 8 bits; the network works on 8-bit frames.
        top = 65535.0 if pixels.dtype == np.uint16 else float(max(pixels.max(), 1))
        pixels = np.clip(pixels.astype(np.float32) * (255.0 / top) + 0.5, 0, 255).astype(np.uint8)
        notes.append(f"{what} has more than 8 bits per channel; reduced to 8 bits")
    alpha = None
    if pixels.ndim == 2:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR)
        notes.append(f"{what} is grayscale; processed as three equal channels")
    elif pixels.shape[2] == 4:
        alpha = np.ascontiguousarray(pixels[:, :, 3])
        pixels = np.ascontiguousarray(pixels[:, :, :3])
        notes.append(f"{what} has an alpha channel; it is kept aside and put back on the result")
    elif pixels.shape[2] != 3:
        raise InputError(f"{what} {file} has {pixels.shape[2]} channels; expected 1, 3 or 4")
    for note in notes:
        log.info(note)
    return LoadedImage(bgr=pixels, alpha=alpha, notes=notes)


def _decode_failure(what: str, file: Path, exc: Exception) -> str:
    text = str(exc)
    if "CV_IO_MAX_IMAGE_PIXELS" in text or "validateInputImageSize" in text:
        return (
            f"{what} {file} is too large to decode (its header claims more than {OPENCV_MAX_PIXELS / 1e6:.0f} "
            "megapixels, OpenCV's safety limit); shrink it first, e.g. to 8K (7680x4320)"
        )
    if "Insufficient memory" in text or "OutOfMemory" in text:
        return f"{what} {file} is too large to decode in the free memory; shrink it first or close other programs"
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
    return f"{what} {file} cannot be decoded ({first[:200]}); re-save it as PNG or JPEG"


def check_image_suffix(path: str | os.PathLike[str]) -> Path:
    """Refuse an output name whose suffix OpenCV cannot encode, before any work starts."""
    file = Path(path)
    if file.suffix.lower() not in IMAGE_SUFFIXES or not cv2.haveImageWriter(f"x{file.suffix}"):
        raise UsageError(
            f"cannot write images of type {file.suffix or '(no suffix)'!r} ({file}); "
            f"use one of: {', '.join(IMAGE_SUFFIXES)}"
        )
    return file


def write_image(
    path: str | os.PathLike[str], bgr: npt.NDArray[np.uint8], alpha: npt.NDArray[np.uint8] | None = None
) -> None:
    """Encode BGR (+ alpha, where the format keeps it) to ``path``; OutputError on failure."""
    file = check_image_suffix(path)
    pixels = bgr
    if alpha is not None:
        if file.suffix.lower() in (".png", ".webp", ".tif", ".tiff"):
            pixels = np.dstack([bgr, alpha])
        else:
            log.warning(
                "%s cannot store transparency; the alpha channel is dropped (write .png to keep it)", file.suffix
            )
    ok, encoded = cv2.imencode(file.suffix, pixels)
    if not ok:
        raise OutputError(f"could not encode {file}; try another format such as .png")
    encoded.tofile(file)


def resize_long_side(bgr: npt.NDArray[np.uint8], size: int) -> npt.NDArray[np.uint8]:
    """Resize so the longer side is ``size`` px, keeping the aspect ratio (area filter to shrink)."""
    if size < 1:
        raise UsageError(f"size must be a positive number of pixels, got {size}")
    height, width = bgr.shape[:2]
    scale = size / max(height, width)
    if scale == 1.0:
        return bgr
    new = (max(1, round(width * scale)), max(1, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(bgr, new, interpolation=interpolation)

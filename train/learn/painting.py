"""The painting a user wants to learn: read once, checked, and refused early with a one-line reason.

Refused (InputError, nothing created): unreadable or not an image, tiny (under 64 px on a side),
huge (over 12,000 px on a side or 60 megapixels: shrink it first), transparent (more than 1 % of
its pixels: flatten it first), a single flat colour (nothing to learn), and greyscale unless
``--allow-grey`` (a grey style paints every frame grey). Torch-free.
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from stylecam.errors import InputError
from stylecam.images import read_image
from stylecam.paths import check_input_file

log = logging.getLogger(__name__)

MIN_SIDE = 64  # below this there is no brushwork left to learn from
SMALL_SIDE = 256  # below this the strokes come out blurry: warn
MAX_SIDE = 12_000
MAX_PIXELS = 60_000_000
MAX_TRANSPARENT = 0.01  # share of pixels with alpha < 250 that is still "opaque" (anti-aliased edges)
MIN_CONTRAST = 3.0  # std of the pixel values (0-255) below which the picture is one flat colour
MIN_CHROMA = 4.0  # mean max-min channel spread (0-255) below which the picture is greyscale


@dataclass(frozen=True)
class Painting:
    """A checked painting: its pixels (BGR uint8) and what identifies it."""

    path: Path
    bgr: npt.NDArray[np.uint8]
    sha256: str
    width: int
    height: int

    @property
    def size_text(self) -> str:
        return f"{self.width}x{self.height}"


def _header_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from the file header without decoding the pixels (None when unknown)."""
    try:
        from PIL import Image  # a torchvision dependency; optional here
    except ImportError:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                return image.size
    except Image.DecompressionBombError as exc:  # beyond Pillow's own limit, so far beyond ours
        raise InputError(
            f"painting {path} is over {2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6:.0f} megapixels; shrink it to at "
            "most 4096 px on its long side first (learning looks at it at a few hundred px)"
        ) from exc
    except Exception:  # not an image Pillow knows, or damaged: the decoder says what is wrong
        return None


def _refuse_huge(path: Path, width: int, height: int) -> None:
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        raise InputError(
            f"painting {path} is {width}x{height} px ({width * height / 1e6:.0f} megapixels); shrink it to at most "
            f"4096 px on its long side first (learning looks at it at a few hundred px)"
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_alpha(path: Path, alpha: npt.NDArray[np.uint8] | None) -> None:
    if alpha is None:
        return
    transparent = float((alpha < 250).mean())
    if transparent >= 0.999:
        raise InputError(f"painting {path} is fully transparent: there is nothing to learn; check the file")
    if transparent > MAX_TRANSPARENT:
        raise InputError(
            f"painting {path} is {transparent:.0%} transparent; flatten it onto a background in an image editor "
            "(or save it as JPEG) and try again"
        )


def _check_colour(path: Path, bgr: npt.NDArray[np.uint8], *, allow_grey: bool) -> None:
    small = bgr[:: max(1, bgr.shape[0] // 256), :: max(1, bgr.shape[1] // 256)].astype(np.float32)
    if float(small.std()) < MIN_CONTRAST:
        raise InputError(
            f"painting {path} is a single flat colour: there is no texture to learn; pick a picture with brushwork"
        )
    chroma = float((small.max(axis=2) - small.min(axis=2)).mean())
    if chroma < MIN_CHROMA and not allow_grey:
        raise InputError(
            f"painting {path} is greyscale: its style would paint every frame grey; "
            "pass --allow-grey if that is what you want"
        )


def check_painting(path: str | os.PathLike[str], *, allow_grey: bool = False) -> Painting:
    """Read and check the painting (see the module doc); InputError names the problem and the fix."""
    file = check_input_file(path, what="painting")
    header = _header_size(file)
    if header is not None:
        _refuse_huge(file, *header)
    loaded = read_image(file, what="painting")
    height, width = loaded.bgr.shape[:2]
    _refuse_huge(file, width, height)
    if min(width, height) < MIN_SIDE:
        raise InputError(
            f"painting {file} is only {width}x{height} px; use a picture at least {MIN_SIDE} px on each side "
            f"({SMALL_SIDE} px or more for crisp strokes)"
        )
    _check_alpha(file, loaded.alpha)
    _check_colour(file, loaded.bgr, allow_grey=allow_grey)
    if min(width, height) < SMALL_SIDE:
        log.warning(
            "painting %s is only %dx%d px: the strokes will come out blurry; a larger scan gives crisper ones",
            file,
            width,
            height,
        )
    return Painting(path=file, bgr=loaded.bgr, sha256=_sha256(file), width=width, height=height)

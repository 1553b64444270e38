"""The style image: a path or a bundled painting's name, validated and sized before training starts."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

import stylecam
from stylecam.errors import InputError
from stylecam.images import read_image

log = logging.getLogger(__name__)

BUNDLED_STYLES_DIR = Path(stylecam.__file__).parent / "assets" / "styles"
# Licence notes of the bundled paintings (details in stylecam/assets/README.md).
BUNDLED_LICENSES = {
    "starry_night": "public domain (Vincent van Gogh, 1889)",
    "great_wave": "public domain (Katsushika Hokusai, c. 1831)",
    "the_scream": "public domain (Edvard Munch, 1893)",
    "composition_vii": "public domain (Wassily Kandinsky, 1913)",
    "udnie": "public domain in the US and life+70 countries (Francis Picabia, 1913)",
    "wreck_of_a_transport_ship": "public domain (J. M. W. Turner, c. 1810)",
    "contrast_of_forms": "public domain in the US and, from 2026, life+70 countries (Fernand Léger, 1913)",
}
MIN_SIDE = 16  # below this there is no texture left to learn from
SMALL_SIDE = 128  # below this the painting is upscaled a lot: warn
MIN_SHORT_SIDE_AFTER_RESIZE = 32  # VGG19 halves the image four times for relu5_1


@dataclass(frozen=True)
class StyleImage:
    """A decoded, resized painting and what identifies it in checkpoints and ONNX metadata."""

    bgr: npt.NDArray[np.uint8]
    name: str
    sha256: str
    license: str
    source: Path
    original_size: tuple[int, int]  # (width, height) of the file
    notes: tuple[str, ...] = field(default=())


def bundled_styles() -> list[str]:
    return sorted(p.stem for p in BUNDLED_STYLES_DIR.glob("*.jpg"))


def resolve_style(spec: str) -> Path:
    """A style given as a path, or as the name of a bundled painting (``starry_night``)."""
    path = Path(spec).expanduser()
    if path.exists():
        return path
    bundled = BUNDLED_STYLES_DIR / f"{spec}.jpg"
    if "/" not in spec and bundled.is_file():
        return bundled
    raise InputError(
        f"style {spec!r} is neither an image file nor a bundled style; "
        f"give a path or one of: {', '.join(bundled_styles())}"
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _bundled_license(sha256: str) -> str:
    for path in BUNDLED_STYLES_DIR.glob("*.jpg"):
        if file_sha256(path) == sha256:
            return BUNDLED_LICENSES.get(path.stem, "")
    return ""


def _flatten_alpha(bgr: npt.NDArray[np.uint8], alpha: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    # Transparent pixels hold arbitrary colours (often black); composite over white like a canvas.
    weight = alpha.astype(np.float32)[:, :, None] / 255.0
    return np.clip(bgr * weight + 255.0 * (1.0 - weight) + 0.5, 0, 255).astype(np.uint8)


def _resize(bgr: npt.NDArray[np.uint8], long_side: int, path: Path) -> tuple[npt.NDArray[np.uint8], list[str]]:
    height, width = bgr.shape[:2]
    notes = []
    if min(height, width) < MIN_SIDE:
        raise InputError(
            f"style image {path} is only {width}x{height} px; use a painting at least {SMALL_SIDE} px on each side"
        )
    scale = long_side / max(height, width)
    new = (max(1, round(width * scale)), max(1, round(height * scale)))
    if min(new) < MIN_SHORT_SIDE_AFTER_RESIZE:
        raise InputError(
            f"style image {path} ({width}x{height}) is too narrow: at {new[0]}x{new[1]} px it is under "
            f"{MIN_SHORT_SIDE_AFTER_RESIZE} px on its short side; crop it closer to square or raise --style-size"
        )
    if max(height, width) < SMALL_SIDE:
        notes.append(
            f"style image is only {width}x{height} px; upscaled to {new[0]}x{new[1]}, so the learned texture "
            "will be blurry (use a larger scan for crisp strokes)"
        )
    elif scale < 0.25:
        notes.append(f"style image is {width}x{height} px; resized to {new[0]}x{new[1]} (--style-size {long_side})")
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(bgr, new, interpolation=interpolation), notes


def load_style(spec: str, *, long_side: int, name: str | None = None, license: str | None = None) -> StyleImage:
    """Read, validate and resize the style image so its long side is ``long_side`` px."""
    path = resolve_style(spec)
    loaded = read_image(path, what="style image")
    notes = [n for n in loaded.notes if "alpha" not in n]
    bgr = loaded.bgr
    if loaded.alpha is not None:
        bgr = _flatten_alpha(bgr, loaded.alpha)
        notes.append("style image has an alpha channel; transparent parts were painted white")
    if "grayscale" in " ".join(loaded.notes):
        notes.append("a grayscale style gives a grayscale-looking network; that is what you will get")
    height, width = bgr.shape[:2]
    bgr, resize_notes = _resize(bgr, long_side, path)
    notes += resize_notes
    for note in notes:
        log.log(logging.WARNING if "blurry" in note else logging.INFO, note)
    sha256 = file_sha256(path)
    return StyleImage(
        bgr=bgr,
        name=name or path.stem,
        sha256=sha256,
        license=license if license is not None else _bundled_license(sha256),
        source=path,
        original_size=(width, height),
        notes=tuple(notes),
    )

"""The figures in a bundled style's model card: losses on the bundled photos, flicker on a real clip.

* Style and content loss (the training definitions, :mod:`stylecam.train.losses.perceptual`) of the
  exported model's output on the CC0 photos shipped in ``stylecam/assets/photos``, against the
  bundled thumbnail of the painting.
* ``stylecam eval`` on a clip (a few dozen frames, shrunk, so it is affordable on a CPU): the
  warping error without smoothing and with flow smoothing, and the style loss of each.

Everything runs the exported ``.onnx`` through ONNX Runtime, as a user would.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from stylecam.images import read_image
from stylecam.runtime.config import RuntimeConfig

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
CPU = RuntimeConfig(provider="cpu", probe="never")  # the figures must not depend on which GPU was there


@dataclass(frozen=True)
class ClipSettings:
    """How much of the clip ``stylecam eval`` measures (small on purpose: it runs on a CPU)."""

    path: Path
    frames: int = 40
    max_size: int = 384
    loss_every: int = 4


def _scorer(painting: Path) -> Any:
    from stylecam.train.losses.perceptual import PerceptualScorer

    return PerceptualScorer(read_image(painting).bgr, device="cpu")


def photo_losses(stylized: dict[str, tuple[Image, Image]], scorer: Any) -> dict[str, dict[str, float]]:
    """Style and content loss of each stylized photo against the scorer's painting and its photo."""
    losses = {}
    for name, (photo, result) in stylized.items():
        (value,) = scorer.score(photo, [result])
        losses[name] = {"style": round(float(value.style), 1), "content": round(float(value.content), 1)}
    return losses


def clip_figures(stylizer: Any, scorer: Any, settings: ClipSettings) -> dict[str, Any]:
    """What ``stylecam eval --smooth none flow`` measures on the first frames of a clip."""
    from stylecam.runtime.media.video_file import VideoFileSource
    from stylecam.train.evaluation.evaluate import evaluate_frames, parse_mode

    source = VideoFileSource(settings.path, max_size=settings.max_size)
    decoded = iter(source)
    with contextlib.closing(decoded):
        frames = (frame.image for frame in itertools.islice(decoded, settings.frames))
        modes = dict(parse_mode(mode) for mode in ("none", "flow"))
        result = evaluate_frames(frames, stylizer, modes, scorer=scorer, loss_every=settings.loss_every)
    rows = {
        row.label: {
            "warp_error": float(f"{row.warp_error:.4g}"),  # 0-1 pixel scale: tiny numbers
            "ratio": round(row.ratio, 3),
            "style_loss": None if row.style_loss is None else round(row.style_loss, 1),
            "content_loss": None if row.content_loss is None else round(row.content_loss, 1),
        }
        for row in result.modes
    }
    return {
        "clip": settings.path.name,
        "frames": result.frames,
        "size": [result.width, result.height],
        "loss_frames": result.loss_frames,
        "source_warp_error": float(f"{result.source_warp_error:.4g}"),
        "coverage": round(result.coverage, 3),
        "modes": rows,
    }


def measure_style(
    model: Path, painting: Path, photos: list[Path], clip: ClipSettings | None
) -> tuple[dict[str, Any], dict[str, tuple[Image, Image]]]:
    """Photo losses and clip figures of ``model`` (one VGG and one ONNX Runtime session for both).

    Returns the figures (``photos``, ``clip``) and the stylized photos (``{stem: (photo, result)}``).
    """
    from stylecam.runtime.inference.stylizer import Stylizer

    scorer = _scorer(painting)
    with Stylizer(model, CPU) as stylizer:
        stylized = {}
        for photo in photos:
            image = read_image(photo).bgr
            stylized[photo.stem] = (image, stylizer(image))
        figures = {
            "photos": photo_losses(stylized, scorer),
            "clip": clip_figures(stylizer, scorer, clip) if clip else None,
        }
    return figures, stylized

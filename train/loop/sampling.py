"""Fixed validation images stylized during training: a grid for TensorBoard and a PNG beside the checkpoint.

The validation set is the two bundled CC0 photos plus the first two readable training photos,
centre-cropped to squares, so every sample of a run (and of different runs) shows the same scenes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import torch
from torch import nn
from torchvision.utils import make_grid

import stylecam
from stylecam.atomic import atomic_output
from stylecam.images import write_image
from stylecam.train.data import decode
from stylecam.train.loop.engine import Precision

log = logging.getLogger(__name__)

BUNDLED_PHOTOS = tuple(sorted((Path(stylecam.__file__).parent / "assets" / "photos").glob("*.jpg")))
TRAINING_PHOTOS_IN_GRID = 2


def sample_size(crop: int) -> int:
    """Side of the validation squares: at least 256 px so the grid is worth looking at."""
    return max(crop, 256)


def _square(bgr: npt.NDArray[np.uint8], side: int) -> npt.NDArray[np.uint8]:
    height, width = bgr.shape[:2]
    short = min(height, width)
    top, left = (height - short) // 2, (width - short) // 2
    square = bgr[top : top + short, left : left + short]
    interpolation = cv2.INTER_AREA if short > side else cv2.INTER_CUBIC
    return cv2.resize(square, (side, side), interpolation=interpolation)


def validation_images(training_photos: Sequence[Path], side: int) -> torch.Tensor:
    """uint8 RGB ``(K, 3, side, side)``: the bundled photos and the first readable training photos."""
    squares = []
    for path in BUNDLED_PHOTOS:
        bgr = decode(path)
        if bgr is not None:
            squares.append(_square(bgr, side))
    taken = 0
    for path in training_photos:
        if taken == TRAINING_PHOTOS_IN_GRID:
            break
        bgr = decode(path)
        if bgr is not None:
            squares.append(_square(bgr, side))
            taken += 1
    rgb = np.stack([s[:, :, ::-1] for s in squares])
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(0, 3, 1, 2)


@torch.no_grad()
def stylize(model: nn.Module, images: torch.Tensor, precision: Precision, device: torch.device) -> torch.Tensor:
    """Run the network on uint8 RGB images one at a time; returns uint8 RGB on the CPU."""
    was_training = model.training
    model.eval()
    outputs = []
    try:
        for image in images:
            with precision.autocast():
                out = model(precision.prepare(image.unsqueeze(0), device))
            outputs.append(out.float().clamp(0, 255).round().to(torch.uint8).cpu())
    finally:
        model.train(was_training)
    return torch.cat(outputs)


def grid(inputs: torch.Tensor, outputs: torch.Tensor) -> npt.NDArray[np.uint8]:
    """Photos on the top row, their stylized versions below; HWC uint8 RGB."""
    tiles = torch.cat([inputs, outputs])
    image = make_grid(tiles, nrow=len(inputs), padding=4, pad_value=255)
    return np.ascontiguousarray(image.permute(1, 2, 0).numpy())


def write_grid(path: Path, grid_rgb: npt.NDArray[np.uint8]) -> Path:
    """Write a grid PNG atomically (the target only ever holds a complete image)."""
    with atomic_output(path) as tmp:
        write_image(tmp, np.ascontiguousarray(grid_rgb[:, :, ::-1]))
    return path


def sample_path(checkpoint: Path) -> Path:
    """The final sample beside the checkpoint: ``starry.pt`` -> ``starry_sample.png``."""
    return checkpoint.with_name(f"{checkpoint.stem}_sample.png")

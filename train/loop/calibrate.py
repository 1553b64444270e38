"""Batch-norm statistics at the scale a network is used at (``--calibrate-norm SIZE``).

The compact networks (``lite``, ``fast``) use batch norm, which the export folds into the
convolutions with the *running* statistics. Those are averages over training crops (128-256 px),
while the network paints whole frames (512 px and more): deeper layers see other statistics at the
larger scale (fewer zero-padded borders, larger structures). Touvron et al., "Fixing the
train-test resolution discrepancy" (FixRes, NeurIPS 2019), recompute the statistics at the test
resolution; here that is done once a run completes, on training photos resized to the size of use,
before the final checkpoint is written (and exported).

Measured on the lite starry_night student (26 held-apart photos at 512 px, vs its teacher):
recomputing the statistics at 512 px moved it from +65.7 % to +51.7 % style loss (content +9.6 %
-> +12.8 %). Holding the recomputed statistics fixed while training on crops made it worse
(+70.2 % after 300 steps): the network then learns to paint crops with a frame's statistics.
See docs/training.md.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from stylecam.images import resize_long_side
from stylecam.train.data import decode

log = logging.getLogger(__name__)

# Photos that the statistics are averaged over (a cumulative mean over whole frames).
CALIBRATION_PHOTOS = 200


def norm_layers(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    """The batch-norm layers of ``model`` (empty for the reference network's instance norm)."""
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def _frame(bgr: np.ndarray, long_side: int, multiple: int) -> torch.Tensor:
    """The photo resized to ``long_side``, cut to a multiple of the network stride: float RGB NCHW 0-255."""
    resized = resize_long_side(bgr, long_side)
    height, width = resized.shape[:2]
    if min(height, width) < multiple:  # a sliver: its short side stretched to one stride cell
        resized = cv2.resize(resized, (max(width, multiple), max(height, multiple)), interpolation=cv2.INTER_CUBIC)
    h, w = (resized.shape[0] // multiple) * multiple, (resized.shape[1] // multiple) * multiple
    rgb = np.ascontiguousarray(resized[:h, :w, ::-1]).astype(np.float32)
    return torch.from_numpy(rgb).permute(2, 0, 1).unsqueeze(0)


@torch.no_grad()
def calibrate_norm_statistics(
    model: nn.Module,
    photos: Sequence[Path],
    long_side: int,
    *,
    device: torch.device,
    limit: int = CALIBRATION_PHOTOS,
    seed: int = 0,
) -> int:
    """Recompute every batch-norm layer's running statistics on ``photos`` at ``long_side`` px.

    A seeded choice of photos (a rerun recalibrates on the same ones). Weights are untouched; the
    model's train/eval mode is restored; if no photo can be read the old statistics are kept.
    Returns how many photos were used.
    """
    layers = norm_layers(model)
    if not layers:
        return 0
    chosen = list(photos)
    random.Random(seed).shuffle(chosen)
    multiple = int(getattr(model, "stride", 4))
    momenta = [layer.momentum for layer in layers]
    saved = [(layer.running_mean.clone(), layer.running_var.clone()) for layer in layers]  # type: ignore[union-attr]
    was_training = model.training
    for layer in layers:
        layer.reset_running_stats()
        layer.momentum = None  # a cumulative average over all calibration frames
    model.eval()
    for layer in layers:
        nn.Module.train(layer, True)  # only the norm layers gather statistics
    used = 0
    try:
        for path in chosen:
            if used == limit:
                break
            bgr = decode(path)
            if bgr is None:
                continue
            model(_frame(bgr, long_side, multiple).to(device))
            used += 1
    finally:
        for layer, momentum, (mean, var) in zip(layers, momenta, saved, strict=True):
            layer.momentum = momentum
            if used == 0:
                layer.running_mean.copy_(mean)  # type: ignore[union-attr]
                layer.running_var.copy_(var)  # type: ignore[union-attr]
        model.train(was_training)
    if used == 0:
        log.warning("no readable photo to recompute the batch-norm statistics on; kept the training ones")
        return 0
    log.info("batch-norm statistics of %d layers recomputed on %d photos at %d px", len(layers), used, long_side)
    return used

"""Pure loss functions for style transfer: tensors in, scalar out, inputs never modified.

Weights are applied by the caller (paint, training engine) from its config.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Channel correlation ``(N, C, C)`` of ``(N, C, H, W)`` features, normalized by C*H*W.

    The normalization makes the value independent of image size, so one style weight works
    for 256 px training crops and full frames alike.
    """
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    return torch.bmm(flat, flat.transpose(1, 2)) / (c * h * w)


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of feature maps (Johnson et al.'s feature reconstruction loss)."""
    return F.mse_loss(features, target)


def style_loss(
    features: Mapping[str, torch.Tensor],
    target_grams: Mapping[str, torch.Tensor],
    layer_weights: Mapping[str, float] | None = None,
) -> torch.Tensor:
    """Sum over layers of the mean squared difference between Gram matrices.

    ``target_grams`` holds one ``(1, C, C)`` or ``(N, C, C)`` Gram per layer name; a single style
    Gram is broadcast over the batch. ``layer_weights`` (default: 1 each) scales each layer's term.
    """
    if not target_grams:
        raise ValueError("style_loss needs at least one style layer")
    total = None
    for name, target in target_grams.items():
        gram = gram_matrix(features[name])
        term = F.mse_loss(gram, target.expand_as(gram))
        if layer_weights is not None:
            term = term * layer_weights[name]
        total = term if total is None else total + term
    assert total is not None
    return total


def total_variation_loss(images: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between neighbouring pixels (anisotropic TV), for smoothness."""
    dx = (images[..., :, 1:] - images[..., :, :-1]).abs().mean()
    dy = (images[..., 1:, :] - images[..., :-1, :]).abs().mean()
    return dx + dy


# ITU-R BT.601 luma weights (R, G, B), the ones OpenCV's grey conversion uses
LUMA = (0.299, 0.587, 0.114)


def luminance_loss(output: torch.Tensor, photo: torch.Tensor, *, tolerance: float, scale: int = 8) -> torch.Tensor:
    """How far the output's light and dark leave the photo's, beyond ``tolerance`` (0-255 levels).

    Both (N, 3, H, W) RGB images are reduced to luma averaged over ``scale`` x ``scale`` cells (the
    layout of light, not the brush texture); per cell, the part of the absolute difference above
    ``tolerance`` is squared, and the mean is returned. A network may recolour and darken a photo
    within the tolerance for free; what it pays for is turning a bright sky into a dark patch (or
    the reverse). Crops smaller than ``scale`` use one cell.
    """
    weights = torch.tensor(LUMA, device=output.device, dtype=torch.float32).view(1, 3, 1, 1)
    cell = max(1, min(scale, output.shape[-2], output.shape[-1]))
    mine = F.avg_pool2d((output.float() * weights).sum(1, keepdim=True), cell)
    target = F.avg_pool2d((photo.float() * weights).sum(1, keepdim=True), cell)
    return F.relu((mine - target).abs() - tolerance).pow(2).mean()

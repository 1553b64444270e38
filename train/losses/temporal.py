"""Temporal stability without video: random smooth warps (Wang et al., AAAI 2020).

A video's next frame is, to first order, the current frame moved by a smooth motion field plus a
little sensor noise. A network that is stable on video must therefore commute with such warps:
``S(W(x) + n) ~= W(S(x))``. :func:`random_warp` draws ``W`` (a global shift of a few pixels plus a
smooth local field: random displacements on a coarse grid, upsampled bicubically) and
:func:`warp` applies it; :func:`temporal_loss` is the mean squared difference over the pixels the
warp keeps inside the frame. Pure functions of tensors; the weight is applied by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Warp:
    """A sampling grid (``grid_sample`` convention) and the mask of pixels that stay inside the frame."""

    grid: torch.Tensor  # (N, H, W, 2), x/y in -1..1
    valid: torch.Tensor  # (N, 1, H, W) float 0/1


def random_warp(
    batch: int,
    height: int,
    width: int,
    *,
    shift: float,
    local: float,
    cells: int,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> Warp:
    """A random smooth warp per image: global shift up to ``shift`` px, local field up to ``local`` px."""
    shift_px = (torch.rand(batch, 2, 1, 1, generator=generator) * 2 - 1) * shift
    coarse = (torch.rand(batch, 2, cells + 1, cells + 1, generator=generator) * 2 - 1) * local
    field = F.interpolate(coarse, size=(height, width), mode="bicubic", align_corners=True)
    displacement = (field + shift_px).to(device)  # (N, 2, H, W) in px: x then y
    ys = torch.linspace(-1, 1, height, device=device)
    xs = torch.linspace(-1, 1, width, device=device)
    base_y, base_x = torch.meshgrid(ys, xs, indexing="ij")
    # px -> normalised coordinates (align_corners=True: the full width spans 2 units over width-1 px)
    grid_x = base_x + displacement[:, 0] * 2 / max(width - 1, 1)
    grid_y = base_y + displacement[:, 1] * 2 / max(height - 1, 1)
    grid = torch.stack([grid_x, grid_y], dim=-1)
    valid = ((grid.abs() <= 1).all(dim=-1)).unsqueeze(1).float()
    return Warp(grid=grid, valid=valid)


def warp(images: torch.Tensor, transform: Warp) -> torch.Tensor:
    """``images`` (N, C, H, W) resampled along the warp (bilinear; outside pixels repeat the border)."""
    grid = transform.grid.to(images.dtype)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=True)


def temporal_loss(warped_output: torch.Tensor, output_of_warped: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean squared difference (0-255 pixels) over the valid pixels of both (N, 3, H, W) images."""
    difference = (warped_output.float() - output_of_warped.float()).pow(2) * valid
    return difference.sum() / (valid.sum() * warped_output.shape[1]).clamp_min(1.0)


def warping_error(first: torch.Tensor, second: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference on a 0-1 scale over valid pixels (the metric ``stylecam eval`` reports)."""
    difference = (first.float() - second.float()).abs() / 255.0 * valid
    return difference.sum() / (valid.sum() * first.shape[1]).clamp_min(1.0)

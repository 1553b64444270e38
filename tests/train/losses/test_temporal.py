"""The random smooth warps of the temporal term and the loss itself."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from stylecam.train.losses.temporal import random_warp, temporal_loss, warp  # noqa: E402


def test_a_zero_warp_is_the_identity() -> None:
    images = torch.rand(2, 3, 20, 30) * 255
    transform = random_warp(2, 20, 30, shift=0, local=0, cells=4)
    assert torch.allclose(warp(images, transform), images, atol=1e-3)
    assert transform.valid.all()


def test_a_global_shift_moves_pixels_and_marks_the_uncovered_border() -> None:
    generator = torch.Generator().manual_seed(3)
    transform = random_warp(1, 16, 16, shift=3, local=0, cells=2, generator=generator)
    displacement = (transform.grid[0, 0, 0] - torch.tensor([-1.0, -1.0])) * 15 / 2  # px at the corner
    assert displacement.abs().max() <= 3 + 1e-4 and displacement.abs().max() > 0.1
    assert 0 < transform.valid.mean() < 1  # some pixels come from outside the frame


def test_the_local_field_is_smooth_and_bounded() -> None:
    generator = torch.Generator().manual_seed(0)
    transform = random_warp(1, 64, 64, shift=0, local=2, cells=4, generator=generator)
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, 64), torch.linspace(-1, 1, 64), indexing="ij")
    field_px = (transform.grid[0] - torch.stack([xs, ys], dim=-1)) * 63 / 2
    assert field_px.abs().max() <= 2.5  # bicubic may overshoot the grid values a little
    assert field_px.diff(dim=0).abs().max() < 0.5 and field_px.diff(dim=1).abs().max() < 0.5


def test_an_equivariant_network_has_no_temporal_loss_and_a_flickering_one_does() -> None:
    images = torch.rand(2, 3, 24, 24) * 255
    transform = random_warp(2, 24, 24, shift=2, local=1, cells=3, generator=torch.Generator().manual_seed(1))

    def identity(x: torch.Tensor) -> torch.Tensor:
        return x

    def flicker(x: torch.Tensor) -> torch.Tensor:
        return x + torch.randn_like(x) * 20

    moved = warp(images, transform)
    assert temporal_loss(warp(identity(images), transform), identity(moved), transform.valid) < 1e-6
    assert temporal_loss(warp(flicker(images), transform), flicker(moved), transform.valid) > 300

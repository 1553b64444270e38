"""The luminance term: the output may recolour the photo, not turn its bright sky into a dark patch."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from stylecam.errors import UsageError  # noqa: E402
from stylecam.train.config import TrainConfig  # noqa: E402
from stylecam.train.losses.functional import luminance_loss  # noqa: E402
from stylecam.train.losses.objective import Objective  # noqa: E402


def _sky(level: float) -> tuple[torch.Tensor, torch.Tensor]:
    """A 32x32 photo: white sky on top, mid-grey street below; ``level`` is the painted sky's grey."""
    photo = torch.full((1, 3, 32, 32), 120.0)
    photo[:, :, :16] = 255.0
    painted = photo.clone()
    painted[:, :, :16] = level
    return photo, painted


def test_changes_within_the_tolerance_are_free_and_a_dark_sky_is_not() -> None:
    photo, pale = _sky(220.0)  # 35 levels darker: inside a tolerance of 48
    _, dark = _sky(90.0)  # 165 levels darker
    assert luminance_loss(pale, photo, tolerance=48) == 0
    dark_loss = luminance_loss(dark, photo, tolerance=48)
    # half of the 8x8 cells are off by 165 levels: (165 - 48)^2 / 2
    assert dark_loss == pytest.approx((165 - 48) ** 2 / 2, rel=1e-5)
    assert luminance_loss(dark, photo, tolerance=0) == pytest.approx(165**2 / 2, rel=1e-5)


def test_it_sees_the_layout_of_light_not_texture_or_hue() -> None:
    photo = torch.full((1, 3, 16, 16), 128.0)
    stripes = photo.clone()
    stripes[..., ::2] = 28.0  # +-50 levels of fine texture that averages out within each 8x8 cell
    stripes[..., 1::2] = 228.0
    assert luminance_loss(stripes, photo, tolerance=0) == pytest.approx(0, abs=1e-6)
    hue = photo.clone()  # a recolouring at the same luma: red up, green down
    hue[:, 0] += 0.587 * 40
    hue[:, 1] -= 0.299 * 40
    assert luminance_loss(hue, photo, tolerance=0) == pytest.approx(0, abs=1e-3)


def test_its_gradient_lightens_the_dark_patch_only() -> None:
    photo, dark = _sky(90.0)
    dark.requires_grad_(True)
    luminance_loss(dark, photo, tolerance=48).backward()
    assert (dark.grad[:, :, :16] < 0).all()  # descending the loss raises the sky
    assert (dark.grad[:, :, 16:] == 0).all()  # the street already matches


def test_tiny_crops_use_one_cell() -> None:
    photo = torch.zeros(1, 3, 4, 6)
    assert luminance_loss(photo + 100, photo, tolerance=0) == pytest.approx(100**2, rel=1e-5)


def test_the_objective_adds_the_weighted_term_and_reports_it() -> None:
    photo, dark = _sky(90.0)
    network = lambda images: images * 0 + dark  # noqa: E731 - a "network" that paints the dark sky
    config = TrainConfig(size=32, batch_size=1, luminance_weight=2.0, luminance_tolerance=48.0)
    terms = Objective(None, config)(network, photo)
    assert terms.luminance == pytest.approx(2 * (165 - 48) ** 2 / 2, rel=1e-5)
    assert terms.total == pytest.approx(float(terms.luminance), rel=1e-5)
    assert "luminance" in terms.as_floats()
    off = Objective(None, TrainConfig(size=32, batch_size=1))(network, photo)
    assert off.luminance is None and "luminance" not in off.as_floats()


@pytest.mark.parametrize("changes", [{"luminance_weight": -1.0}, {"luminance_tolerance": 255.0}])
def test_bad_settings_are_refused(changes: dict) -> None:
    with pytest.raises(UsageError, match="--luminance"):
        TrainConfig(size=32, batch_size=1, **changes)

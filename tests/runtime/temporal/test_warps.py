"""The synthetic-warp warping error: exact motion, so a stable model sits at the noise floor."""

from __future__ import annotations

import numpy as np

from stylecam.runtime.temporal.warps import WarpSettings, apply_maps, random_maps, synthetic_warp_error
from tests.conftest import make_photo


def test_maps_move_a_photo_and_mark_what_left_the_frame() -> None:
    rng = np.random.default_rng(0)
    map_x, map_y, valid = random_maps(40, 60, WarpSettings(shift=3, local=1), rng)
    photo = make_photo(40, 60)
    moved = apply_maps(photo, map_x, map_y)
    assert moved.shape == photo.shape and not np.array_equal(moved, photo)
    assert 0.5 < valid.mean() < 1.0


def test_an_identity_model_sits_at_the_noise_floor_and_flicker_shows() -> None:
    photos = [make_photo(48, 64, seed=seed) for seed in range(2)]
    steady = synthetic_warp_error(lambda frame: frame, photos, warps=3)
    assert steady.pairs == 6 and steady.ratio == 1.0  # the same image as the floor, pixel for pixel

    rng = np.random.default_rng(5)

    def flicker(frame: np.ndarray) -> np.ndarray:
        return np.clip(frame + rng.normal(0, 12, frame.shape), 0, 255).astype(np.uint8)

    jittery = synthetic_warp_error(flicker, photos, warps=3)
    assert jittery.ratio > 10 and jittery.warp_error > steady.warp_error


def test_no_motion_no_noise_means_no_error() -> None:
    result = synthetic_warp_error(lambda f: 255 - f, [make_photo(32, 32)], warps=2, settings=WarpSettings(0, 0, 2, 0))
    assert result.warp_error == 0.0

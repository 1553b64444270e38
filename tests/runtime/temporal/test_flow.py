"""Optical flow, warping and occlusion on synthetic frames whose true motion is known."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from stylecam.errors import UsageError
from stylecam.runtime.temporal.flow import compute_flow, occlusion_mask, photometric_mask, warp
from tests.runtime.synthetic_clip import make_clip


def _gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


@pytest.mark.parametrize("scale", [1.0, 0.5, 0.25])
@pytest.mark.parametrize("pan", [(3.0, 0.0), (-2.0, 1.5)])
def test_flow_recovers_a_known_pan(scale: float, pan: tuple[float, float]) -> None:
    clip = make_clip(96, 160, 2, pan=pan, disc_speed=(-pan[0], -pan[1]))  # the disc moves with the background
    current, previous = _gray(clip[1].source), _gray(clip[0].source)
    flow = compute_flow(current, previous, scale=scale)
    assert flow.shape == (96, 160, 2) and flow.dtype == np.float32
    interior = flow[12:-12, 12:-12].reshape(-1, 2)
    np.testing.assert_allclose(np.median(interior, axis=0), pan, atol=0.35)


def test_warp_rebuilds_the_current_frame_from_the_previous() -> None:
    clip = make_clip(96, 160, 2)
    frame = clip[1]
    rebuilt = warp(clip[0].source, frame.flow_to_previous)
    assert rebuilt.dtype == np.uint8 and rebuilt.shape == frame.source.shape
    error = np.abs(rebuilt.astype(int) - frame.source).mean(axis=2)
    assert error[~frame.occluded].mean() < 2.0
    assert error[frame.occluded].mean() > 5 * error[~frame.occluded].mean()  # hidden content cannot be rebuilt


def test_warp_with_zero_flow_is_identity() -> None:
    image = np.arange(48, dtype=np.float32).reshape(6, 8)
    np.testing.assert_array_equal(warp(image, np.zeros((6, 8, 2), np.float32)), image)


def test_consistent_constant_flow_is_occluded_only_where_it_leaves_the_image() -> None:
    flow = np.zeros((20, 30, 2), np.float32)
    flow[..., 0] = 2.0
    mask = occlusion_mask(flow, -flow)
    assert not mask[:, :28].any() and mask[:, 28:].all()


def test_inconsistent_flow_is_occluded() -> None:
    flow = np.zeros((20, 30, 2), np.float32)
    flow[..., 1] = 3.0
    assert occlusion_mask(flow, flow)[:10].all()  # going forward twice does not come back


def test_occlusion_finds_what_the_disc_uncovers() -> None:
    clip = make_clip(144, 256, 2)
    current, previous = _gray(clip[1].source), _gray(clip[0].source)
    mask = occlusion_mask(compute_flow(current, previous), compute_flow(previous, current))
    truth = clip[1].occluded
    assert mask[truth].mean() > 0.7  # most truly hidden pixels are caught
    assert mask[~truth].mean() < 0.05  # few visible pixels are thrown away


def test_one_way_check_finds_what_the_disc_uncovers_from_one_flow() -> None:
    clip = make_clip(144, 256, 2)
    current, previous = _gray(clip[1].source), _gray(clip[0].source)
    mask = photometric_mask(compute_flow(current, previous), current, previous)
    truth = clip[1].occluded
    assert mask[truth].mean() > 0.6  # most truly hidden pixels are caught
    assert mask[~truth].mean() < 0.08  # few visible pixels are thrown away
    with pytest.raises(UsageError, match="does not fit"):
        photometric_mask(np.zeros((4, 4, 2), np.float32), current, previous)


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        (np.zeros((8, 8), np.uint8), np.zeros((8, 9), np.uint8), "equal sizes"),
        (np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8, 3), np.uint8), "2-D uint8"),
        (np.zeros((8, 8), np.float32), np.zeros((8, 8), np.float32), "2-D uint8"),
    ],
)
def test_flow_input_checks(first: np.ndarray, second: np.ndarray, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        compute_flow(first, second)


def test_warp_shape_check() -> None:
    with pytest.raises(UsageError, match="does not fit"):
        warp(np.zeros((8, 8, 3), np.uint8), np.zeros((8, 9, 2), np.float32))

"""The warping-error metric on frames with a known answer."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from stylecam.errors import UsageError
from stylecam.runtime.temporal.stability import SOURCE, Motion, StabilityMeter, estimate_motion, is_cut, warping_error
from tests.runtime.synthetic_clip import clean_style, flicker, make_clip


def _texture(height: int = 96, width: int = 128, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (height // 8, width // 8, 3), dtype=np.uint8)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)


def test_static_scene_has_no_warping_error() -> None:
    frame = _texture()
    motion = estimate_motion(frame, frame)
    assert motion.coverage > 0.95 and np.abs(motion.flow).max() < 0.05
    assert warping_error(frame, frame, motion) == pytest.approx(0.0, abs=1e-7)


def test_a_uniform_change_is_measured_exactly() -> None:
    frame = _texture()
    brighter = np.clip(frame.astype(int) + 10, 0, 255).astype(np.uint8)
    unclipped = frame.astype(int) + 10 <= 255
    motion = estimate_motion(frame, frame)  # no motion: the change is pure flicker
    expected = np.mean(np.where(unclipped, 10.0, (255 - frame.astype(float))) ** 2) / 255**2
    assert warping_error(frame, brighter, motion) == pytest.approx(expected, rel=0.02)


def test_translation_is_explained_by_the_flow() -> None:
    canvas = _texture(120, 160)
    previous, current = canvas[10:106, 10:138], canvas[10:106, 13:141]  # the camera pans 3 px right
    motion = estimate_motion(previous, current)
    flicker_free = warping_error(previous, current, motion)
    unaligned = float(np.mean((current.astype(float) - previous.astype(float)) ** 2) / 255**2)
    assert motion.coverage > 0.8
    assert flicker_free < 0.05 * unaligned


def test_flicker_costs_more_than_a_stable_stylization() -> None:
    clip = make_clip(96, 128, 8, pan=(2.0, 1.0), disc_speed=(-3.0, 0.0))
    meter = StabilityMeter()
    for index, frame in enumerate(clip):
        stable = clean_style(frame.source)
        meter.update(frame.source, {"stable": stable, "flicker": flicker(stable, index)})
    assert len(meter.errors[SOURCE]) == len(clip) - 1 and len(meter.coverage) == len(clip) - 1
    assert meter.mean("flicker") > 5 * meter.mean("stable")
    assert meter.ratio("flicker") > 5 * meter.ratio("stable")
    assert meter.ratio("stable") < 3.0  # a per-pixel stylization moves with the content


def test_scene_cuts_are_skipped_and_counted() -> None:
    first, second = make_clip(96, 128, 4, seed=1), make_clip(96, 128, 4, seed=7)
    shots = [f.source for f in first] + [f.source // 4 for f in second]  # a cut to a dark shot after frame 4
    meter = StabilityMeter()
    for frame in shots:
        meter.update(frame, {"out": frame})
    assert meter.cuts == 1 and len(meter.errors["out"]) == len(shots) - 2
    assert is_cut(shots[3], shots[4]) and not is_cut(shots[0], shots[1])


def test_meter_refusals() -> None:
    meter = StabilityMeter()
    frame = _texture()
    with pytest.raises(UsageError, match="source"):
        meter.update(frame, {SOURCE: frame})
    with pytest.raises(UsageError, match="must match"):
        meter.update(frame, {"small": frame[:10, :10]})
    meter.update(frame, {"out": frame})
    with pytest.raises(UsageError, match="at least two frames"):
        meter.mean("out")
    nothing = Motion(np.zeros((*frame.shape[:2], 2), np.float32), np.zeros(frame.shape[:2], bool))
    assert np.isnan(warping_error(frame, frame, nothing))
    chaos = StabilityMeter()
    for index in range(3):  # a fresh random image every frame: nothing to track
        noise = np.random.default_rng(index).integers(0, 256, (48, 64, 3), dtype=np.uint8)
        chaos.update(noise, {"out": noise})
    assert chaos.unexplained + chaos.cuts == 2 and chaos.errors["source"] == []
    with pytest.raises(UsageError, match="no frame pair could be measured"):
        chaos.mean("out")
    with pytest.raises(UsageError, match="do not match"):
        warping_error(frame[:50], frame[:50], estimate_motion(frame, frame))

"""Strength, colour preservation and processing resolution (runtime/look.py) and their configs."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import cv2
import numpy as np
import pytest

from stylecam.errors import UsageError
from stylecam.runtime.config import LookConfig, SmoothingConfig, alpha_for_strength
from stylecam.runtime.inference.look import Look, blend_strength, keep_source_colours, processing_size
from tests.conftest import make_photo


class Recorder:
    """A stand-in model: records the sizes it was called with and returns a fixed colour map."""

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        self.shapes.append(frame.shape)
        return np.ascontiguousarray(255 - frame[..., ::-1])  # invert and swap channels: changes hue


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (LookConfig(), (90, 162)),
        (LookConfig(scale=0.5), (45, 81)),
        (LookConfig(scale=2.0), (180, 324)),
        (LookConfig(size=(64, 32)), (32, 64)),
    ],
)
def test_processing_size(config: LookConfig, expected: tuple[int, int]) -> None:
    assert processing_size(90, 162, config) == expected


@pytest.mark.parametrize(
    ("kwargs", "context"),
    [
        ({"strength": 0.0}, nullcontext()),
        ({"strength": 1.5}, pytest.raises(UsageError, match=r"strength must be a number between 0\.0 and 1\.0")),
        ({"scale": 0.01}, pytest.raises(UsageError, match=r"processing scale must be a number between 0\.1 and 4\.0")),
        ({"size": (8, 100)}, pytest.raises(UsageError, match="sides from 16 to 16384")),
        ({"size": (64, 64), "scale": 0.5}, pytest.raises(UsageError, match="not both")),
    ],
)
def test_look_config_validation(kwargs: dict[str, object], context: AbstractContextManager[object]) -> None:
    with context:
        LookConfig(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("strength", "alpha"), [(0.0, 1.0), (0.6, 0.4), (1.0, 0.01)])
def test_smoothing_strength_is_one_minus_alpha(strength: float, alpha: float) -> None:
    assert alpha_for_strength(strength) == pytest.approx(alpha)
    if strength < 1.0:
        assert SmoothingConfig(mode="flow", alpha=alpha).strength == pytest.approx(strength)


def test_blend_strength_is_a_weighted_mean() -> None:
    source, stylized = make_photo(20, 30, seed=1), make_photo(20, 30, seed=2)
    expected = np.rint(0.25 * stylized.astype(float) + 0.75 * source.astype(float))
    assert np.abs(blend_strength(source, stylized, 0.25).astype(float) - expected).max() <= 1
    assert blend_strength(source, stylized, 1.0) is stylized


def test_preserve_colour_takes_luminance_from_the_style_and_chroma_from_the_source() -> None:
    source = make_photo(24, 32, seed=3)
    stylized = Recorder()(source)  # other hues and brightness
    before = source.copy()
    out = keep_source_colours(source, stylized)
    out_ycc, src_ycc, sty_ycc = (cv2.cvtColor(x, cv2.COLOR_BGR2YCrCb).astype(int) for x in (out, source, stylized))
    # Saturated colours at another brightness fall outside the BGR gamut and clip, so the typical
    # pixel matches to a level or two while the mean is pulled up by the clipped ones.
    luma, chroma = np.abs(out_ycc[..., 0] - sty_ycc[..., 0]), np.abs(out_ycc[..., 1:] - src_ycc[..., 1:])
    assert np.median(luma) <= 1 and np.median(chroma) <= 1
    assert chroma.mean() * 5 < np.abs(out_ycc[..., 1:] - sty_ycc[..., 1:]).mean()  # the style's colours are gone
    assert np.array_equal(source, before)


def test_mismatched_frames_are_refused() -> None:
    with pytest.raises(UsageError, match="same shape"):
        keep_source_colours(make_photo(8, 8), make_photo(8, 9))


def test_look_runs_the_model_at_the_processing_size_and_returns_the_frame_size() -> None:
    model = Recorder()
    frame = make_photo(45, 81)
    out = Look(model, LookConfig(scale=0.5))(frame)
    assert model.shapes == [(22, 40, 3)] and out.shape == frame.shape


def test_strength_zero_skips_the_model_and_full_strength_is_the_model() -> None:
    model = Recorder()
    frame = make_photo(16, 16)
    assert np.array_equal(Look(model, LookConfig(strength=0.0))(frame), frame) and model.shapes == []
    assert np.array_equal(Look(model, LookConfig())(frame), model(frame))


def test_half_strength_with_preserved_colour_lies_between_source_and_model() -> None:
    frame = make_photo(32, 32, seed=5)
    full = Look(Recorder(), LookConfig(preserve_color=True))(frame)
    half = Look(Recorder(), LookConfig(preserve_color=True, strength=0.5))(frame)
    midpoint = (full.astype(int) + frame.astype(int)) / 2
    assert np.abs(half - midpoint).max() <= 1

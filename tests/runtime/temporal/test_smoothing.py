"""TemporalSmoother: exact EMA arithmetic, resets, and flicker reduction on a clip with known motion."""

from __future__ import annotations

import numpy as np
import pytest

from stylecam.errors import UsageError
from stylecam.runtime.config import SmoothingConfig
from stylecam.runtime.temporal.smoothing import TemporalSmoother, ema, keep_texture
from tests.conftest import make_photo
from tests.runtime.synthetic_clip import clean_style, flicker, make_clip, warping_error


def test_ema_is_a_pure_weighted_mean() -> None:
    previous = np.full((4, 4, 3), 100, np.uint8)
    current = np.full((4, 4, 3), 200, np.uint8)
    out = ema(previous, current, 0.25)
    assert out.dtype == np.uint8 and np.all(out == 125)
    assert previous[0, 0, 0] == 100 and current[0, 0, 0] == 200  # inputs untouched
    exact = ema(previous.astype(np.float32), current.astype(np.float32) + 0.5, 0.3)
    assert exact.dtype == np.float32 and np.allclose(exact, 0.3 * 200.5 + 0.7 * 100)
    with pytest.raises(UsageError, match="equal shapes"):
        ema(previous, current[:2], 0.5)


def test_none_passes_frames_through() -> None:
    smoother = TemporalSmoother(SmoothingConfig(mode="none"))
    source = make_photo(16, 16)
    for seed in range(3):
        stylized = make_photo(16, 16, seed=seed)
        np.testing.assert_array_equal(smoother(source, stylized), stylized)


def test_ema_blends_with_the_previous_output() -> None:
    smoother = TemporalSmoother(SmoothingConfig(mode="ema", alpha=0.5))
    source = make_photo(16, 16)
    first = smoother(source, np.full((16, 16, 3), 100, np.uint8))
    second = smoother(source, np.full((16, 16, 3), 200, np.uint8))
    third = smoother(source, np.full((16, 16, 3), 200, np.uint8))
    assert np.all(first == 100) and np.all(second == 150) and np.all(third == 175)


@pytest.mark.parametrize("mode", ["ema", "flow"])
def test_resolution_change_resets(mode: str) -> None:
    smoother = TemporalSmoother(SmoothingConfig(mode=mode, alpha=0.3))
    smoother(make_photo(32, 48), np.zeros((32, 48, 3), np.uint8))
    stylized = np.full((40, 64, 3), 77, np.uint8)
    np.testing.assert_array_equal(smoother(make_photo(40, 64), stylized), stylized)
    assert smoother.resets == 1


@pytest.mark.parametrize("mode", ["ema", "flow"])
def test_scene_cut_resets_but_small_changes_do_not(mode: str) -> None:
    smoother = TemporalSmoother(SmoothingConfig(mode=mode, alpha=0.3))
    dark, bright = make_photo(36, 64), 255 - make_photo(36, 64)
    smoother(dark, np.zeros((36, 64, 3), np.uint8))
    smoother(dark, np.zeros((36, 64, 3), np.uint8))
    assert smoother.resets == 0
    stylized = np.full((36, 64, 3), 200, np.uint8)
    np.testing.assert_array_equal(smoother(bright, stylized), stylized)
    assert smoother.resets == 1


def test_returned_frame_is_not_the_smoothers_state() -> None:
    smoother = TemporalSmoother(SmoothingConfig(mode="ema", alpha=0.5))
    source = make_photo(16, 16)
    first = smoother(source, np.full((16, 16, 3), 100, np.uint8))
    first[:] = 0  # a caller drawing an overlay on its frame must not change the history
    assert np.all(smoother(source, np.full((16, 16, 3), 100, np.uint8)) == 100)


def test_reset_forgets_history() -> None:
    smoother = TemporalSmoother(SmoothingConfig(mode="ema", alpha=0.5))
    source = make_photo(16, 16)
    smoother(source, np.zeros((16, 16, 3), np.uint8))
    smoother.reset()
    assert np.all(smoother(source, np.full((16, 16, 3), 90, np.uint8)) == 90) and smoother.resets == 1


@pytest.mark.parametrize(
    ("source", "stylized", "message"),
    [
        (np.zeros((8, 8, 3), np.uint8), np.zeros((8, 9, 3), np.uint8), "differ in size"),
        (np.zeros((8, 8), np.uint8), np.zeros((8, 8, 3), np.uint8), r"source frame must be \(H, W, 3\) uint8"),
        (np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8, 3), np.float32), "stylized frame must be"),
    ],
)
def test_smoother_input_checks(source: np.ndarray, stylized: np.ndarray, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        TemporalSmoother(SmoothingConfig(mode="flow"))(source, stylized)


def _run(mode: str, clip: list, flow_width: int = 320, **options: object) -> tuple[float, float]:
    smoother = TemporalSmoother(SmoothingConfig(mode=mode, flow_width=flow_width, **options))  # type: ignore[arg-type]
    outputs, deviation = [], []
    for index, frame in enumerate(clip):
        clean = clean_style(frame.source)
        out = smoother(frame.source, flicker(clean, index))
        outputs.append(out)
        deviation.append(np.abs(out.astype(np.float32) - clean).mean())
    errors = [warping_error(outputs[i - 1], outputs[i], clip[i]) for i in range(1, len(clip))]
    return float(np.mean(errors)), float(np.mean(deviation[1:]))


@pytest.mark.parametrize("flow_width", [80, 320])  # flow on half-size frames, upsampled / at full size
def test_flow_smoothing_reduces_flicker_without_ghosting(flow_width: int) -> None:
    clip = make_clip(96, 160, 8)
    raw_error, raw_deviation = _run("none", clip)
    flow_error, flow_deviation = _run("flow", clip, flow_width)
    _, ema_deviation = _run("ema", clip)
    assert flow_error < 0.7 * raw_error  # less temporal flicker along the true motion
    assert flow_deviation < raw_deviation  # and closer to the flicker-free stylization
    assert flow_deviation < ema_deviation  # EMA drags the moving content (ghosts); flow follows it


@pytest.mark.parametrize("options", [{"flow_check": "one-way"}, {"flow_every": 2}, {"flow_preset": "ultrafast"}])
def test_cheaper_flow_settings_still_reduce_flicker(options: dict[str, object]) -> None:
    clip = make_clip(96, 160, 8)
    raw_error, raw_deviation = _run("none", clip)
    error, deviation = _run("flow", clip, **options)
    assert error < 0.8 * raw_error and deviation < raw_deviation


def test_flow_every_n_frames_computes_it_once_per_n(monkeypatch: pytest.MonkeyPatch) -> None:
    from stylecam.runtime.temporal import smoothing

    calls = []
    real = smoothing.compute_flow
    monkeypatch.setattr(smoothing, "compute_flow", lambda *a, **k: calls.append(1) or real(*a, **k))
    clip = make_clip(48, 80, 9)
    for every, check, flows in ((1, "two-way", 16), (2, "two-way", 8), (3, "one-way", 3)):
        calls.clear()
        smoother = TemporalSmoother(SmoothingConfig(mode="flow", flow_every=every, flow_check=check))
        for frame in clip:
            smoother(frame.source, clean_style(frame.source))
        assert len(calls) == flows, (every, check)


def _textured(seed: int, amplitude: float, height: int = 48, width: int = 64) -> np.ndarray:
    """Mid-grey with a random brush-like texture of the given amplitude (grey levels)."""
    rng = np.random.default_rng(seed)
    texture = rng.normal(0.0, amplitude, (height, width, 1)).repeat(3, axis=2)
    return np.clip(128 + texture, 0, 255).astype(np.uint8)


def test_keep_texture_restores_the_contrast_a_blend_averaged_away() -> None:
    current = _textured(0, 30)
    flat = ema(_textured(1, 30), current, 0.4)  # two textures that do not line up: a flatter blend
    restored = keep_texture(flat, current, 4)
    core = (slice(8, -8), slice(8, -8))
    assert flat[core].std() < 0.8 * current[core].std()
    assert restored[core].std() > 0.93 * current[core].std()  # the strokes' contrast is back
    assert abs(float(restored.mean()) - float(flat.mean())) < 1.5  # brightness and hue stay put


def test_keep_texture_leaves_agreeing_frames_and_sharper_blends_alone() -> None:
    current = _textured(0, 30)
    np.testing.assert_allclose(keep_texture(current, current, 4), current, atol=1)  # gain 1 where they agree
    sharp = _textured(2, 40)
    calm = _textured(3, 5)
    np.testing.assert_allclose(keep_texture(sharp, calm, 4), sharp, atol=1)  # never lowers contrast
    flat_frame = np.full_like(current, 90)
    np.testing.assert_array_equal(keep_texture(flat_frame, flat_frame, 3), flat_frame)


@pytest.mark.parametrize("mode", ["ema", "flow"])
def test_smoother_keeps_more_texture_with_keep_texture(mode: str) -> None:
    clip = make_clip(96, 160, 8)
    spread = {}
    for radius in (0, 4):
        smoother = TemporalSmoother(SmoothingConfig(mode=mode, alpha=0.3, keep_texture=radius))
        outs = [smoother(frame.source, flicker(clean_style(frame.source), index)) for index, frame in enumerate(clip)]
        spread[radius] = float(np.mean([out.astype(np.float32).std() for out in outs[1:]]))
    raw = float(np.mean([flicker(clean_style(f.source), i).astype(np.float32).std() for i, f in enumerate(clip)][1:]))
    assert spread[0] < spread[4] <= raw * 1.05  # closer to the unsmoothed frames' contrast, never beyond it


@pytest.mark.parametrize("radius", [-1, 33, 2.5])
def test_keep_texture_radius_is_checked(radius: object) -> None:
    with pytest.raises(UsageError, match="keep_texture must be a whole number"):
        SmoothingConfig(mode="flow", keep_texture=radius)  # type: ignore[arg-type]

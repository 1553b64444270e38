"""A model can recommend its smoothing strength in its metadata; the user's flags still win."""

from __future__ import annotations

import argparse
from pathlib import Path

import onnx
import pytest

from stylecam.contract import K_SMOOTH_STRENGTH
from stylecam.runtime.cli.options import recommended_smooth_strength, smoothing_config
from stylecam.runtime.config import SmoothingConfig, alpha_for_strength
from tests.runtime.onnx_builders import make_contract_model


def _args(**changes) -> argparse.Namespace:
    return argparse.Namespace(**{"smooth": "flow", "smooth_strength": None, "smooth_alpha": None, **changes})


def _with_recommendation(path: Path, value: str) -> Path:
    model = onnx.load(str(path))
    onnx.helper.set_model_props(model, {**{p.key: p.value for p in model.metadata_props}, K_SMOOTH_STRENGTH: value})
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize(
    ("changes", "recommended", "expected_alpha"),
    [
        ({}, None, SmoothingConfig(mode="flow").alpha),  # no recommendation: the measured default
        ({}, 0.3, alpha_for_strength(0.3)),  # the model's recommendation
        ({"smooth_strength": 0.8}, 0.3, alpha_for_strength(0.8)),  # the user's strength wins
        ({"smooth_alpha": 0.9}, 0.3, 0.9),  # and so does the user's alpha
    ],
)
def test_the_default_follows_the_model(changes: dict, recommended: float | None, expected_alpha: float) -> None:
    config = smoothing_config(_args(**changes), recommended=recommended)
    assert config.mode == "flow" and config.alpha == pytest.approx(expected_alpha)


def test_a_recommendation_of_zero_turns_smoothing_off_unless_asked() -> None:
    assert smoothing_config(_args(), recommended=0.0).mode == "none"
    assert smoothing_config(_args(smooth_strength=0.5), recommended=0.0).mode == "flow"
    assert smoothing_config(_args(smooth="none"), recommended=0.7).mode == "none"


def test_the_recommendation_is_read_from_the_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    plain = make_contract_model(tmp_path / "plain.onnx")
    assert recommended_smooth_strength(plain) is None
    assert recommended_smooth_strength(_with_recommendation(make_contract_model(tmp_path / "a.onnx"), "0.25")) == 0.25
    assert recommended_smooth_strength(_with_recommendation(make_contract_model(tmp_path / "b.onnx"), "lots")) is None
    assert "ignoring its recommended smoothing strength 'lots'" in caplog.text
    assert recommended_smooth_strength(tmp_path / "missing.onnx") is None

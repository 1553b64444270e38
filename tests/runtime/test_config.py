"""Config validation: every invalid value is a UsageError naming the valid ones."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

import pytest

from stylecam.errors import UsageError
from stylecam.runtime.config import RuntimeConfig, SmoothingConfig


@pytest.mark.parametrize(
    ("kwargs", "context"),
    [
        ({}, nullcontext()),
        ({"provider": "cuda", "device_id": 1, "require_gpu": True}, nullcontext()),
        ({"provider": "gpu"}, pytest.raises(UsageError, match="choose one of: auto, tensorrt, cuda, cpu")),
        ({"provider": "cpu", "require_gpu": True}, pytest.raises(UsageError, match="contradicts")),
        ({"device_id": -1}, pytest.raises(UsageError, match="GPU index")),
        ({"max_pixels": 100}, pytest.raises(UsageError, match="max_pixels")),
        ({"cudnn_conv_algo_search": "fast"}, pytest.raises(UsageError, match="HEURISTIC, EXHAUSTIVE, DEFAULT")),
        ({"probe": "sometimes"}, pytest.raises(UsageError, match="auto, always, never")),
        ({"intra_op_threads": -2}, pytest.raises(UsageError, match="intra_op_threads")),
    ],
)
def test_runtime_config(kwargs: dict[str, Any], context: AbstractContextManager[object]) -> None:
    with context:
        config = RuntimeConfig(**kwargs)
        assert config.provider in ("auto", "cuda")


@pytest.mark.parametrize(
    ("kwargs", "context"),
    [
        ({}, nullcontext()),
        ({"mode": "ema", "alpha": 1.0}, nullcontext()),
        ({"mode": "blur"}, pytest.raises(UsageError, match="none, ema, flow")),
        ({"alpha": 0.0}, pytest.raises(UsageError, match=r"alpha must be a number between 0.01 and 1.0")),
        ({"alpha": float("nan")}, pytest.raises(UsageError, match="alpha")),
        ({"flow_width": 8}, pytest.raises(UsageError, match="flow_width must be an integer from 32")),
        ({"scene_cut_threshold": 0.0}, pytest.raises(UsageError, match="scene_cut_threshold")),
    ],
)
def test_smoothing_config(kwargs: dict[str, Any], context: AbstractContextManager[object]) -> None:
    with context:
        assert SmoothingConfig(**kwargs).mode in ("none", "ema", "flow")


@pytest.mark.parametrize(("mode", "alpha"), [("flow", 0.4), ("ema", 0.5), ("none", 1.0)])
def test_alpha_default_depends_on_mode(mode: str, alpha: float) -> None:
    assert SmoothingConfig(mode=mode).alpha == alpha
    assert SmoothingConfig(mode=mode, alpha=0.25).alpha == 0.25


def test_configs_are_frozen() -> None:
    with pytest.raises(AttributeError):
        RuntimeConfig().provider = "cpu"  # type: ignore[misc]

"""TrainConfig / RunOptions validation, the config digest, and what --resume may change."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from stylecam.errors import UsageError
from stylecam.train.config import CROP_MULTIPLE, VGG_LAYERS, RunOptions, TrainConfig

does_not_raise = contextlib.nullcontext


@pytest.mark.parametrize(
    ("changes", "expectation"),
    [
        ({}, does_not_raise()),
        ({"size": 64, "batch_size": 1, "steps": 1}, does_not_raise()),
        ({"size": 66}, pytest.raises(UsageError, match="multiple of 4")),
        ({"size": 12}, pytest.raises(UsageError, match="at least 16")),
        ({"batch_size": 0}, pytest.raises(UsageError, match="--batch")),
        ({"steps": 0}, pytest.raises(UsageError, match="--steps")),
        ({"epochs": 0.0}, pytest.raises(UsageError, match="--epochs")),
        ({"learning_rate": 2.0}, pytest.raises(UsageError, match="--lr")),
        ({"style_weight": -1.0}, pytest.raises(UsageError, match=">= 0")),
        ({"content_weight": 0.0, "style_weight": 0.0}, pytest.raises(UsageError, match="nothing to learn")),
        ({"style_size": 8}, pytest.raises(UsageError, match="--style-size")),
        ({"amp": "fp8"}, pytest.raises(UsageError, match="bf16, fp16, off")),
        ({"content_layers": ("relu9_9",)}, pytest.raises(UsageError, match=r"relu9_9.*relu1_1")),
        ({"style_layers": ()}, pytest.raises(UsageError, match="none given")),
        ({"freeze_encoder_steps": -1}, pytest.raises(UsageError, match="freeze")),
    ],
)
def test_train_config_validation(changes: dict, expectation) -> None:
    with expectation:
        TrainConfig(**changes)


@pytest.mark.parametrize(
    ("changes", "expectation"),
    [
        ({"sample_every": -1}, pytest.raises(UsageError, match="sample-every")),
        ({"workers": -2}, pytest.raises(UsageError, match="workers")),
        ({"resume": Path("a.pt"), "init": Path("b.pt")}, pytest.raises(UsageError, match="exclude each other")),
        ({"resume": Path("a.pt")}, does_not_raise()),
    ],
)
def test_run_options_validation(changes: dict, expectation) -> None:
    with expectation:
        RunOptions(**changes)


def test_dict_round_trip_and_digest() -> None:
    config = TrainConfig(size=128, style_layers=("relu1_1", "relu3_1"), epochs=2.5)
    again = TrainConfig.from_dict(config.to_dict())
    assert again == config and again.digest() == config.digest()
    assert len(config.digest()) == 64
    assert TrainConfig(size=132).digest() != TrainConfig(size=128).digest()
    # The digest is of canonical JSON: key order in the stored dict does not matter.
    shuffled = dict(reversed(list(config.to_dict().items())))
    assert TrainConfig.from_dict(shuffled).digest() == config.digest()


def test_unknown_keys_in_a_saved_config_are_named() -> None:
    with pytest.raises(UsageError, match="warp_factor"):
        TrainConfig.from_dict({**TrainConfig().to_dict(), "warp_factor": 9})


def test_style_size_defaults_to_twice_the_crop() -> None:
    assert TrainConfig(size=128).effective_style_size == 256
    assert TrainConfig(size=128, style_size=300).effective_style_size == 300


def test_torch_free_constants_match_the_torch_modules() -> None:
    pytest.importorskip("torch")
    from stylecam.train.losses.vgg import LAYER_INDEX
    from stylecam.train.networks.model import STRIDE

    assert CROP_MULTIPLE == STRIDE
    assert tuple(LAYER_INDEX) == VGG_LAYERS


def test_resume_may_only_change_the_length() -> None:
    pytest.importorskip("torch")
    from stylecam.train.loop.resume import resumed_config

    saved = TrainConfig(size=64, steps=10, epochs=3.0)
    longer = resumed_config(saved, {"steps": 20, "size": 64}, Path("run.pt"))
    assert longer.steps == 20 and longer.epochs is None and longer.size == 64
    with pytest.raises(UsageError, match=r"learning_rate=0\.01.*0\.001.*--init"):
        resumed_config(saved, {"learning_rate": 0.01}, Path("run.pt"))
    with pytest.raises(UsageError, match="arch='fast'"):
        resumed_config(saved, {"arch": "fast"}, Path("run.pt"))

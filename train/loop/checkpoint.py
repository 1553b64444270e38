"""Versioned checkpoints that load with ``torch.load(weights_only=True)``.

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts (no pickled classes),
so loading an untrusted file cannot run code. Layout (schema version 1)::

    schema          "stylecam-checkpoint"
    schema_version  1
    stylecam_version
    model_config    ModelConfig.to_dict()    -> rebuilds the same network
    model           state dict
    ... training adds: optimizer, scaler, step, train_config, style {name, sha256}, vgg {sha256}, rng

Bare state dicts of pytorch/examples ``fast_neural_style`` (the ``reference`` network) are
accepted too and wrapped on load.
"""

from __future__ import annotations

import logging
import pickle
import re
from pathlib import Path
from typing import Any

import torch
from torch import nn

from stylecam import __version__
from stylecam.atomic import atomic_output
from stylecam.errors import ModelLoadError
from stylecam.paths import check_input_file
from stylecam.train.networks.model import ModelConfig, build_model

log = logging.getLogger(__name__)

SCHEMA = "stylecam-checkpoint"
SCHEMA_VERSION = 1
_EXAMPLES_RUNNING_STATS = re.compile(r"in\d+\.running_(mean|var)$")


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (must hold ``model`` and ``model_config``) atomically; return the path."""
    if "model" not in payload or "model_config" not in payload:
        raise ValueError("a checkpoint needs 'model' and 'model_config'")
    data = {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "stylecam_version": __version__, **payload}
    with atomic_output(path) as tmp:
        torch.save(data, tmp)
    return Path(path)


def _read(path: Path) -> Any:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Unsupported global" not in str(exc):  # not a pickle of objects: random bytes
            raise ModelLoadError(
                f"checkpoint {path} is corrupt or not a PyTorch file (unreadable pickle data); "
                "re-download it or re-run training"
            ) from exc
        # weights_only refuses anything that would need arbitrary code to rebuild.
        raise ModelLoadError(
            f"checkpoint {path} contains pickled Python objects, which stylecam refuses to load "
            "(they could run code); re-save it as a plain state dict of tensors"
        ) from exc
    except Exception as exc:  # damaged bytes reach torch.load's unpickler as any error type
        # (KeyError, IndexError, struct.error, ... found by fuzzing); none of them is a stylecam bug.
        raise ModelLoadError(
            f"checkpoint {path} is corrupt or not a PyTorch file ({type(exc).__name__}); "
            "re-download it or re-run training"
        ) from exc


def _looks_like_examples_state(data: dict[str, Any]) -> bool:
    return "conv1.conv2d.weight" in data and "deconv3.conv2d.weight" in data and "res1.conv1.conv2d.weight" in data


def _wrap_examples_state(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    state = {k: v for k, v in data.items() if not _EXAMPLES_RUNNING_STATS.search(k)}
    log.info("%s is a pytorch/examples fast_neural_style state dict; loading it as the reference network", path)
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "stylecam_version": None,
        "model_config": ModelConfig().to_dict(),
        "model": state,
        "style": {"name": path.stem, "sha256": None},
        "origin": "pytorch/examples fast_neural_style",
    }


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load and validate a checkpoint; ModelLoadError names what is wrong and what to do."""
    file = check_input_file(path, what="checkpoint")
    data = _read(file)
    if not isinstance(data, dict):
        raise ModelLoadError(f"checkpoint {file} holds a {type(data).__name__}, not a stylecam checkpoint dict")
    if data.get("schema") != SCHEMA:
        if _looks_like_examples_state(data):
            return _wrap_examples_state(file, data)
        raise ModelLoadError(
            f"{file} is not a stylecam checkpoint (no '{SCHEMA}' schema marker); "
            "train one with `stylecam train` or pass a pytorch/examples fast_neural_style .pth"
        )
    version = data.get("schema_version")
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise ModelLoadError(
            f"checkpoint {file} has schema version {version!r}, newer than this stylecam {__version__} reads "
            f"(<= {SCHEMA_VERSION}); upgrade: pip install -U stylecam"
        )
    for key in ("model", "model_config"):
        if key not in data:
            raise ModelLoadError(f"checkpoint {file} has no '{key}' entry; it is incomplete, re-run training")
    return data


def load_model(path: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the network stored in a checkpoint; returns (model in eval mode, checkpoint dict)."""
    data = load_checkpoint(path)
    try:
        model = build_model(ModelConfig.from_dict(data["model_config"]))
        model.load_state_dict(data["model"])
    except (RuntimeError, TypeError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0][:200]
        raise ModelLoadError(f"checkpoint {path} does not match its architecture: {first}") from exc
    except Exception as exc:  # a UsageError from ModelConfig: a config this stylecam does not know
        raise ModelLoadError(f"checkpoint {path} has a model config this stylecam cannot build: {exc}") from exc
    return model.eval(), data

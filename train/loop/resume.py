"""What a training checkpoint holds beyond the weights, and how a run continues from one.

Training checkpoints extend the schema of :mod:`stylecam.train.loop.checkpoint` with::

    arch, train_config, train_config_digest, optimizer, scaler, step, images_seen,
    style {name, sha256, license, source, size}, vgg {sha256, convention, source},
    data {root, images, skipped}, world_size, init, losses, complete, rng {python, numpy, torch, cuda}

Everything is plain data (numbers, strings, lists, dicts, tensors), so ``torch.load(...,
weights_only=True)`` reads it.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stylecam.errors import ModelLoadError, UsageError
from stylecam.train.config import RESUMABLE_CHANGES, TrainConfig
from stylecam.train.networks.model import ModelConfig

log = logging.getLogger(__name__)

TRAINING_KEYS = ("train_config", "optimizer", "scaler", "step", "style", "rng")


def capture_rng() -> dict[str, Any]:
    """Python, NumPy and torch RNG states as plain data."""
    version, state, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
    return {
        "python": {"version": version, "state": list(state), "gauss": gauss},
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": pos,
            "has_gauss": has_gauss,
            "cached": cached,
        },
        "torch": torch.get_rng_state(),
        "cuda": list(cuda),
    }


def restore_rng(state: dict[str, Any]) -> None:
    """Put back what :func:`capture_rng` saved (CUDA states only if the GPU count matches)."""
    py = state["python"]
    random.setstate((py["version"], tuple(py["state"]), py["gauss"]))
    npy = state["numpy"]
    keys = npy["keys"].numpy().astype(np.uint32)
    np.random.set_state((npy["kind"], keys, npy["pos"], npy["has_gauss"], npy["cached"]))
    torch.set_rng_state(state["torch"])
    cuda = state.get("cuda") or []
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


@dataclass(frozen=True)
class RunRecord:
    """The part of every checkpoint that stays the same for the whole run."""

    config: TrainConfig
    model_config: ModelConfig
    style: dict[str, Any]
    vgg: dict[str, Any]
    data: dict[str, Any]
    world_size: int
    init: dict[str, Any] | None = None
    teacher: dict[str, Any] | None = None  # {path, sha256, name} of a distillation run
    cadence: dict[str, Any] | None = None  # {save_every, sample_every, log_dir}: what --resume keeps unless told


def make_payload(
    record: RunRecord,
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    step: int,
    images_seen: int,
    skipped: list[str],
    losses: dict[str, float],
    complete: bool,
) -> dict[str, Any]:
    """The checkpoint dict (``save_checkpoint`` adds the schema marker and stylecam version)."""
    return {
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "model_config": record.model_config.to_dict(),
        "arch": record.model_config.arch,
        "train_config": record.config.to_dict(),
        "train_config_digest": record.config.digest(),
        "optimizer": optimizer.state_dict(),
        "scaler": scaler.state_dict(),
        "step": step,
        "images_seen": images_seen,
        "style": dict(record.style),
        "vgg": dict(record.vgg),
        "data": {**record.data, "skipped": sorted(skipped)},
        "world_size": record.world_size,
        "init": record.init,
        "teacher": record.teacher,
        "cadence": dict(record.cadence or {}),
        "losses": dict(losses),
        "complete": complete,
        "rng": capture_rng(),
    }


def check_resumable(data: dict[str, Any], path: Path) -> None:
    """A checkpoint to ``--resume`` must carry the full training state."""
    missing = [key for key in TRAINING_KEYS if key not in data]
    if missing:
        raise ModelLoadError(
            f"{path} has no training state ({', '.join(missing)} missing), so it cannot be resumed; "
            f"start a new run from its weights with --init {path}"
        )


def resumed_config(saved: TrainConfig, given: dict[str, Any], path: Path) -> TrainConfig:
    """The checkpoint's config, with ``--steps``/``--epochs`` allowed to change; anything else must match."""
    conflicts = []
    for key, value in given.items():
        if key in RESUMABLE_CHANGES:
            continue
        if getattr(saved, key) != value:
            conflicts.append(f"{key}={value!r} (checkpoint: {getattr(saved, key)!r})")
    if conflicts:
        raise UsageError(
            f"--resume {path}: options differ from the run being resumed: {'; '.join(conflicts)}; "
            "drop them to continue that run (only --steps/--epochs/--lr-decay may change), "
            "or start a new run with --init"
        )
    changes = {k: v for k, v in given.items() if k in RESUMABLE_CHANGES}
    if "steps" in changes and "epochs" not in changes:
        changes["epochs"] = None  # an explicit step count replaces an epoch count
    return replace(saved, **changes)


def init_model_config(data: dict[str, Any], given_arch: str | None, path: Path) -> ModelConfig:
    """The network an ``--init`` checkpoint holds; ``--arch``, if given, must name the same one."""
    try:
        model_config = ModelConfig.from_dict(data["model_config"])
    except Exception as exc:
        raise ModelLoadError(f"--init {path} has a model config this stylecam cannot build: {exc}") from exc
    if given_arch is not None and given_arch != model_config.arch:
        raise UsageError(
            f"--init {path} holds a {model_config.arch!r} network but --arch {given_arch} was given; "
            f"drop --arch or --init a {given_arch} checkpoint"
        )
    return model_config

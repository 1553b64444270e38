"""What a training checkpoint says about how it was made, for the model card of a bundled style.

The checkpoint carries the train config, the step, the style image (name, sha256, source), the
photo folder and the network it started from; TensorBoard's event files beside it (``<stem>_logs``)
carry wall-clock times. :func:`training_record` turns these into a plain JSON-able dict, and
:func:`train_command` into the ``stylecam train`` command line that reproduces the schedule; the
runs behind ``--init`` (see :mod:`stylecam.train.loop.lineage`) come with their own commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stylecam.train.config import TrainConfig
from stylecam.train.loop.lineage import stages_before, tensorboard_wall_time

# TrainConfig field -> `stylecam train` flag, for the command in the model card
FLAGS = {
    "arch": "--arch",
    "norm": "--norm",
    "guide": "--guide",
    "size": "--size",
    "batch_size": "--batch",
    "steps": "--steps",
    "epochs": "--epochs",
    "learning_rate": "--lr",
    "content_weight": "--content-weight",
    "style_weight": "--style-weight",
    "tv_weight": "--tv-weight",
    "style_norm": "--style-norm",
    "style_size": "--style-size",
    "content_layers": "--content-layers",
    "style_layers": "--style-layers",
    "amp": "--amp",
    "seed": "--seed",
    "freeze_encoder_steps": "--freeze-encoder-steps",
    "lr_decay": "--lr-decay",
    "distill_pixel_weight": "--distill-pixel-weight",
    "distill_feature_weight": "--distill-feature-weight",
    "distill_gram_weight": "--distill-gram-weight",
    "temporal_weight": "--temporal-weight",
    "luminance_weight": "--luminance-weight",
    "luminance_tolerance": "--luminance-tolerance",
    "warp_shift": "--warp-shift",
    "warp_local": "--warp-local",
    "warp_grid": "--warp-grid",
    "warp_noise": "--warp-noise",
    "calibrate_norm": "--calibrate-norm",
}


def _short(path: str, parts: int = 2) -> str:
    """The last ``parts`` components of a local path (the rest says nothing to a reader)."""
    pieces = Path(path).parts
    return "/".join(pieces[-parts:]) if pieces else path


def _flag_value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def train_command(data: dict[str, Any], *, output: str, init: str | None = None) -> str:
    """The ``stylecam train`` command with every setting that differs from the defaults (paths shortened).

    ``init`` names the ``--init`` checkpoint as the reader knows it (default: its file name).
    """
    config = data.get("train_config") or {}
    teacher = data.get("teacher") or {}
    defaults = TrainConfig().__dict__
    if teacher.get("name"):
        # distillation turns the painting's losses off unless they are asked for: a weight equal to
        # TrainConfig's default was asked for, and the command must say so to run again as it did
        defaults = {**defaults, "content_weight": 0.0, "style_weight": 0.0}
    style = data.get("style") or {}
    words = ["stylecam train", f"--style {_short(str(style.get('source', '?')))}"]
    if style.get("name"):
        words.append(f"--style-name {style['name']}")
    words.append(f"--data {_short(str((data.get('data') or {}).get('root', '?')), 1)}")
    words.append(f"-o {output}")
    for field, flag in FLAGS.items():
        value = config.get(field)
        default = defaults.get(field)
        if isinstance(default, tuple):
            default = list(default)
        if value is None or value == default:
            continue
        words.append(f"{flag} {_flag_value(value)}")
    recorded = data.get("init") or {}
    if recorded.get("checkpoint"):
        words.append(f"--init {init or Path(str(recorded['checkpoint'])).name}")
    if teacher.get("name"):
        words.append(f"--teacher {teacher['name']}")
    return " ".join(words)


def training_record(checkpoint: Path, data: dict[str, Any], *, output_name: str) -> dict[str, Any]:
    """A JSON-able summary of the checkpoint's training (config, schedule, style, start, wall time)."""
    config = dict(data.get("train_config") or {})
    style = data.get("style") or {}
    step = int(data.get("step") or 0)
    init = data.get("init") or {}
    earlier = earlier_stages(data)
    return {
        "command": train_command(data, output=output_name, init=earlier[-1]["checkpoint"] if earlier else None),
        "arch": str(data.get("arch") or config.get("arch") or ""),
        "config": config,
        "step": step,
        "images_seen": int(data.get("images_seen") or 0),
        "init": str(init.get("style") or Path(str(init["checkpoint"])).stem) if init.get("checkpoint") else "",
        "teacher": str((data.get("teacher") or {}).get("name") or ""),
        "style_image": {
            "file": Path(str(style.get("source", ""))).name,
            "sha256": str(style.get("sha256", "")),
            "size": list(style.get("size") or []),
        },
        "photos": int((data.get("data") or {}).get("images") or 0),
        "world_size": int(data.get("world_size") or 1),
        "final_losses": {k: float(v) for k, v in (data.get("losses") or {}).items()},
        "wall_seconds": tensorboard_wall_time(checkpoint.with_name(f"{checkpoint.stem}_logs"), step),
        "earlier": earlier,
    }


def _file_of(stage: dict[str, Any]) -> dict[str, Any] | None:
    """The checkpoint of a stage that recorded no training (made by a tool, e.g. ``write_init_checkpoint``
    or a conversion), read again when the file is still there: it may say where it came from."""
    from stylecam.errors import StylecamError
    from stylecam.train.loop.checkpoint import load_checkpoint

    path = Path(str(stage.get("checkpoint") or ""))
    if not path.is_file():
        return None
    try:
        return load_checkpoint(path)
    except (StylecamError, OSError):
        return None


def _with_sources(stages: list[dict[str, Any]], depth: int = 3) -> list[dict[str, Any]]:
    """``stages`` with, before each stage that is no training run, what its file says: where it came from
    (``origin``) and the runs behind it (its own ``init`` record), e.g. a network converted to another
    normalisation by a script keeps the chain of the network it was converted from."""
    out: list[dict[str, Any]] = []
    for stage in stages:
        data = _file_of(stage) if (stage.get("unrecorded") or not stage.get("train_config")) else None
        if data is not None:
            chain = stages_before(data) if depth > 0 else []
            if chain and not (out and out[-1].get("checkpoint") == chain[-1].get("checkpoint")):  # not already there
                out.extend(_with_sources(chain, depth - 1))
            stage = {**stage, "origin": stage.get("origin") or data.get("origin")}
        out.append(stage)
    return out


def earlier_stages(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The runs behind the checkpoint's ``--init``, oldest first, each as its command and schedule.

    A run is named by its file and folder (``lite/stage1.pt``): the chain often reuses a file name.
    """
    stages, previous = [], None
    for stage in _with_sources(stages_before(data)):
        name = _short(str(stage.get("checkpoint") or "?"))
        config = stage.get("train_config")
        if stage.get("unrecorded") or not config:
            origin = stage.get("origin")
            stages.append({"checkpoint": name, "command": None, **({"origin": origin} if origin else {})})
        else:
            stages.append(
                {
                    "checkpoint": name,
                    "command": train_command(stage, output=name, init=previous),
                    "step": int(stage.get("step") or 0),
                    "planned_steps": config.get("steps"),
                    "batch_size": config.get("batch_size"),
                    "size": config.get("size"),
                    "images_seen": int(stage.get("images_seen") or 0),
                    "wall_seconds": stage.get("wall_seconds"),
                }
            )
        previous = name
    return stages

"""Everything checked before training starts: options, files, checkpoints, device, precision.

:func:`plan_run` turns what the user gave into a :class:`Plan` or raises a StylecamError naming
the problem and the fix. It reads the style image and lists the photos but builds no network, so
a typo costs seconds, not an hour of training.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import torch

from stylecam.atomic import check_output_path
from stylecam.errors import UsageError
from stylecam.train.config import DEFAULT_SAMPLE_EVERY, DEFAULT_SAVE_EVERY, RunOptions, TrainConfig
from stylecam.train.data import check_decodable, list_images
from stylecam.train.devices import resolve_device
from stylecam.train.loop import distributed
from stylecam.train.loop.checkpoint import load_checkpoint
from stylecam.train.loop.distill import cache_folder, check_teacher
from stylecam.train.loop.resume import check_resumable, init_model_config, resumed_config
from stylecam.train.losses.style import StyleImage, load_style, resolve_style
from stylecam.train.networks.compact import CompactNet
from stylecam.train.networks.model import ModelConfig, get_config, network_class, network_stride

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """A validated run: resolved config and paths, loaded checkpoints, the style image."""

    config: TrainConfig
    model_config: ModelConfig
    options: RunOptions
    output: Path
    log_dir: Path
    photos: list[Path]
    data_root: Path
    style: StyleImage
    device: torch.device
    dist: distributed.DistInfo
    workers: int
    resume: dict[str, Any] | None = None
    init: dict[str, Any] | None = None
    teacher: Path | None = None  # distillation: the teacher file, checked against config.teacher_sha256
    teacher_cache: Path | None = None  # the folder of its outputs (one PNG per photo)


def _settings(given: Mapping[str, Any]) -> dict[str, Any]:
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(given) - known)
    if unknown:
        raise UsageError(f"unknown training settings {unknown}; known: {sorted(known)}")
    return dict(given)


def resolve_amp(config: TrainConfig, device: torch.device) -> TrainConfig:
    """Turn ``auto`` into the precision for ``device``; refuse fp16 without CUDA."""
    amp = config.amp
    if amp == "auto" and device.type == "cuda":
        amp = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    elif amp == "auto":
        amp = "off"  # CPUs without AMX/AVX512-BF16 run bf16 slower than float32
    if amp == "fp16" and device.type != "cuda":
        raise UsageError("--amp fp16 needs a CUDA GPU (loss scaling); on CPU use --amp bf16 or --amp off")
    return replace(config, amp=amp)


def _auto_workers(device: torch.device, info: distributed.DistInfo) -> int:
    cpus = os.cpu_count() or 1
    per_process = max(1, cpus // info.local_world_size)
    if device.type == "cuda":
        return min(8, per_process)
    # On CPU the network, not JPEG decoding, is the bottleneck; workers would take its cores.
    return min(2, per_process // 4)


def _configs(
    given: dict[str, Any], options: RunOptions, model_config: ModelConfig | None
) -> tuple[TrainConfig, ModelConfig, dict[str, Any] | None, dict[str, Any] | None]:
    resume = init = None
    if options.resume is not None:
        resume = load_checkpoint(options.resume)
        check_resumable(resume, options.resume)
        config = resumed_config(TrainConfig.from_dict(resume["train_config"]), given, options.resume)
        return config, ModelConfig.from_dict(resume["model_config"]), resume, None
    if options.teacher is not None:
        # Distilling: the teacher is the target, so the painting's losses are opt-in.
        given = {"content_weight": 0.0, "style_weight": 0.0, **given, "teacher_sha256": check_teacher(options.teacher)}
    if options.init is not None:
        init = load_checkpoint(options.init)
        model_config = init_model_config(init, given.get("arch"), options.init)
        given = {**given, "arch": model_config.arch}
    config = TrainConfig(**given)
    if model_config is None:
        model_config = get_config(config.arch)
    elif model_config.arch != config.arch:
        config = replace(config, arch=model_config.arch)
    model_config = _with_guide(config, _with_norm(config, model_config))
    _check_crop(config, model_config)
    if config.calibrate_norm and not model_config.has_batch_norm:
        raise UsageError(
            f"--calibrate-norm applies to networks with batch norm (--arch lite or fast); the "
            f"{model_config.arch!r} network uses {model_config.norm} norm, which needs no calibration: drop the flag"
        )
    return config, model_config, resume, init


def _with_norm(config: TrainConfig, model_config: ModelConfig) -> ModelConfig:
    """The network with ``--norm`` applied (compact networks only; an ``--init`` network's weights carry over)."""
    if config.norm is None or config.norm == model_config.norm:
        return model_config
    _refuse_unless_compact(model_config, "--norm", f"uses {model_config.norm} norm")
    return replace(model_config, norm=config.norm)


def _refuse_unless_compact(model_config: ModelConfig, flag: str, why: str) -> None:
    """UsageError for an option of the compact networks given for another one (``why``: what that one does)."""
    if network_class(model_config) is not CompactNet:
        raise UsageError(
            f"{flag} applies to the compact networks (--arch lite or fast); the {model_config.arch!r} network "
            f"{why}: drop {flag}"
        )


def _with_guide(config: TrainConfig, model_config: ModelConfig) -> ModelConfig:
    """The network with ``--guide`` applied (compact networks only; an ``--init`` network gains it at zero)."""
    if config.guide is None or config.guide == model_config.guide:
        return model_config
    _refuse_unless_compact(model_config, "--guide", "paints at full resolution already")
    if model_config.guide:
        raise UsageError(
            f"the --init network has a guide {model_config.guide} wide; --guide {config.guide} cannot change it: "
            "drop --guide"
        )
    return replace(model_config, guide=config.guide)


def _cadence(options: RunOptions, resume: dict[str, Any] | None) -> RunOptions:
    """Sample/save cadence and log folder: what was typed, else the resumed run's own, else the defaults."""
    saved = (resume or {}).get("cadence") or {}  # checkpoints from before stylecam kept it: the defaults

    def pick(typed: int | None, key: str, default: int) -> int:
        if typed is not None:
            return typed
        value = saved.get(key)
        return int(value) if isinstance(value, int) and value >= 0 else default

    log_dir = options.log_dir
    if log_dir is None and saved.get("log_dir") and Path(saved["log_dir"]).is_dir():
        log_dir = Path(saved["log_dir"])  # the curves go on in the folder they started in
    return replace(
        options,
        sample_every=pick(options.sample_every, "sample_every", DEFAULT_SAMPLE_EVERY),
        save_every=pick(options.save_every, "save_every", DEFAULT_SAVE_EVERY),
        log_dir=log_dir,
    )


def _check_crop(config: TrainConfig, model_config: ModelConfig) -> None:
    stride = network_stride(model_config)
    if config.size % stride:
        fit = (config.size // stride + 1) * stride
        raise UsageError(
            f"--size {config.size} is not a multiple of {stride}, the size step of the {model_config.arch!r} "
            f"network; use e.g. --size {fit}"
        )


def _teacher(
    options: RunOptions, config: TrainConfig, resume: dict[str, Any] | None, output: Path
) -> tuple[Path | None, Path | None]:
    """The teacher file and its cache folder for a distillation run (None, None otherwise)."""
    if config.teacher_sha256 is None:
        if options.teacher is not None:  # only reachable with --resume of a run without a teacher
            raise UsageError(f"--resume {options.resume}: that run had no --teacher; drop --teacher")
        return None, None
    saved = (resume or {}).get("teacher") or {}
    teacher = options.teacher or (Path(saved["path"]) if saved.get("path") else None)
    teacher = _required(teacher, "--teacher", "the run being resumed was distilled from a teacher; pass it again")
    if resume is not None and check_teacher(teacher) != config.teacher_sha256:
        raise UsageError(
            f"--teacher {teacher} is not the network the resumed run was distilled from "
            f"(sha256 {config.teacher_sha256[:12]}); pass that file"
        )
    # --resume reuses the cache the run painted (its --teacher-cache), unless told otherwise
    root = options.teacher_cache or (Path(saved["cache"]) if saved.get("cache") else None)
    root = root or output.with_name(f"{output.stem}_teacher")
    return teacher, cache_folder(Path(root), config.teacher_sha256)


def _required(value: Any, flag: str, hint: str) -> Any:
    if value is None:
        raise UsageError(f"{flag} is required: {hint}")
    return value


def _style(path: Path, options: RunOptions, config: TrainConfig, resume: dict[str, Any] | None) -> StyleImage:
    saved = resume["style"] if resume else {}
    style = load_style(
        str(path),
        long_side=config.effective_style_size,
        name=options.style_name or saved.get("name"),
        license=options.style_license if options.style_license is not None else saved.get("license"),
    )
    if resume and saved.get("sha256") and style.sha256 != saved["sha256"]:
        raise UsageError(
            f"--style {path} is not the painting the resumed run was trained on "
            f"(sha256 {style.sha256[:12]} vs {saved['sha256'][:12]}); pass the original image"
        )
    return style


def _steps_from_epochs(config: TrainConfig, photos: int, world: int) -> TrainConfig:
    if config.epochs is None:
        return config
    steps = max(1, math.ceil(config.epochs * photos / (config.batch_size * world)))
    log.info(
        "%g epochs of %d photos = %d steps of %d x %d images", config.epochs, photos, steps, world, config.batch_size
    )
    return replace(config, steps=steps)


def _style_file(options: RunOptions, resume: dict[str, Any] | None) -> Path:
    spec = options.style or (resume or {}).get("style", {}).get("source")
    if resume and not options.style and spec and not Path(spec).exists():
        raise UsageError(f"the painting of the resumed run ({spec}) is gone; pass --style PATH with that image")
    return resolve_style(_required(spec, "--style", "a painting's path or a bundled style (e.g. starry_night)"))


def _outputs(options: RunOptions, style_file: Path) -> tuple[Path, Path]:
    """The checkpoint path and the log folder, checked before anything slow happens."""
    output = _required(options.output or options.resume, "-o/--output", "where to write the checkpoint (.pt)")
    output = check_output_path(output, inputs=[style_file, *([options.init] if options.init else [])])
    log_dir = Path(options.log_dir) if options.log_dir else output.with_name(f"{output.stem}_logs")
    if not log_dir.parent.is_dir():
        raise UsageError(f"--log-dir {log_dir}: its folder {log_dir.parent} does not exist; create it first")
    if options.export is not None:
        _check_export(options, output)
    elif options.export_fp16:
        raise UsageError("--export-fp16 needs --export OUT.onnx")
    return output, log_dir


def _check_export(options: RunOptions, output: Path) -> None:
    # Found out now, not after hours of training.
    if importlib.util.find_spec("stylecam.export") is None:
        raise UsageError("--export needs the stylecam.export package, which this install lacks; drop --export")
    if Path(options.export).suffix.lower() != ".onnx":
        raise UsageError(f"--export {options.export}: the model file must end in .onnx")
    check_output_path(options.export, inputs=[output])


def _photos(root: Path, config: TrainConfig, info: distributed.DistInfo) -> list[Path]:
    photos = list_images(root)
    needed = config.batch_size * info.world_size
    if len(photos) < needed:
        raise UsageError(
            f"{root} has {len(photos)} photos but one step needs {needed} "
            f"({info.world_size} process(es) x --batch {config.batch_size}); add photos or lower --batch"
        )
    return photos


def plan_run(
    options: RunOptions, settings: Mapping[str, Any] | None = None, *, model_config: ModelConfig | None = None
) -> Plan:
    """Validate a run (see module docstring). ``settings`` are TrainConfig fields the user set."""
    info = distributed.detect()
    config, model_config, resume, init = _configs(_settings(settings or {}), options, model_config)
    options = _cadence(options, resume)
    saved_data = (resume or {}).get("data", {})
    data_root = Path(_required(options.data or saved_data.get("root"), "--data", "a folder of training photos"))
    style_file = _style_file(options, resume)
    output, log_dir = _outputs(options, style_file)  # cheap checks before listing photos
    photos = _photos(data_root, config, info)
    config = _steps_from_epochs(config, len(photos), info.world_size)
    style = _style(style_file, options, config, resume)
    device = distributed.device_for(info, resolve_device(options.device))
    config = resolve_amp(config, device)
    if resume and resume["step"] >= config.steps:
        raise UsageError(
            f"--resume {options.resume}: that run already trained {resume['step']} of {config.steps} steps; "
            f"pass --steps N with N > {resume['step']} to train longer"
        )
    check_decodable(photos, data_root)
    teacher, teacher_cache = _teacher(options, config, resume, output)
    workers = options.workers if options.workers is not None else _auto_workers(device, info)
    return Plan(
        config=config, model_config=model_config, options=options, output=output, log_dir=log_dir, photos=photos,
        data_root=data_root, style=style, device=device, dist=info, workers=workers, resume=resume, init=init,
        teacher=teacher, teacher_cache=teacher_cache,
    )  # fmt: skip

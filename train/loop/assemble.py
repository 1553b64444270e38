"""Build the objects of a run from a validated Plan: network, optimizer, loss, photo stream.

``new_state`` and ``build_criterion`` are shared with the throughput benchmark, so the benchmark
times exactly what training runs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from stylecam.errors import ModelLoadError, UsageError
from stylecam.train.config import TrainConfig
from stylecam.train.data import PairedPhotoFolder, PhotoFolder, ResumableSampler, build_loader, iterate_batches
from stylecam.train.loop import distributed
from stylecam.train.loop.distill import build_cache
from stylecam.train.loop.engine import Precision, TrainState
from stylecam.train.loop.lineage import init_record
from stylecam.train.loop.resume import RunRecord, restore_rng
from stylecam.train.loop.setup import Plan
from stylecam.train.losses.criterion import PerceptualLoss
from stylecam.train.losses.objective import DISTILL_LAYERS, Objective
from stylecam.train.losses.vgg import VGGFeatures, VGGWeights, load_vgg_weights
from stylecam.train.networks.model import build_model

log = logging.getLogger(__name__)


@dataclass
class Assembly:
    """Everything the loop needs, built and (on resume) restored."""

    state: TrainState
    criterion: Objective
    precision: Precision
    encoder: list[nn.Parameter]
    record: RunRecord
    batches: Iterator[tuple[torch.Tensor, list[str]]]


def new_state(model: nn.Module, config: TrainConfig, device_type: str) -> TrainState:
    """Adam (the Johnson et al. optimiser) and a loss scaler that is only active for fp16."""
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    scaler = torch.amp.GradScaler(device_type, enabled=config.amp == "fp16")
    return TrainState(model=model, optimizer=optimizer, scaler=scaler)


def build_criterion(
    config: TrainConfig,
    style_bgr: npt.NDArray[np.uint8],
    weights: VGGWeights,
    precision: Precision,
    device: torch.device,
) -> Objective:
    """The step's objective: frozen VGG19 (truncated after the deepest layer used) and the painting's
    Gram matrices when the perceptual terms are on, VGG19 to relu2_1 for feature distillation."""

    def features(layers: tuple[str, ...]) -> VGGFeatures:
        vgg = VGGFeatures(layers, weights).to(device)
        return vgg.to(memory_format=torch.channels_last) if precision.channels_last else vgg

    perceptual = None
    # TrainConfig refuses a Gram distillation weight without a teacher.
    if config.content_weight or config.style_weight or config.tv_weight or config.distill_gram_weight:
        rgb = torch.from_numpy(np.ascontiguousarray(style_bgr[:, :, ::-1])).permute(2, 0, 1).unsqueeze(0).float()
        perceptual = PerceptualLoss(features(config.content_layers + config.style_layers), rgb.to(device), config)
    distill = features(DISTILL_LAYERS) if config.teacher_sha256 and config.distill_feature_weight > 0 else None
    return Objective(perceptual, config, distill, seed=config.seed).to(device)


GUIDE_KEYS = ("guide.", "skip_scale")  # what a network gains with --guide (starting at zero)


def _load_weights(model: nn.Module, state: dict[str, torch.Tensor], source: Path | None, flag: str) -> None:
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0][:200]
        raise ModelLoadError(f"{flag} {source}: weights do not fit the network ({first})") from exc


RUNNING_STATISTICS = ("running_mean", "running_var", "num_batches_tracked")
_NORM_TYPES = (nn.BatchNorm2d, nn.InstanceNorm2d)


def _carry_over_norm(model: nn.Module, state: dict[str, torch.Tensor], source: Path | None) -> None:
    """Load ``--init`` weights into a network whose normalisation differs (``--norm``).

    Every convolution weight must fit. The norm layers keep their scale and shift (both kinds have
    them); instance norm drops batch norm's running statistics, batch norm starts them from the
    defaults. A convolution followed by a norm layer has a bias only when that norm is not batch
    norm; either norm removes a per-channel constant, so a bias that appears starts at zero and one
    that disappears is dropped: the network computes what it did.
    """
    norms = {name for name, module in model.named_modules() if isinstance(module, _NORM_TYPES)}
    wanted = model.state_dict()

    def before_norm_bias(key: str) -> bool:
        unit, _, leaf = key.rpartition(".conv.")
        return leaf == "bias" and (f"{unit}.norm" in norms or f"{unit}.norm.weight" in state)

    # instance norm refuses running statistics even when loading loosely: leave them out
    kept = {
        key: value
        for key, value in state.items()
        if key in wanted or (key.rsplit(".", 1)[-1] not in RUNNING_STATISTICS and not before_norm_bias(key))
    }
    missing, unexpected = model.load_state_dict(kept, strict=False)
    new_biases = [key for key in missing if before_norm_bias(key)]
    lacking = [key for key in missing if key.rsplit(".", 1)[0] not in norms and key not in new_biases]
    if unexpected or lacking:
        first = (list(unexpected) + lacking)[0]
        raise ModelLoadError(f"--init {source}: weights do not fit the network with --norm (e.g. {first!r})")
    parameters = dict(model.named_parameters())
    with torch.no_grad():
        for key in new_biases:
            parameters[key].zero_()


def _build_model(plan: Plan, precision: Precision) -> nn.Module:
    torch.manual_seed(plan.config.seed)  # the same initial weights on every rank and every rerun
    model = build_model(plan.model_config)
    if plan.init is not None:
        init_config = plan.init.get("model_config") or {}
        state = plan.init["model"]
        if plan.model_config.guide and not init_config.get("guide"):
            # a network gaining --guide keeps its own fresh guide (zero at the output): the rest must fit
            state = {**{k: v for k, v in model.state_dict().items() if k.startswith(GUIDE_KEYS)}, **state}
        init_norm = init_config.get("norm")
        if init_norm is not None and init_norm != plan.model_config.norm:
            _carry_over_norm(model, state, plan.options.init)
        else:
            _load_weights(model, state, plan.options.init, "--init")
    if plan.resume is not None:
        _load_weights(model, plan.resume["model"], plan.options.resume, "--resume")
    model = model.to(plan.device)
    return model.to(memory_format=torch.channels_last) if precision.channels_last else model


def _encoder(model: nn.Module, plan: Plan) -> list[nn.Parameter]:
    if plan.config.freeze_encoder_steps == 0:
        return []
    if not hasattr(model, "encoder_parameters"):
        raise UsageError(
            f"architecture {plan.model_config.arch!r} has no encoder to freeze; drop --freeze-encoder-steps"
        )
    return list(model.encoder_parameters())


def _vgg_weights(plan: Plan) -> VGGWeights:
    weights = load_vgg_weights(plan.options.vgg_weights)
    saved = (plan.resume or {}).get("vgg", {})
    if saved.get("sha256") and saved["sha256"] != weights.sha256:
        raise UsageError(
            f"the resumed run used other VGG19 weights ({saved.get('source')}); pass the same --vgg-weights"
        )
    return weights


def _restore(state: TrainState, plan: Plan) -> None:
    data = plan.resume
    if data is None:
        return
    state.optimizer.load_state_dict(data["optimizer"])
    state.scaler.load_state_dict(data["scaler"])
    restore_rng(data["rng"])
    state.step = int(data["step"])
    state.images_seen = int(data.get("images_seen", 0))
    state.skipped = set(data.get("data", {}).get("skipped", []))
    if data.get("world_size", 1) != plan.dist.world_size or data.get("data", {}).get("images") != len(plan.photos):
        log.warning("resuming with another process count or data folder: the photo order differs from the first run")
    log.info("resuming %s at step %d of %d", plan.options.resume, state.step, plan.config.steps)


def _record(plan: Plan, weights: VGGWeights) -> RunRecord:
    style = plan.style
    teacher = None
    init = (plan.resume or {}).get("init")  # a resumed run keeps the start it was given
    if plan.init is not None:  # the runs behind --init go on the record too (the model card shows them)
        init = init_record(Path(plan.options.init), plan.init)
    if plan.teacher is not None:
        teacher = {"path": str(plan.teacher.resolve()), "name": plan.teacher.name, "sha256": plan.config.teacher_sha256}
        if plan.teacher_cache is not None:  # the folder --teacher-cache named (its outputs sit in a sha256 subfolder)
            teacher["cache"] = str(plan.teacher_cache.parent.resolve())
    return RunRecord(
        config=plan.config,
        model_config=plan.model_config,
        style={
            "name": style.name,
            "sha256": style.sha256,
            "license": style.license,
            "source": str(style.source.resolve()),
            "size": list(style.original_size),
        },
        vgg={"sha256": weights.sha256, "convention": weights.convention, "source": weights.source},
        data={"root": str(plan.data_root.resolve()), "images": len(plan.photos)},
        world_size=plan.dist.world_size,
        init=init,
        teacher=teacher,
        cadence={
            "save_every": plan.options.save_every,
            "sample_every": plan.options.sample_every,
            "log_dir": str(plan.log_dir.resolve()),
        },
    )


def _dataset(plan: Plan) -> PhotoFolder:
    config = plan.config
    if plan.teacher is None or plan.teacher_cache is None:
        return PhotoFolder(plan.photos, config.size, config.seed)
    # Rank 0 paints what is missing; the others wait, then read the same files.
    targets = None
    if plan.dist.is_main:
        targets = build_cache(
            plan.teacher, plan.photos, plan.teacher_cache, device=plan.device, progress=plan.options.progress
        )
    distributed.barrier(plan.dist)
    if targets is None:
        targets = build_cache(plan.teacher, plan.photos, plan.teacher_cache, device=plan.device, progress=False)
    return PairedPhotoFolder(plan.photos, targets, config.size, config.seed)


def assemble(plan: Plan) -> Assembly:
    """Build (and on --resume restore) the network, optimizer, loss and photo stream of ``plan``."""
    device, config = plan.device, plan.config
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed crop size: let cuDNN pick the fastest kernels
        torch.backends.cuda.matmul.allow_tf32 = True
    # channels_last: 1.6x faster steps on this CPU (oneDNN), and what tensor cores want on CUDA.
    precision = Precision(config.amp, device.type, channels_last=True)
    model = _build_model(plan, precision)
    state = new_state(model, config, device.type)
    _restore(state, plan)
    encoder = _encoder(model, plan)
    weights = _vgg_weights(plan)
    criterion = build_criterion(config, plan.style.bgr, weights, precision, device)
    if plan.dist.enabled:
        ids = [device.index] if device.type == "cuda" else None
        state.model = nn.parallel.DistributedDataParallel(model, device_ids=ids)
    dataset = _dataset(plan)
    sampler = ResumableSampler(dataset, num_replicas=plan.dist.world_size, rank=plan.dist.rank, seed=config.seed)
    loader = build_loader(
        dataset, sampler, batch_size=config.batch_size, workers=plan.workers, pin_memory=device.type == "cuda"
    )
    batches = iterate_batches(loader, sampler, start_step=state.step, batch_size=config.batch_size)
    return Assembly(state, criterion, precision, encoder, _record(plan, weights), batches)

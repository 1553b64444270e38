"""``train()``: build what a validated :class:`~stylecam.train.loop.setup.Plan` describes and run it.

Single process or one process per GPU/CPU under ``torchrun`` (DDP): every rank trains on its
share of each epoch; only rank 0 shows progress, writes TensorBoard, samples and saves, and the
checkpoint format is the same either way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from stylecam.train.config import RunOptions
from stylecam.train.loop import distributed
from stylecam.train.loop.assemble import Assembly, assemble
from stylecam.train.loop.calibrate import calibrate_norm_statistics
from stylecam.train.loop.checkpoint import save_checkpoint
from stylecam.train.loop.engine import TrainState, fit
from stylecam.train.loop.interrupt import StopRequest, stop_on_signals
from stylecam.train.loop.monitor import Monitor
from stylecam.train.loop.resume import make_payload
from stylecam.train.loop.sampling import grid, sample_path, sample_size, stylize, validation_images, write_grid
from stylecam.train.loop.setup import Plan, plan_run
from stylecam.train.losses.criterion import LossTerms
from stylecam.train.networks.model import ModelConfig

log = logging.getLogger(__name__)

LOG_EVERY = {"cpu": 1, "cuda": 20}  # float() of a CUDA loss waits for the GPU: do it rarely there


@dataclass(frozen=True)
class TrainResult:
    """What a finished (or interrupted) run produced."""

    checkpoint: Path
    sample: Path | None
    steps: int
    images_seen: int
    seconds: float
    images_per_second: float
    losses: dict[str, float]
    skipped: tuple[str, ...]
    device: str
    world_size: int
    rank: int = 0
    export: Path | None = None


class _Run:
    """The objects of one run and the per-step hook (progress, samples, checkpoints)."""

    def __init__(self, plan: Plan, parts: Assembly, monitor: Monitor) -> None:
        self.plan, self.parts, self.monitor = plan, parts, monitor
        self.state, self.record, self.precision = parts.state, parts.record, parts.precision
        self.validation = None
        self._seen_before = parts.state.images_seen
        if plan.dist.is_main and plan.options.sample_every:
            self.validation = validation_images(plan.photos, sample_size(plan.config.size))

    def bare_model(self) -> nn.Module:
        model = self.state.model
        return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model

    def save(self, complete: bool) -> Path:
        payload = make_payload(
            self.record,
            model=self.bare_model(),
            optimizer=self.state.optimizer,
            scaler=self.state.scaler,
            step=self.state.step,
            images_seen=self.state.images_seen,
            skipped=sorted(self.state.skipped),
            losses=self.monitor.last,
            complete=complete,
        )
        return save_checkpoint(self.plan.output, payload)

    def sample(self, target: Path | None) -> None:
        photos = self.validation if self.validation is not None else validation_images(self.plan.photos, 256)
        outputs = stylize(self.bare_model(), photos, self.precision, self.plan.device)
        image = grid(photos, outputs)
        self.monitor.image("samples", image, self.state.step)
        if target is not None:
            write_grid(target, image)

    def on_step(self, state: TrainState, terms: LossTerms) -> None:
        lr = state.optimizer.param_groups[0]["lr"]
        self.monitor.update(state.step, terms, state.images_seen - self._seen_before, lr)
        self._seen_before = state.images_seen
        if not self.plan.dist.is_main:
            return
        options = self.plan.options
        if options.sample_every and state.step % options.sample_every == 0:
            samples = self.plan.log_dir / "samples"
            samples.mkdir(parents=True, exist_ok=True)
            self.sample(samples / f"step_{state.step:07d}.png")
        if options.save_every and state.step % options.save_every == 0 and state.step < self.plan.config.steps:
            log.debug("step %d: checkpoint %s", state.step, self.save(complete=False))


def train(
    options: RunOptions,
    settings: Mapping[str, Any] | None = None,
    *,
    model_config: ModelConfig | None = None,
    on_step: Callable[[TrainState, LossTerms], None] | None = None,
) -> TrainResult:
    """Train one style network; see :class:`TrainConfig` for ``settings`` and :class:`RunOptions`.

    ``model_config`` trains a network that is not in the registry (experiments, tests);
    ``on_step(state, terms)`` is called after every step on every rank.
    Raises KeyboardInterrupt after saving a checkpoint when stopped by Ctrl-C/SIGTERM.
    """
    plan = plan_run(options, settings, model_config=model_config)
    if not plan.dist.is_main:
        logging.getLogger("stylecam").setLevel(logging.ERROR)
    distributed.init(plan.dist, plan.device)
    try:
        return _train(plan, on_step)
    finally:
        distributed.shutdown(plan.dist)


def _monitor(plan: Plan, start_step: int) -> Monitor:
    if plan.dist.is_main:
        plan.log_dir.mkdir(exist_ok=True)
    return Monitor(
        total_steps=plan.config.steps,
        start_step=start_step,
        log_dir=plan.log_dir if plan.dist.is_main else None,
        enabled=plan.dist.is_main,
        progress=plan.options.progress,
        log_every=LOG_EVERY.get(plan.device.type, 1),
    )


def _train(plan: Plan, on_step: Callable[[TrainState, LossTerms], None] | None) -> TrainResult:
    parts = assemble(plan)
    state, config = parts.state, plan.config
    monitor = _monitor(plan, state.step)
    run = _Run(plan, parts, monitor)

    def hook(current: TrainState, terms: LossTerms) -> None:
        run.on_step(current, terms)
        if on_step is not None:
            on_step(current, terms)

    start, images_before, sample = time.perf_counter(), state.images_seen, None
    try:
        with stop_on_signals(StopRequest()) as stop:
            interrupted = fit(
                state, parts.batches, parts.criterion, total_steps=config.steps, precision=parts.precision,
                device=plan.device, dist_info=plan.dist, stop=stop, encoder=parts.encoder,
                freeze_encoder_steps=config.freeze_encoder_steps, on_step=hook,
                stop_check_every=LOG_EVERY.get(plan.device.type, 1), lr_decay=config.lr_decay,
            )  # fmt: skip
        monitor.flush(state.step, state.optimizer.param_groups[0]["lr"])
        seconds = time.perf_counter() - start
        if plan.dist.is_main:
            sample = _finish(run, interrupted)
    finally:
        monitor.close()
    distributed.barrier(plan.dist)
    exported = _export(plan) if plan.dist.is_main and not interrupted else None
    if interrupted:
        raise KeyboardInterrupt
    return TrainResult(
        checkpoint=plan.output,
        sample=sample,
        steps=state.step,
        images_seen=state.images_seen,
        seconds=seconds,
        images_per_second=(state.images_seen - images_before) / max(seconds, 1e-9),
        losses=dict(monitor.last),
        skipped=tuple(sorted(state.skipped)),
        device=str(plan.device),
        world_size=plan.dist.world_size,
        rank=plan.dist.rank,
        export=exported,
    )


def _finish(run: _Run, interrupted: bool) -> Path | None:
    """Rank 0: the last checkpoint, and the sample grid beside it when the run completed."""
    size = run.plan.config.calibrate_norm
    if size and not interrupted:  # an interrupted run resumes as it stopped: its statistics stay the crops'
        calibrate_norm_statistics(
            run.bare_model(), run.plan.photos, size, device=run.plan.device, seed=run.plan.config.seed
        )
    path = run.save(complete=not interrupted)
    if interrupted:
        log.warning(
            "stopped at step %d: saved %s; continue with: stylecam train --resume %s", run.state.step, path, path
        )
        return None
    sample = sample_path(run.plan.output)
    run.sample(sample)
    return sample


def _export(plan: Plan) -> Path | None:
    """``--export``: the checked ONNX model (the checkpoint stays whatever the export says)."""
    if plan.options.export is None:
        return None
    from stylecam.export.onnx import export_checkpoint

    log.info("exporting %s to %s", plan.output, plan.options.export)
    return export_checkpoint(plan.output, plan.options.export, fp16=plan.options.export_fp16).path

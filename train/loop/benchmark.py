"""Training throughput: timed optimiser steps (network + VGG19 loss) on synthetic batches.

Data loading is left out on purpose: this measures what the device can do, so a data loader
that keeps up is the only other condition for that many images/s in a real run. Warm-up steps
(cuDNN autotuning, allocator growth, oneDNN kernel selection) are not timed.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from stylecam.train.config import TrainConfig
from stylecam.train.devices import resolve_device
from stylecam.train.loop.assemble import build_criterion, new_state
from stylecam.train.loop.engine import Precision, TrainState, train_step
from stylecam.train.loop.setup import resolve_amp
from stylecam.train.losses.objective import Objective
from stylecam.train.losses.vgg import load_vgg_weights
from stylecam.train.networks.model import ModelConfig, build_model, count_parameters, get_config


@dataclass(frozen=True)
class TrainBench:
    """Step times in ms (p50/p95/mean) and images per second at the median step."""

    device: str
    arch: str
    parameters: int
    size: int
    batch_size: int
    amp: str
    channels_last: bool
    steps: int
    recipe: str  # "vgg" (painting losses), "distill" (+ "features", "temporal" when on)
    p50_ms: float
    p95_ms: float
    mean_ms: float
    images_per_second: float
    peak_memory_mb: float | None
    torch_version: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time_steps(
    state: TrainState,
    criterion: Objective,
    precision: Precision,
    device: torch.device,
    config: TrainConfig,
    steps: int,
    warmup: int,
) -> list[float]:
    generator = torch.Generator().manual_seed(0)
    channels = 6 if config.teacher_sha256 else 3  # distillation batches carry the teacher's crops
    shape = (config.batch_size, channels, config.size, config.size)
    batch = torch.randint(0, 256, shape, dtype=torch.uint8, generator=generator)
    if device.type == "cuda":
        batch = batch.pin_memory()  # as the DataLoader delivers it
    times = []
    for index in range(warmup + steps):
        _sync(device)
        start = time.perf_counter()
        train_step(state, criterion, batch, precision, device)
        _sync(device)
        if index >= warmup:
            times.append((time.perf_counter() - start) * 1000)
    return times


def recipe_name(config: TrainConfig) -> str:
    parts = ["distill" if config.teacher_sha256 else "vgg"]
    if config.teacher_sha256 and (config.content_weight or config.style_weight):
        parts.append("vgg")
    if config.teacher_sha256 and config.distill_feature_weight:
        parts.append("features")
    if config.temporal_weight:
        parts.append("temporal")
    if config.luminance_weight:
        parts.append("luminance")
    return "+".join(parts)


def bench_train_step(
    config: TrainConfig,
    *,
    device: str = "auto",
    steps: int = 20,
    warmup: int = 5,
    channels_last: bool = True,
    model_config: ModelConfig | None = None,
) -> TrainBench:
    """Time ``steps`` training steps of ``config`` after ``warmup`` untimed ones."""
    torch_device = resolve_device(device)
    config = resolve_amp(config, torch_device)
    if torch_device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.cuda.reset_peak_memory_stats(torch_device)
    precision = Precision(config.amp, torch_device.type, channels_last=channels_last)
    model_config = model_config or get_config(config.arch)
    torch.manual_seed(config.seed)
    model = build_model(model_config).to(torch_device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    painting = np.random.default_rng(0).integers(0, 256, (2 * config.size, 2 * config.size, 3), dtype=np.uint8)
    criterion = build_criterion(config, painting, load_vgg_weights(), precision, torch_device)
    state = new_state(model, config, torch_device.type)
    times = _time_steps(state, criterion, precision, torch_device, config, steps, warmup)
    times.sort()
    p50 = statistics.median(times)
    peak = torch.cuda.max_memory_allocated(torch_device) / 2**20 if torch_device.type == "cuda" else None
    return TrainBench(
        device=torch.cuda.get_device_name(torch_device) if torch_device.type == "cuda" else "cpu",
        arch=model_config.arch,
        parameters=count_parameters(model),
        size=config.size,
        batch_size=config.batch_size,
        amp=config.amp,
        channels_last=channels_last,
        steps=steps,
        recipe=recipe_name(config),
        p50_ms=p50,
        p95_ms=times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
        mean_ms=statistics.fmean(times),
        images_per_second=config.batch_size * 1000 / p50,
        peak_memory_mb=peak,
        torch_version=torch.__version__,
    )

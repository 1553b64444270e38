"""The training loop: one optimiser step per batch, flat and readable (nanoGPT/torchvision style).

:func:`train_step` does forward, loss, backward and the update under optional autocast;
:func:`fit` repeats it until the step budget is spent or a stop was requested, calling
``on_step`` after every step (progress, samples, checkpoints are the caller's business).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from stylecam.errors import UsageError
from stylecam.train.loop import distributed
from stylecam.train.loop.interrupt import StopRequest
from stylecam.train.losses.criterion import LossTerms
from stylecam.train.losses.objective import Objective

log = logging.getLogger(__name__)

AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class Precision:
    """Autocast settings: ``mode`` is ``off``, ``bf16`` or ``fp16`` (fp16 also scales the loss)."""

    mode: str
    device_type: str
    channels_last: bool

    @property
    def dtype(self) -> torch.dtype | None:
        return AMP_DTYPES.get(self.mode)

    def autocast(self) -> torch.autocast:
        return torch.autocast(self.device_type, dtype=self.dtype or torch.float32, enabled=self.dtype is not None)

    def prepare(self, images: torch.Tensor, device: torch.device) -> torch.Tensor:
        """uint8 RGB batch -> float 0-255 on ``device`` (copied asynchronously from pinned memory)."""
        x = images.to(device, non_blocking=True).float()
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x


@dataclass
class TrainState:
    """What changes from step to step (and goes into every checkpoint)."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    step: int = 0
    images_seen: int = 0
    skipped: set[str] = field(default_factory=set)


def learning_rate_at(step: int, total_steps: int, base: float, decay: float) -> float:
    """Constant, then a cosine decay to 1 % of ``base`` over the last ``decay`` fraction of the steps."""
    start = total_steps * (1.0 - decay)
    if decay <= 0 or step < start:
        return base
    progress = min(1.0, (step - start) / max(total_steps - start, 1e-9))
    return base * (0.01 + 0.99 * 0.5 * (1.0 + math.cos(math.pi * progress)))


def train_step(
    state: TrainState,
    criterion: Objective,
    images: torch.Tensor,
    precision: Precision,
    device: torch.device,
    frozen: Sequence[nn.Parameter] = (),
) -> LossTerms:
    """One optimiser step on a uint8 batch; returns the detached weighted loss terms.

    A batch of 6 channels is a distillation batch: the photos, then the teacher's outputs.
    """
    x = precision.prepare(images, device)
    teacher = None
    if x.shape[1] == 6:
        x, teacher = x[:, :3].contiguous(memory_format=_format(x)), x[:, 3:].contiguous(memory_format=_format(x))
    with precision.autocast():
        terms = criterion(state.model, x, teacher)  # VGG under autocast too; the loss sums run in float32
    state.optimizer.zero_grad(set_to_none=True)
    state.scaler.scale(terms.total).backward()
    for parameter in frozen:
        # Dropping the gradient (after DDP averaged it) makes Adam skip the parameter: frozen.
        parameter.grad = None
    state.scaler.step(state.optimizer)
    state.scaler.update()
    return terms.detach()


def _format(x: torch.Tensor) -> torch.memory_format:
    return torch.channels_last if x.is_contiguous(memory_format=torch.channels_last) else torch.contiguous_format


def check_finite(terms: dict[str, float], step: int) -> None:
    if not all(math.isfinite(value) for value in terms.values()):
        raise UsageError(
            f"training diverged at step {step} (loss {terms}); lower --lr or --style-weight, "
            "or use --amp off if mixed precision was on"
        )


def fit(
    state: TrainState,
    batches: Iterator[tuple[torch.Tensor, list[str]]],
    criterion: Objective,
    *,
    total_steps: int,
    precision: Precision,
    device: torch.device,
    dist_info: distributed.DistInfo,
    stop: StopRequest,
    encoder: Sequence[nn.Parameter] = (),
    freeze_encoder_steps: int = 0,
    on_step: Callable[[TrainState, LossTerms], None] | None = None,
    stop_check_every: int = 1,
    lr_decay: float = 0.0,
) -> bool:
    """Train until ``total_steps``; return True if stopped early by ``stop`` (on every rank alike).

    Under DDP the ranks agree on stopping every ``stop_check_every`` steps (one tiny all-reduce,
    which waits for the GPU: not every step on CUDA).
    """
    state.model.train()
    while state.step < total_steps:
        images, skipped = next(batches)
        for path in skipped:
            if path not in state.skipped:
                log.warning("skipping unreadable training photo %s", path)
                state.skipped.add(path)
        frozen = encoder if state.step < freeze_encoder_steps else ()
        if lr_decay > 0:
            for group in state.optimizer.param_groups:
                group["lr"] = learning_rate_at(
                    state.step, total_steps, group.setdefault("base_lr", group["lr"]), lr_decay
                )
        terms = train_step(state, criterion, images, precision, device, frozen)
        state.step += 1
        state.images_seen += images.shape[0] * dist_info.world_size
        if on_step is not None:
            on_step(state, terms)
        # All ranks must leave the loop at the same step, or the next all-reduce hangs.
        check = not dist_info.enabled or state.step % stop_check_every == 0
        if check and distributed.any_rank(dist_info, stop.requested, device) and state.step < total_steps:
            return True
    return False

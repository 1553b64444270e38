"""Watching a run: tqdm progress (loss terms, images/s, ETA) and TensorBoard scalars and images.

Loss values stay on the device between log points: converting them to Python floats forces a
GPU sync, so on CUDA that happens only every ``log_every`` steps. Only the main process (rank 0)
shows progress and writes TensorBoard; the others get a silent monitor.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from tqdm import tqdm

from stylecam.train.loop.engine import check_finite
from stylecam.train.losses.criterion import OPTIONAL_TERMS, LossTerms

log = logging.getLogger(__name__)

TERMS = ("content", "style", "tv", "total")


class Monitor:
    """Progress bar + TensorBoard writer; :attr:`last` holds the latest window means of the loss terms."""

    def __init__(
        self,
        *,
        total_steps: int,
        start_step: int,
        log_dir: Path | None,
        enabled: bool,
        progress: bool,
        log_every: int,
    ) -> None:
        self.enabled = enabled
        self.log_every = max(1, log_every)
        self.last: dict[str, float] = {}
        self.images_per_second = 0.0
        self._window: list[torch.Tensor] = []
        self._optional: set[str] = set()  # distill/temporal/luminance: shown once a step reported them
        self._images = 0
        self._clock = time.perf_counter()
        self._run_start = self._clock
        self._run_images = 0
        self.writer = None
        if enabled and log_dir is not None:
            from torch.utils.tensorboard import SummaryWriter

            # purge_step drops events a crashed run wrote after its last checkpoint.
            self.writer = SummaryWriter(str(log_dir), purge_step=start_step if start_step else None)
        self.bar = tqdm(
            total=total_steps,
            initial=start_step,
            desc="train",
            unit="step",
            disable=not (enabled and progress),
            dynamic_ncols=True,
        )

    def update(self, step: int, terms: LossTerms, images: int, learning_rate: float) -> None:
        """Record one step of ``images`` images; log the window means every ``log_every`` steps."""
        self.bar.update(1)
        if not self.enabled:
            return
        zero = terms.total.new_zeros(())
        extra = [zero if value is None else value for value in (getattr(terms, name) for name in OPTIONAL_TERMS)]
        self._window.append(torch.stack([terms.content, terms.style, terms.tv, terms.total, *extra]))
        self._optional.update(name for name in OPTIONAL_TERMS if getattr(terms, name) is not None)
        self._images += images
        self._run_images += images
        if step % self.log_every == 0:
            self.flush(step, learning_rate)

    def flush(self, step: int, learning_rate: float) -> None:
        if not self._window:
            return
        means = torch.stack(self._window).float().mean(0).tolist()  # the one device sync per window
        self.last = {
            name: value for name, value in zip(TERMS + OPTIONAL_TERMS, means) if name in TERMS or name in self._optional
        }
        check_finite(self.last, step)
        now = time.perf_counter()
        self.images_per_second = self._images / max(now - self._clock, 1e-9)
        self._window, self._images, self._clock = [], 0, now
        shown = {name: f"{self.last[name]:.3g}" for name in ("content", "style", *OPTIONAL_TERMS) if name in self.last}
        self.bar.set_postfix(**shown, tv=f"{self.last['tv']:.2g}", img_s=f"{self.images_per_second:.1f}", refresh=False)
        if self.writer is not None:
            for name, value in self.last.items():
                self.writer.add_scalar(f"loss/{name}", value, step)
            self.writer.add_scalar("speed/images_per_second", self.images_per_second, step)
            self.writer.add_scalar("lr", learning_rate, step)

    def run_images_per_second(self) -> float:
        """Throughput since the monitor started (sampling and saving included)."""
        return self._run_images / max(time.perf_counter() - self._run_start, 1e-9)

    def image(self, tag: str, grid_rgb: npt.NDArray[np.uint8], step: int) -> None:
        if self.writer is not None:
            self.writer.add_image(tag, grid_rgb, step, dataformats="HWC")

    def close(self) -> None:
        self.bar.close()
        if self.writer is not None:
            self.writer.flush()
            self.writer.close()

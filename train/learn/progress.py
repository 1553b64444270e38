"""What the user watches during a learn job: one progress bar over the whole job, and a preview image.

The bar counts the job's budget in seconds, so its ETA is the time the job has left: the
trainings are sized to end at their deadlines (:mod:`stylecam.train.learn.budget`). A small
thread moves it every second, also through the parts that have no steps (exports, the teacher's
pass over the photos). The preview (painting | photos stylized by the network as it is now) is
rewritten every ``preview_seconds`` next to the model, atomically.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from torch import nn
from tqdm import tqdm

from stylecam.images import resize_long_side
from stylecam.sheets import grid, write_jpeg
from stylecam.train.learn.budget import Clock

Image = npt.NDArray[np.uint8]
PREVIEW_SIDE = 256
PREVIEW_HEIGHT = 180
TICK_S = 1.0


class JobProgress:
    """A tqdm bar over the budget (seconds), ticking on its own; ``stage`` and ``detail`` say what runs."""

    def __init__(self, *, name: str, budget: float, clock: Clock, enabled: bool) -> None:
        self.clock, self.budget = clock, budget
        self.bar = tqdm(
            total=round(budget),
            initial=min(round(clock.now()), round(budget) - 1),
            desc=f"learn {name}",
            unit="s",
            disable=not enabled,
            dynamic_ncols=True,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed} elapsed, ~{remaining} left{postfix}",
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, name="stylecam-learn-progress", daemon=True)
        if enabled:
            self._thread.start()

    def _tick(self) -> None:
        while not self._stop.wait(TICK_S):
            self.advance()

    def advance(self) -> None:
        # Never 100 % before the job says so: a job may run a little over its budget.
        target = min(round(self.clock.now()), round(self.budget) - 1)
        if target > self.bar.n:
            self.bar.update(target - self.bar.n)

    def stage(self, text: str) -> None:
        if not self._stop.is_set():  # after close (a Ctrl-C's export): nothing to redraw
            self.bar.set_postfix_str(text, refresh=True)

    def close(self, *, done: bool) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        if done:
            self.bar.update(max(0, self.bar.total - self.bar.n))
        self.bar.close()


def _fit_stride(image: Image, stride: int = 8) -> Image:
    height, width = image.shape[:2]
    return image[: height - height % stride, : width - width % stride]


class Preview:
    """Writes ``painting | photo A stylized | photo B stylized`` to ``path`` at most every ``seconds``."""

    def __init__(self, path: Path, painting: Image, photos: Sequence[Image], *, seconds: float) -> None:
        self.path, self.seconds = path, seconds
        self.painting = painting
        self.photos = [_fit_stride(resize_long_side(photo, PREVIEW_SIDE)) for photo in photos[:2]]
        self._last = -float("inf")

    def due(self) -> bool:
        return time.monotonic() - self._last >= self.seconds

    @torch.no_grad()
    def write(self, model: nn.Module, caption: str) -> None:
        """Stylize the photos with ``model`` as it is now (eval mode, then back) and write the sheet."""
        self._last = time.monotonic()
        if not self.photos:
            return
        model = model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model
        device = next(model.parameters()).device
        was_training = model.training
        model.eval()
        try:
            tiles = []
            for photo in self.photos:
                rgb = torch.from_numpy(np.ascontiguousarray(photo[:, :, ::-1])).permute(2, 0, 1)[None].float()
                out = model(rgb.to(device)).clamp(0, 255).round().byte()[0].permute(1, 2, 0).cpu().numpy()
                tiles.append(np.ascontiguousarray(out[:, :, ::-1]))
        finally:
            model.train(was_training)
        captions = [["painting", *[caption] * len(tiles)]]
        sheet = grid([[self.painting, *tiles]], height=PREVIEW_HEIGHT, captions=captions)
        write_jpeg(self.path, sheet, quality=85)

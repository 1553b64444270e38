"""Model-only benchmark: time the Stylizer on synthetic frames (no decode, no encode, no display).

Warm-up first (session arenas, cuDNN/TensorRT kernel selection), then a fixed number of timed
calls; we report mean / p50 / p95 latency, throughput, and the providers and precision actually
used, because a number without its device is meaningless.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from stylecam.errors import UsageError
from stylecam.runtime.metrics import LatencyStats
from stylecam.runtime.stylizer import Stylizer


@dataclass(frozen=True)
class BenchResult:
    """One model-only benchmark row."""

    model: str
    width: int
    height: int
    batch: int
    frames: int
    warmup: int
    providers: tuple[str, ...]
    device: str
    precision: str
    iobinding: bool
    mean_ms: float
    p50_ms: float
    p95_ms: float
    fps: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def synthetic_frame(height: int, width: int, seed: int = 0) -> npt.NDArray[np.uint8]:
    """A textured BGR frame (smooth noise): inference cost does not depend on content, realism does not matter."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (max(2, height // 8), max(2, width // 8), 3), dtype=np.uint8)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)


def bench_model(
    stylizer: Stylizer,
    width: int,
    height: int,
    *,
    frames: int = 50,
    warmup: int = 5,
    batch: int = 1,
    progress: bool = False,
    clock: Callable[[], float] = time.perf_counter,
) -> BenchResult:
    """Time ``stylizer`` on ``frames`` calls of a (batch, height, width) input after ``warmup`` untimed calls."""
    if width < 1 or height < 1 or frames < 1 or warmup < 0 or batch < 1:
        raise UsageError(
            f"benchmark needs width, height, frames, batch >= 1 and warmup >= 0; got {width}x{height}, "
            f"frames={frames}, warmup={warmup}, batch={batch}"
        )
    frame = synthetic_frame(height, width)
    inputs = np.repeat(frame[None], batch, axis=0)
    call = (lambda: stylizer(frame)) if batch == 1 else (lambda: stylizer.stylize_batch(inputs))
    for _ in range(warmup):
        call()
    stats = LatencyStats()
    for _ in tqdm(range(frames), desc=f"bench {width}x{height}", unit="call", disable=not progress, leave=False):
        start = clock()
        call()
        stats.add((clock() - start) * 1000.0)
    return BenchResult(
        model=stylizer.model.path.name,
        width=width,
        height=height,
        batch=batch,
        frames=frames,
        warmup=warmup,
        providers=tuple(stylizer.providers),
        device=stylizer.device,
        precision=stylizer.precision,
        iobinding=stylizer.config.iobinding,
        mean_ms=stats.mean,
        p50_ms=stats.p50,
        p95_ms=stats.p95,
        fps=1000.0 * batch / stats.mean if stats.mean > 0 else 0.0,
    )

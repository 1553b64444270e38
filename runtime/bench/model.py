"""Model-only benchmark: time the Stylizer on synthetic frames (no decode, no encode, no display).

Warm-up first (session arenas, cuDNN/TensorRT kernel selection), then a fixed number of timed
calls (or fewer when a time budget runs out); we report mean / p50 / p95 latency, throughput, and
the providers and precision actually used, because a number without its device is meaningless.

:class:`BenchResult` is the row every benchmark kind returns (``model`` here; ``pipeline``,
``end-to-end`` and ``latency`` in :mod:`.bench_pipeline` and :mod:`.bench_latency`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from stylecam.errors import StylecamError, UsageError
from stylecam.runtime.inference.stylizer import Stylizer
from stylecam.runtime.metrics import LatencyStats

KINDS = ("model", "pipeline", "end-to-end", "latency")
# A time budget never stops a row before this many timed samples (p95 of fewer means little).
MIN_TIMED = 5


@dataclass(frozen=True)
class BenchResult:
    """One benchmark row.

    ``mean_ms``/``p50_ms``/``p95_ms`` are per-call time (``model``), per-frame time in the steady
    state (``pipeline``, ``end-to-end``) or capture-to-output latency (``latency``); ``fps`` is
    frames per second through that path. ``frames`` counts the timed samples actually taken.
    """

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
    kind: str = "model"
    arch: str = ""
    smoothing: str = "none"
    reference: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"

    @property
    def provider(self) -> str:
        """The execution provider that runs the model (the session's first)."""
        return self.providers[0] if self.providers else ""

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["providers"] = list(self.providers)
        data.update(size=self.size, provider=self.provider)
        return data


def synthetic_frame(height: int, width: int, seed: int = 0) -> npt.NDArray[np.uint8]:
    """A textured BGR frame (smooth noise): inference cost does not depend on content, realism does not matter."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (max(2, height // 8), max(2, width // 8), 3), dtype=np.uint8)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)


class PanningScene:
    """A textured scene panned a few pixels per frame: cheap frames with real motion for smoothing to track.

    Frame ``index`` is a crop of a larger canvas whose offset moves (3, 1) px per frame and bounces
    inside the margin, so consecutive frames are related by a known translation and never cut.
    """

    MARGIN = 48

    def __init__(self, width: int, height: int, seed: int = 0) -> None:
        self.width, self.height = width, height
        self._canvas = synthetic_frame(height + 2 * self.MARGIN, width + 2 * self.MARGIN, seed)

    def offset(self, index: int) -> tuple[int, int]:
        period = 4 * self.MARGIN  # one bounce there and back

        def bounce(step: int) -> int:
            phase = step % period
            return phase if phase <= 2 * self.MARGIN else period - phase

        return bounce(3 * index), bounce(index)

    def frame(self, index: int) -> npt.NDArray[np.uint8]:
        left, top = self.offset(index)
        return np.ascontiguousarray(self._canvas[top : top + self.height, left : left + self.width])


def warmup_over(done: int, warmup: int, elapsed: float, max_seconds: float | None) -> bool:
    """Warm-up ends after ``warmup`` frames, or after one frame once a quarter of the row's time budget is gone.

    On a CPU a 1080p frame of the reference network takes tens of seconds: five warm-up frames
    would cost minutes and teach nothing more than the first one (no kernel autotuning there).
    """
    if done >= warmup:
        return True
    return done >= 1 and max_seconds is not None and elapsed > max_seconds / 4


def check_counts(width: int, height: int, frames: int, warmup: int, batch: int = 1) -> None:
    """UsageError unless the sizes and counts make a benchmark."""
    if width < 1 or height < 1 or frames < 1 or warmup < 0 or batch < 1:
        raise UsageError(
            f"benchmark needs width, height, frames, batch >= 1 and warmup >= 0; got {width}x{height}, "
            f"frames={frames}, warmup={warmup}, batch={batch}"
        )


def _warm_up(call: Callable[[], object], warmup: int, max_seconds: float | None, clock: Callable[[], float]) -> int:
    done, started = 0, clock()
    while not warmup_over(done, warmup, clock() - started, max_seconds):
        call()
        done += 1
    return done


def bench_models_side_by_side(
    stylizers: Sequence[Stylizer],
    width: int,
    height: int,
    *,
    frames: int = 50,
    warmup: int = 5,
    batch: int = 1,
    max_seconds: float | None = None,
    progress: bool = False,
    clock: Callable[[], float] = time.perf_counter,
) -> list[BenchResult | StylecamError]:
    """Model-only rows for several models, timed in turn call by call (round robin).

    Interleaving makes the models share whatever else the machine is doing, so their ratio holds
    even when the absolute numbers drift (a shared machine, thermal throttling). Each model warms
    up first (see :func:`warmup_over`); then rounds of one timed call per model run until
    ``frames`` rounds, or ``max_seconds`` per model have passed with ``MIN_TIMED`` rounds in. A
    model whose call fails gets its error in its slot and leaves the rotation.
    """
    check_counts(width, height, frames, warmup, batch)
    frame = synthetic_frame(height, width)
    inputs = np.repeat(frame[None], batch, axis=0)

    def call_of(stylizer: Stylizer) -> Callable[[], object]:
        return (lambda: stylizer(frame)) if batch == 1 else (lambda: stylizer.stylize_batch(inputs))

    calls = [call_of(stylizer) for stylizer in stylizers]
    errors: list[StylecamError | None] = [None] * len(calls)
    warmed = [0] * len(calls)
    for index, call in enumerate(calls):
        try:
            warmed[index] = _warm_up(call, warmup, max_seconds, clock)
        except StylecamError as exc:
            errors[index] = exc
    stats = [LatencyStats() for _ in calls]
    started = clock()
    for _ in tqdm(range(frames), desc=f"model {width}x{height}", unit="round", disable=not progress, leave=False):
        for index, call in enumerate(calls):
            if errors[index] is None:
                try:
                    begin = clock()
                    call()
                    stats[index].add((clock() - begin) * 1000.0)
                except StylecamError as exc:
                    errors[index] = exc
        active = [s.count for s, e in zip(stats, errors) if e is None]
        if not active or (
            max_seconds is not None and min(active) >= MIN_TIMED and _past(clock, started, max_seconds * len(active))
        ):
            break
    return [
        error or make_result(stylizer, "model", width, height, stat, warmup=warm, batch=batch)
        for stylizer, stat, warm, error in zip(stylizers, stats, warmed, errors)
    ]


def _past(clock: Callable[[], float], started: float, seconds: float) -> bool:
    return clock() - started > seconds


def bench_model(
    stylizer: Stylizer,
    width: int,
    height: int,
    *,
    frames: int = 50,
    warmup: int = 5,
    batch: int = 1,
    max_seconds: float | None = None,
    progress: bool = False,
    clock: Callable[[], float] = time.perf_counter,
) -> BenchResult:
    """Time ``stylizer`` on ``frames`` calls of a (batch, height, width) input after ``warmup`` untimed calls.

    Args:
        max_seconds: stop timing after this many seconds (at least ``MIN_TIMED`` calls are kept).

    Raises:
        StylecamError: the model failed on this input (out of memory, unsupported size).
    """
    (result,) = bench_models_side_by_side(
        [stylizer],
        width,
        height,
        frames=frames,
        warmup=warmup,
        batch=batch,
        max_seconds=max_seconds,
        progress=progress,
        clock=clock,
    )
    if isinstance(result, StylecamError):
        raise result
    return result


def make_result(
    stylizer: Stylizer,
    kind: str,
    width: int,
    height: int,
    stats: LatencyStats,
    *,
    warmup: int,
    batch: int = 1,
    fps: float | None = None,
    smoothing: str = "none",
    extra: dict[str, Any] | None = None,
) -> BenchResult:
    """A row for ``stylizer``'s model; ``fps`` defaults to ``batch`` frames per mean time."""
    if kind not in KINDS:
        raise UsageError(f"benchmark kind {kind!r} is not valid; choose one of: {', '.join(KINDS)}")
    if fps is None:
        fps = 1000.0 * batch / stats.mean if stats.mean > 0 else 0.0
    return BenchResult(
        model=stylizer.model.path.name,
        width=width,
        height=height,
        batch=batch,
        frames=stats.count,
        warmup=warmup,
        providers=tuple(stylizer.providers),
        device=stylizer.device,
        precision=stylizer.precision,
        iobinding=stylizer.config.iobinding,
        mean_ms=stats.mean,
        p50_ms=stats.p50,
        p95_ms=stats.p95,
        fps=fps,
        kind=kind,
        arch=stylizer.metadata.arch,
        smoothing=smoothing,
        extra=dict(extra or {}),
    )

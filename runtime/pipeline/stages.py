"""Where a run's time goes: milliseconds per frame for each stage, timed on the thread that runs it.

Stages of the threaded pipeline: ``read`` (the reader thread: decode and colour conversion),
``flow`` (the flow thread: the smoother's source half), ``stylize`` and ``smooth`` (the main
thread; ``smooth`` includes waiting for ``flow``), and ``write`` (the writer thread: encode).
Each stage is written by one thread only, so no lock is needed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from stylecam.runtime.metrics import LatencyStats

T = TypeVar("T")
STAGES = ("read", "flow", "stylize", "smooth", "write")


class StageTimes:
    """Per-stage :class:`LatencyStats` of one run (``run(stages=...)``)."""

    def __init__(self) -> None:
        self.stats: dict[str, LatencyStats] = {}

    def add(self, stage: str, milliseconds: float) -> None:
        stats = self.stats.get(stage)
        if stats is None:
            stats = self.stats[stage] = LatencyStats()
        stats.add(milliseconds)

    @contextmanager
    def time(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(stage, (time.perf_counter() - started) * 1000.0)

    def timed(self, stage: str, function: Callable[..., T]) -> Callable[..., T]:
        """``function`` wrapped so that each call is timed as ``stage``."""

        def call(*args: Any) -> T:
            with self.time(stage):
                return function(*args)

        return call

    def clear(self) -> None:
        """Forget what was timed so far (the end of a warm-up)."""
        self.stats = {}  # a sample another thread is adding right now may be lost: harmless

    def summary(self) -> dict[str, dict[str, float]]:
        """``{stage: {count, mean_ms, p50_ms, p95_ms}}`` in pipeline order, rounded to 0.01 ms."""
        order = [name for name in STAGES if name in self.stats] + sorted(set(self.stats) - set(STAGES))
        return {
            name: {key: round(value, 2) for key, value in self.stats[name].as_dict().items()}
            for name in order
            if self.stats[name].count
        }

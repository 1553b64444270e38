"""Throughput and latency bookkeeping for live runs and benchmarks (no I/O, no clocks of its own)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable

import numpy as np

from stylecam.errors import UsageError


class FPSMeter:
    """Frames per second over a rolling window of the last ``window`` frame times.

    Call :meth:`tick` once per finished frame; :attr:`fps` is 0.0 until two ticks are in.
    """

    def __init__(self, window: int = 30, *, clock: Callable[[], float] = time.perf_counter) -> None:
        if window < 2:
            raise UsageError(f"FPS window must be at least 2 frames, got {window}")
        self._times: deque[float] = deque(maxlen=window)
        self._clock = clock

    def tick(self) -> float:
        """Record a finished frame now; returns the updated FPS."""
        self._times.append(self._clock())
        return self.fps

    @property
    def fps(self) -> float:
        if len(self._times) < 2:
            return 0.0
        span = self._times[-1] - self._times[0]
        return (len(self._times) - 1) / span if span > 0 else 0.0

    def reset(self) -> None:
        self._times.clear()


class LatencyStats:
    """Latency samples in milliseconds with mean / p50 / p95 (keeps the last ``max_samples``)."""

    def __init__(self, samples_ms: Iterable[float] = (), *, max_samples: int = 100_000) -> None:
        self._samples: deque[float] = deque(maxlen=max_samples)
        self.extend(samples_ms)

    def add(self, milliseconds: float) -> None:
        if not np.isfinite(milliseconds) or milliseconds < 0:
            raise UsageError(f"latency must be a finite number of milliseconds >= 0, got {milliseconds!r}")
        self._samples.append(float(milliseconds))

    def extend(self, samples_ms: Iterable[float]) -> None:
        for value in samples_ms:
            self.add(value)

    @property
    def count(self) -> int:
        return len(self._samples)

    def percentile(self, q: float) -> float:
        """The q-th percentile (0-100, linear interpolation); 0.0 with no samples."""
        return float(np.percentile(self._samples, q)) if self._samples else 0.0

    @property
    def mean(self) -> float:
        return float(np.mean(self._samples)) if self._samples else 0.0

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p95(self) -> float:
        return self.percentile(95)

    def as_dict(self) -> dict[str, float]:
        return {"count": self.count, "mean_ms": self.mean, "p50_ms": self.p50, "p95_ms": self.p95}

"""FPSMeter, LatencyStats, the memory check, and bench_model's mechanics (not its speed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stylecam.errors import UsageError
from stylecam.runtime.bench.model import bench_model
from stylecam.runtime.inference.memory import available_memory_bytes, check_memory
from stylecam.runtime.inference.stylizer import Stylizer
from stylecam.runtime.metrics import FPSMeter, LatencyStats
from tests.runtime.conftest import FAST


def test_fps_meter_uses_a_rolling_window() -> None:
    ticks = iter([0.0, 0.1, 0.2, 0.3, 1.3, 2.3])
    meter = FPSMeter(window=3, clock=lambda: next(ticks))
    assert meter.fps == 0.0
    values = [meter.tick() for _ in range(6)]
    assert values[0] == 0.0 and values[2] == pytest.approx(10.0)
    assert values[-1] == pytest.approx(1.0)  # only the last 3 ticks (0.3, 1.3, 2.3) count
    meter.reset()
    assert meter.fps == 0.0
    with pytest.raises(UsageError, match="at least 2"):
        FPSMeter(window=1)


def test_latency_stats_percentiles() -> None:
    stats = LatencyStats(float(v) for v in range(1, 101))
    assert stats.count == 100 and stats.mean == pytest.approx(50.5)
    assert stats.p50 == pytest.approx(np.percentile(np.arange(1, 101), 50))
    assert stats.p95 == pytest.approx(95.05)
    assert LatencyStats().as_dict() == {"count": 0, "mean_ms": 0.0, "p50_ms": 0.0, "p95_ms": 0.0}
    bounded = LatencyStats([1.0, 2.0, 3.0], max_samples=2)
    assert bounded.count == 2 and bounded.mean == 2.5
    with pytest.raises(UsageError, match="finite"):
        stats.add(float("nan"))


@pytest.mark.parametrize(
    ("shape", "available", "fails"),
    [((1, 1080, 1920), 16 * 2**30, False), ((1, 4320, 7680), 8 * 2**30, True), ((8, 720, 1280), 4 * 2**30, True)],
)
def test_memory_check(shape: tuple[int, int, int], available: int, fails: bool) -> None:
    if fails:
        with pytest.raises(UsageError, match=r"GB of memory.*--max-pixels \d+"):
            check_memory(*shape, available=available)
    else:
        check_memory(*shape, available=available)


def test_available_memory_is_known_here() -> None:
    available = available_memory_bytes()
    assert available is not None and available > 0


def test_bench_model_mechanics(conv_model: Path) -> None:
    ticks = iter(np.arange(0.0, 100.0, 0.004))  # every clock read advances 4 ms: each call "takes" 4 ms
    with Stylizer(conv_model, FAST) as stylizer:
        result = bench_model(stylizer, 40, 32, frames=5, warmup=2, clock=lambda: float(next(ticks)))
        batched = bench_model(stylizer, 40, 32, frames=2, warmup=0, batch=3)
    assert result.frames == 5 and result.warmup == 2 and (result.width, result.height) == (40, 32)
    assert result.p50_ms == pytest.approx(4.0) and result.fps == pytest.approx(250.0)
    assert result.providers == ("CPUExecutionProvider",) and result.precision == "fp32" and result.device == "cpu"
    assert batched.batch == 3 and batched.mean_ms > 0 and set(result.as_dict()) >= {"p95_ms", "providers"}
    with pytest.raises(UsageError, match="frames"):
        bench_model(stylizer, 40, 32, frames=0)

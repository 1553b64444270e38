"""A few seconds of the soak benchmark: frames keep flowing, queues stay bounded, memory is sampled."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SOAK = Path(__file__).resolve().parents[3] / "benchmarks" / "soak.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("stylecam_soak", SOAK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_short_soak() -> None:
    soak = _load()
    report = soak.soak(3.0, width=160, height=120, fps=30, every=0.5, warmup=1.0)
    assert 2.5 <= report.seconds <= 6
    assert report.frames >= 30  # about 30 fps for 3 s; a loaded CI machine gets less
    assert report.max_reader_queue <= 1  # live: only the newest frame waits
    assert report.max_writer_queue == 0  # NullSink is written on the main thread
    assert len(report.samples) >= 4
    assert [s.frames_in for s in report.samples] == sorted(s.frames_in for s in report.samples)
    assert report.rss_start_mb > 10 and abs(report.rss_growth_pct) < 25


def test_rss_is_read() -> None:
    assert _load().rss_bytes() > 10 * 2**20

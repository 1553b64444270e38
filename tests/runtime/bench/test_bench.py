"""The benchmark's mechanics (not its speed): rows, kinds, latency timing, JSON schema, table, host info."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from stylecam.errors import ModelLoadError, UsageError
from stylecam.runtime.bench.hostinfo import cpu_model, device_name, gpus, host_info
from stylecam.runtime.bench.latency import bench_latency
from stylecam.runtime.bench.model import BenchResult, PanningScene, bench_model, bench_models_side_by_side, warmup_over
from stylecam.runtime.bench.pipeline import bench_end_to_end
from stylecam.runtime.bench.report import (
    ROW_KEYS,
    add_reference_ratios,
    build_run,
    failed_row,
    render_table,
    validate_run,
)
from stylecam.runtime.bench.runner import BenchPlan, ModelVariant, parse_size, run_bench
from stylecam.runtime.config import RuntimeConfig
from stylecam.runtime.inference.stylizer import Stylizer
from tests.runtime.clips import write_clip
from tests.runtime.conftest import FAST

HOST = {"cpu": "Test CPU", "cores": 2, "gpus": [{"name": "Test GPU", "driver": "1.0", "memory": "1 MiB"}]}


def _plan(**overrides: Any) -> BenchPlan:
    settings: dict[str, Any] = dict(
        sizes=((48, 32),), frames=4, warmup=1, max_seconds=20.0, camera_fps=100.0, runtime=FAST
    )
    settings.update(overrides)
    return BenchPlan(**settings)


def test_every_row_has_timings_provider_and_device(conv_model: Path, invert_model: Path) -> None:
    plan = _plan(sizes=((48, 32), (40, 24)))
    rows = run_bench(plan, [ModelVariant(conv_model), ModelVariant(invert_model, reference=True)], host=HOST)
    # size -> kind -> model: rows compared with each other are taken next to each other
    assert [(r["size"], r["kind"], r["reference"]) for r in rows[:4]] == [
        ("48x32", "model", False),
        ("48x32", "model", True),
        ("48x32", "pipeline", False),
        ("48x32", "pipeline", True),
    ]
    assert len(rows) == 2 * 3 * 2
    for row in rows:
        assert set(ROW_KEYS) <= set(row), set(ROW_KEYS) - set(row)
        assert row["status"] == "ok" and row["frames"] >= 4
        assert 0 < row["p50_ms"] <= row["p95_ms"] and row["fps"] > 0
        assert row["provider"] == "CPUExecutionProvider" and row["device"] == "cpu"
        assert row["device_name"] == "cpu (Test CPU, 2 cores)" and row["precision"] == "fp32"
    assert {r["arch"] for r in rows} == {"test-conv", "test-invert"}
    assert {r["smoothing"] for r in rows if r["kind"] != "model"} == {"flow"}
    add_reference_ratios(rows)
    mine = [r for r in rows if not r["reference"]]
    refs = {(r["kind"], r["size"]): r["fps"] for r in rows if r["reference"]}
    for row in mine:
        assert row["vs_reference"] == pytest.approx(row["fps"] / refs[row["kind"], row["size"]], rel=1e-2)
    record = build_run(HOST, plan.settings(), rows, load_start=[0.1, 0.2, 0.3], load_end=None)
    validate_run(json.loads(json.dumps(record)))  # the record survives a JSON round trip


class _Slowed:
    """A Stylizer that takes ``delay`` seconds longer per frame (everything else delegated)."""

    def __init__(self, stylizer: Stylizer, delay: float) -> None:
        self._stylizer, self._delay = stylizer, delay

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        time.sleep(self._delay)
        return self._stylizer(frame)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stylizer, name)


def test_latency_runs_from_capture_to_output(conv_model: Path) -> None:
    with Stylizer(conv_model, FAST) as stylizer:
        fast = bench_latency(stylizer, 48, 32, camera_fps=50, smoothing="none", frames=6, warmup=1)
        slow = bench_latency(_Slowed(stylizer, 0.06), 48, 32, camera_fps=50, smoothing="none", frames=6, warmup=1)
    assert fast.kind == slow.kind == "latency" and slow.frames == 6
    # every frame waited for the 60 ms model, so latency includes it; the 50 fps camera outpaces it
    assert slow.p50_ms >= 60.0 and slow.p50_ms > fast.p50_ms
    assert slow.fps < 1000 / 60 * 1.05 and slow.extra["dropped"] > 0
    assert slow.extra["camera_fps"] == 50


def test_end_to_end_decodes_stylizes_and_encodes_with_audio(conv_model: Path, tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "clip.mp4", frames=14, fps=10, audio="aac")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with Stylizer(conv_model, FAST) as stylizer:
        row = bench_end_to_end(stylizer, clip, smoothing="ema", frames=50, warmup=2, scratch_dir=scratch)
    assert row.kind == "end-to-end" and (row.width, row.height) == (64, 48) and row.smoothing == "ema"
    assert row.frames == 14 - 2 and row.extra["frames_out"] == 14  # the whole clip: it ends first
    assert row.extra["audio"].startswith("aac") and row.extra["encoder"] == "libx264"
    assert row.p50_ms > 0 and row.extra["video"] == "clip.mp4"
    assert list(scratch.iterdir()) == []  # the encoded scratch file is gone


def test_budget_stops_a_row_early(conv_model: Path) -> None:
    plan = _plan(modes=("pipeline",), frames=10_000, max_seconds=0.3, smoothing="none")
    started = time.perf_counter()
    (row,) = run_bench(plan, [ModelVariant(conv_model)], host=HOST)
    assert time.perf_counter() - started < 30
    assert 5 <= row["frames"] < 10_000


def test_a_variant_that_cannot_load_gives_failed_rows(conv_model: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx file at all" * 10)
    rows = run_bench(_plan(modes=("model",)), [ModelVariant(conv_model), ModelVariant(broken)], host=HOST)
    assert rows[0]["status"] == "ok"
    assert rows[1]["status"].startswith("failed: ") and rows[1]["p50_ms"] is None and set(ROW_KEYS) <= set(rows[1])
    with pytest.raises(Exception, match=r"broken\.onnx"):  # the user's own model must load
        run_bench(_plan(modes=("model",)), [ModelVariant(broken)], host=HOST)


def _row(kind: str, fps: float, *, reference: bool = False, precision: str = "fp32") -> dict[str, Any]:
    row = failed_row(kind, "ref.onnx" if reference else "mine.onnx", 640, 360, reason="x", reference=reference)
    row.update(status="ok", fps=fps, p50_ms=1000 / fps, p95_ms=1200 / fps, provider="CPUExecutionProvider")
    row.update(precision=precision, arch="reference" if reference else "fast")
    return row


def test_reference_ratio_and_table() -> None:
    rows = [
        _row("model", 50.0),
        _row("model", 25.0, reference=True),
        _row("model", 80.0, precision="fp16"),
        _row("model", 20.0, reference=True, precision="fp16"),
        _row("pipeline", 10.0),
        failed_row("model", "broken.onnx", 640, 360, reason="out of memory"),
    ]
    add_reference_ratios(rows)
    assert [row["vs_reference"] for row in rows] == [2.0, None, 4.0, None, None, None]  # no pipeline ref row
    lines = render_table(rows).splitlines()
    assert lines[0].split()[:4] == ["kind", "model", "arch", "size"] and set(lines[1]) <= {"-", " "}
    assert "2.00x" in lines[2] and "20.0" in lines[2] and "50.0" in lines[2] and "cpu" in lines[2]
    assert "failed: out of memory" in lines[-1] and lines[-1].split()[7:10] == ["-", "-", "-"]
    starts = {line.index("640x360") for line in lines[2:]}
    assert len(starts) == 1  # columns line up


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"schema": "other"}, "not a stylecam-bench"),
        ({"version": 99}, "version 99"),
        ({"host": None, "rows": [{"kind": "model"}]}, "row 0 lacks"),
    ],
)
def test_validate_run_names_the_problem(change: dict[str, Any], message: str) -> None:
    record = build_run(HOST, {}, [], load_start=None, load_end=None)
    record.update(change)
    with pytest.raises(ValueError, match=message):
        validate_run(record)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("640x360", (640, 360)),
        ("1920X1080", (1920, 1080)),
        ("640by360", UsageError),
        ("640x", UsageError),
        ("8x8", UsageError),
        ("99999x10", UsageError),
    ],
)
def test_parse_size(text: str, expected: Any) -> None:
    if expected is UsageError:
        with pytest.raises(UsageError, match="--size"):
            parse_size(text)
    else:
        assert parse_size(text) == expected


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"modes": ("model", "warp")}, "unknown benchmark kind"),
        ({"modes": ("end-to-end",)}, "--end-to-end VIDEO"),
        ({"frames": 0}, "--frames"),
        ({"warmup": -1}, "--warmup"),
        ({"smoothing": "blur"}, "--smooth"),
        ({"max_seconds": 0.0}, "--max-seconds"),
        ({"camera_fps": 0.5}, "--camera-fps"),
    ],
)
def test_plan_refuses_bad_settings(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        _plan(**overrides)


def test_panning_scene_moves_without_cuts() -> None:
    scene = PanningScene(64, 32)
    offsets = [scene.offset(i) for i in range(400)]
    steps = {(abs(a[0] - b[0]), abs(a[1] - b[1])) for a, b in itertools.pairwise(offsets)}
    assert steps == {(3, 1)} and max(o[0] for o in offsets) == 96 and min(o[0] for o in offsets) == 0
    assert scene.frame(5).shape == (32, 64, 3) and not np.array_equal(scene.frame(5), scene.frame(6))


def test_cpu_model_and_gpu_query(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Test   CPU @ 3.00GHz\nflags\t: sse\n")
    assert cpu_model(cpuinfo) == "Test CPU @ 3.00GHz"
    smi = tmp_path / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho 'NVIDIA H100 80GB HBM3, 550.54.15, 81559 MiB'\n")
    smi.chmod(0o755)
    assert gpus(str(smi)) == [{"name": "NVIDIA H100 80GB HBM3", "driver": "550.54.15", "memory": "81559 MiB"}]
    broken = tmp_path / "broken-smi"
    broken.write_text("#!/bin/sh\necho 'NVIDIA-SMI has failed' >&2\nexit 9\n")
    broken.chmod(0o755)
    assert gpus(str(broken)) == []
    assert device_name("cuda", HOST) == "cuda:0 (Test GPU)"
    info = host_info()
    assert {"cpu", "cores", "gpu", "gpu_driver", "date", "libraries"} <= set(info)
    assert info["libraries"]["onnxruntime"] and "onnxruntime" in info["libraries"]["onnxruntime_packages"]


def test_runtime_config_iobinding_is_recorded() -> None:
    plan = _plan(runtime=RuntimeConfig(probe="never", iobinding=False))
    assert plan.settings()["iobinding"] is False and plan.settings()["sizes"] == ["48x32"]


@pytest.mark.parametrize(
    ("done", "warmup", "elapsed", "budget", "over"),
    [(0, 5, 100.0, 10.0, False), (1, 5, 3.0, 10.0, True), (1, 5, 2.0, 10.0, False), (5, 5, 0.0, None, True)],
)
def test_warmup_ends_on_count_or_budget(done: int, warmup: int, elapsed: float, budget: float | None, over: bool):
    assert warmup_over(done, warmup, elapsed, budget) is over


def test_slow_frames_shorten_warmup_and_timing(conv_model: Path) -> None:
    ticks = iter(np.arange(0.0, 1e4, 10.0))  # every clock read advances 10 s: a "1080p on a CPU" model
    with Stylizer(conv_model, FAST) as stylizer:
        row = bench_model(stylizer, 40, 32, frames=50, warmup=5, max_seconds=20.0, clock=lambda: float(next(ticks)))
    assert row.warmup == 1 and row.frames == 5 and row.p50_ms == pytest.approx(10_000.0)


class _Recorded:
    """A Stylizer that logs its calls in ``log`` and fails from call ``fail_at`` on (if given)."""

    def __init__(self, stylizer: Stylizer, name: str, log: list[str], fail_at: int | None = None) -> None:
        self._stylizer, self._name, self._log, self._fail_at = stylizer, name, log, fail_at

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        self._log.append(self._name)
        if self._fail_at is not None and self._log.count(self._name) >= self._fail_at:
            raise ModelLoadError("out of memory: lower --max-pixels")
        return self._stylizer(frame)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stylizer, name)


def test_models_are_timed_in_turn_and_a_failure_leaves_the_rotation(conv_model: Path) -> None:
    calls: list[str] = []
    with Stylizer(conv_model, FAST) as stylizer:
        models = [_Recorded(stylizer, "a", calls), _Recorded(stylizer, "b", calls, fail_at=4)]
        a, b = bench_models_side_by_side(models, 40, 32, frames=6, warmup=2)  # type: ignore[arg-type]
    assert calls[:4] == ["a", "a", "b", "b"]  # each warms up on its own first
    assert calls[4:9] == ["a", "b", "a", "b", "a"]  # then one timed call each, in turn; b fails on its 4th
    assert isinstance(a, BenchResult) and a.frames == 6 and a.warmup == 2
    assert isinstance(b, ModelLoadError) and "out of memory" in str(b)


def test_reference_ratios_pair_rows_of_the_same_smoothing_and_round() -> None:
    def row(smoothing: str, fps: float, *, reference: bool, repeat: int) -> dict[str, Any]:
        made = failed_row("pipeline", "m", 8, 8, reason="x", smoothing=smoothing, reference=reference)
        made.update(status="ok", fps=fps, extra={"repeat": repeat})
        return made

    rows = [
        row(mode, fps * (1 + r), reference=ref, repeat=r)
        for r in (0, 1)
        for mode, fps in (("none", 40.0), ("flow", 20.0))
        for ref in (False, True)
    ]
    for made in rows:
        if made["reference"]:
            made["fps"] /= 4
    add_reference_ratios(rows)
    assert [made["vs_reference"] for made in rows if not made["reference"]] == [4.0, 4.0, 4.0, 4.0]

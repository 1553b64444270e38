"""benchmarks/: run_all.py re-takes results, make_table.py turns them into the README tables."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from stylecam.runtime.bench.model import PanningScene
from stylecam.runtime.bench.report import build_run, failed_row
from tests.runtime.clips import write_clip
from tests.runtime.onnx_builders import make_contract_model

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"stylecam_benchmarks_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_readme_tables_match_the_committed_results() -> None:
    assert _load("make_table").main(["--check"]) == 0, "run python benchmarks/make_table.py --write"


def test_sections_are_replaced_between_markers_only() -> None:
    make_table = _load("make_table")
    text = "intro\n<!-- bench-table:begin -->\nold\n<!-- bench-table:end -->\noutro\n<!-- eval-table:begin -->x"
    replaced = make_table.replace_sections(text.rsplit("\n", 1)[0], {"bench-table": "| new |"})
    assert replaced == "intro\n<!-- bench-table:begin -->\n| new |\n<!-- bench-table:end -->\noutro"
    with pytest.raises(ValueError, match="no matching"):
        make_table.replace_sections(text, {"eval-table": "y"})


def test_bench_table_from_a_record(tmp_path: Path) -> None:
    row = failed_row("model", "starry.onnx", 640, 360, reason="x")
    row.update(status="ok", p50_ms=12.34, p95_ms=15.0, fps=80.0, provider="CUDAExecutionProvider", vs_reference=1.5)
    oom = failed_row("model", "starry.onnx", 1920, 1080, reason="out of memory")
    host = {"cpu": "Test CPU", "cores": 16, "gpu": "NVIDIA H100", "gpu_driver": "550", "date": "2026-11-23T00:00"}
    record = build_run(host, {"frames": 50, "warmup": 5}, [oom, row], load_start=[0.2, 0, 0], load_end=[0.4, 0, 0])
    (tmp_path / "bench-x.json").write_text(json.dumps(record))
    (tmp_path / "notes.json").write_text(json.dumps({"schema": "other"}))
    make_table = _load("make_table")
    with pytest.raises(ValueError, match=r"notes\.json"):
        make_table.tables(tmp_path)
    (tmp_path / "notes.json").unlink()
    lines = make_table.tables(tmp_path)["bench-table"].splitlines()
    assert "NVIDIA H100 (driver 550)" in lines[0] and "load average 0.2 → 0.4" in lines[0]
    assert (
        lines[4].startswith("| model | starry.onnx | – | 640x360 | cuda |")
        and "| 12.3 | 15.0 | 80.00 | 1.50× |" in lines[4]
    )
    assert "failed: out of memory" in lines[5]  # 1080p after 360p, and its failure is shown


def _model_row(model: str, p50: float, *, reference: bool = False, precision: str = "fp32", size=(640, 360)):
    row = failed_row("model", model, *size, reason="x")
    row.update(status="ok", p50_ms=p50, p95_ms=p50 + 1, fps=1000 / p50, reference=reference, precision=precision)
    row.update(device="cpu", arch="reference" if reference else "lite")
    return row


def test_bench_summary_keeps_the_newest_run_of_each_lite_network(tmp_path: Path) -> None:
    host = {"cpu": "Test CPU", "cores": 2, "gpu": "none"}
    old = [_model_row("a.lite.onnx", 30.0), _model_row("reference (random weights)", 600.0, reference=True)]
    new = [_model_row("a.lite.onnx", p50) for p50 in (10.0, 14.0, 11.0)]  # three rounds: the median is 11
    new += [_model_row("reference (random weights)", p50, reference=True) for p50 in (500.0, 520.0, 510.0)]
    new += [_model_row("reference (random weights, fp16)", 100.0, reference=True, precision="fp16")]
    new += [_model_row("a.lite.onnx", 1.0, size=(320, 180)), _model_row("b.onnx", 5.0)]  # another size; not lite
    for rows in (old, new):
        for row in rows:
            ref = [r["fps"] for r in rows if r["reference"] and r["precision"] == "fp32"]
            row["vs_reference"] = None if row["reference"] else row["fps"] / ref[0]
    for name, date, rows in (("z-old.json", "2026-12-01", old), ("a-new.json", "2026-12-06", new)):
        run = build_run({**host, "date": date}, {}, rows, load_start=[1.0, 0, 0], load_end=[2.0, 0, 0])
        (tmp_path / name).write_text(json.dumps(run))
    lines = _load("make_table").tables(tmp_path)["bench-summary"].splitlines()
    (row,) = [line for line in lines if line.startswith("| a.lite.onnx")]  # b.onnx and the old run left out
    cells = [cell.strip() for cell in row.split("|")[1:-1]]
    assert cells[1:4] == ["11.0", "12.0", "90.9"] and cells[4] == "510.0"  # medians; fp32 reference only
    assert cells[5] == "45.5×" and cells[6] == "3" and cells[7].startswith("2026-12-06") and "a-new.json" in cells[8]


def test_run_all_then_make_table(tmp_path: Path) -> None:
    model = make_contract_model(tmp_path / "tiny.onnx", op="conv")
    scene = PanningScene(64, 48)
    clip = write_clip(tmp_path / "clip.mp4", frames=12, fps=10, audio="aac", painter=lambda h, w, i: scene.frame(i))
    results = tmp_path / "results"
    args = ["--models", str(model), "--videos", str(clip), "--sizes", "48x32", "--no-reference"]
    args += ["--end-to-end", str(clip), "--results", str(results), "--provider", "cpu"]
    args += ["--bench-args", "--frames 2 --warmup 1 --modes model -q", "--eval-args", "--no-losses --frames 4 -q"]
    assert _load("run_all").main(args) == 0
    assert sorted(p.name for p in results.iterdir()) == ["bench-tiny-cpu.json", "eval-tiny-clip.json"]
    sections = _load("make_table").tables(results)
    assert "| end-to-end | tiny.onnx |" in sections["bench-table"]
    assert sections["eval-table-full"].count("| tiny.onnx | clip.mp4 (4, 64x48) |") == 4  # none, ema, flow, source
    (summary,) = [line for line in sections["eval-table"].splitlines() if line.startswith("| tiny.onnx")]
    # a stable model; no losses
    assert summary.startswith("| tiny.onnx | clip.mp4 (4, 64x48) |") and summary.endswith("| yes / – |")

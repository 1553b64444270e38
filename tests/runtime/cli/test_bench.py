"""`stylecam bench` from the command line: the table, the JSON record, the reference rows, and refusals."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from stylecam.cli import main
from stylecam.runtime.bench.random_models import reference_path
from stylecam.runtime.bench.report import validate_run
from stylecam.runtime.config import plan_threads, usable_cores
from tests.runtime.clips import write_clip
from tests.runtime.onnx_builders import make_contract_model

QUICK = ["--size", "48x32", "--frames", "3", "--warmup", "1", "--camera-fps", "100", "-q"]


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("stylecam: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_table_and_json(conv_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    args = ["bench", "--model", str(conv_model), *QUICK, "--size", "40x24", "--json", str(out), "--smooth", "ema"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0].split()[:4] == ["kind", "model", "arch", "size"]
    assert "no GPU" in printed and "load average" in printed and f"wrote {out}" in printed
    record = json.loads(out.read_text())
    validate_run(record)
    assert [(r["kind"], r["size"]) for r in record["rows"]] == [
        (kind, size) for size in ("48x32", "40x24") for kind in ("model", "pipeline", "latency")
    ]
    assert record["settings"]["smoothing"] == "ema" and record["settings"]["frames"] == 3
    assert len(record["load_start"]) == 3 and record["host"]["cores"] >= 1
    # the command that made the file, as typed (quoted where the shell would need it)
    assert record["command"] == shlex.join(["stylecam", *args])


def test_reference_rows_come_from_the_cache(
    conv_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    make_contract_model(reference_path(cache), op="invert")  # stands in for the exported reference
    monkeypatch.setitem(sys.modules, "torch", None)  # a cached reference needs no torch
    out = tmp_path / "bench.json"
    args = ["bench", "--model", str(conv_model), *QUICK, "--modes", "model", "--compare-reference"]
    assert main([*args, "--cache-dir", str(cache), "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [row["reference"] for row in rows] == [False, True]
    assert rows[0]["vs_reference"] == pytest.approx(rows[0]["fps"] / rows[1]["fps"], rel=1e-2)
    assert "x" in capsys.readouterr().out.splitlines()[2].split()[-1]


def test_an_fp16_model_is_compared_with_the_fp16_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bundled models are fp16: --compare-reference adds the fp16 reference, so the ratio is computed."""
    cache = tmp_path / "cache"
    cache.mkdir()
    make_contract_model(reference_path(cache), op="invert")
    make_contract_model(reference_path(cache, fp16=True), op="invert", precision="fp16")
    model = make_contract_model(tmp_path / "lite.onnx", op="identity", precision="fp16")
    monkeypatch.setitem(sys.modules, "torch", None)
    out = tmp_path / "bench.json"
    args = ["bench", "--model", str(model), *QUICK, "--modes", "model", "--compare-reference"]
    assert main([*args, "--cache-dir", str(cache), "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [(row["reference"], row["precision"]) for row in rows] == [(False, "fp16"), (True, "fp32"), (True, "fp16")]
    assert rows[0]["vs_reference"] == pytest.approx(rows[0]["fps"] / rows[2]["fps"], rel=1e-2)


def test_end_to_end_row(conv_model: Path, tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "clip.mp4", frames=10, fps=10)
    out = tmp_path / "bench.json"
    args = ["bench", "--model", str(conv_model), *QUICK, "--modes", "model", "--end-to-end", str(clip)]
    assert main([*args, "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    rows = record["rows"]
    stages = list(rows[1]["extra"]["stages"])
    # in pipeline order; "read" may have no sample after the warm-up: the reader ran ahead through the short clip
    assert {"flow", "stylize", "smooth", "write"} <= set(stages) <= {"read", "flow", "stylize", "smooth", "write"}
    assert stages == [name for name in ("read", "flow", "stylize", "smooth", "write") if name in stages]
    assert [row["kind"] for row in rows] == ["model", "end-to-end", *(f"end-to-end:{name}" for name in stages)]
    assert rows[1]["size"] == "64x48" and rows[1]["extra"]["flow_thread"] is True
    preset = plan_threads(usable_cores()).encoder_preset  # convert's default: veryfast up to 4 cores
    assert rows[1]["extra"]["encoder_preset"] == preset and record["settings"]["encoder_preset"] == preset
    for row in rows[2:]:
        assert row["status"] == "ok" and row["smoothing"] == "flow" and row["p50_ms"] <= row["p95_ms"]
        assert row["p50_ms"] == rows[1]["extra"]["stages"][row["extra"]["stage"]]["p50_ms"]
    threads = record["settings"]["threads"]
    assert threads["cores"] >= 1 and threads["inference"] >= 1 and "spinning" in threads


def test_smoothing_modes_side_by_side_repeated_with_the_budget_recorded(conv_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    args = ["bench", "--model", str(conv_model), *QUICK, "--modes", "pipeline", "latency"]
    extra = ["--smooth", "none", "flow,preset=ultrafast,width=160", "--repeat", "2", "--threads", "2"]
    assert main([*args, *extra, "--flow-thread", "off", "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    seen = [(row["extra"]["repeat"], row["kind"], row["smoothing"]) for row in record["rows"]]
    modes = ("none", "flow,preset=ultrafast,width=160")
    assert seen == [(r, kind, mode) for r in (0, 1) for kind in ("pipeline", "latency") for mode in modes]
    assert record["settings"]["smoothing"] == list(modes) and record["settings"]["repeat"] == 2
    assert record["settings"]["threads"] == {
        "cores": 2,
        "inference": 2,
        "opencv": 1,
        "decode": 0,
        "encode": 2,
        "spinning": False,
        "encoder_preset": "veryfast",
    }
    assert record["settings"]["flow_thread"] is False
    latency = [row for row in record["rows"] if row["kind"] == "latency"]
    assert all(row["extra"]["frame_intervals"] > 0 for row in latency)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--size", "640by360"], 2, "WIDTHxHEIGHT"),
        (["--frames", "0"], 2, "--frames must be"),
        (["--max-seconds", "-1"], 2, "--max-seconds"),
        (["--smooth", "flow,preset=slow"], 2, "flow_preset 'slow' is not valid"),
        (["--repeat", "0"], 2, "--repeat must be"),
        (["--threads", "-1"], 2, "--threads must be 0"),
        (["--json", "{tmp}/missing/out.json"], 4, "does not exist; create it first"),
        (["--end-to-end", "{tmp}/nope.mp4"], 3, "nope.mp4"),
    ],
)
def test_refusals_before_any_work(
    conv_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: int, message: str
) -> None:
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    assert main(["bench", "--model", str(conv_model), *args]) == code
    assert message in _error_line(capsys)


def test_missing_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--model", str(tmp_path / "gone.onnx")]) == 3
    assert "gone.onnx" in _error_line(capsys)


@pytest.mark.parametrize("flag", ["--compare-reference", "--fp16"])
def test_made_models_without_torch_name_the_extra(
    conv_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    code = main(["bench", "--model", str(conv_model), flag, "--cache-dir", str(tmp_path), *QUICK])
    assert code == 6
    line = _error_line(capsys)
    assert flag in line and "pip install 'stylecam[train]'" in line


def test_a_whole_bench_never_imports_torch(conv_model: Path) -> None:
    code = (
        "import sys\nfrom stylecam.cli import main\n"
        f"code = main(['bench', '--model', {str(conv_model)!r}, *{QUICK!r}])\n"
        "print(code, 'torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "0 False"

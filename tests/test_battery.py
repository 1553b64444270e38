"""The reliability battery's quick subset: fresh bad inputs through the real CLI, in subprocesses.

The full battery (every case, including the slow camera, Ctrl-C and checkpoint ones) runs from
``python benchmarks/battery.py``; its last results are in benchmarks/results/battery.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BATTERY = Path(__file__).resolve().parents[1] / "benchmarks" / "battery.py"


def test_quick_battery_gets_clean_errors_and_leaves_nothing_behind(tmp_path: Path) -> None:
    report = tmp_path / "battery.json"
    done = subprocess.run(
        [sys.executable, str(BATTERY), "--quick", "--json", str(report), "--keep", str(tmp_path / "work")],
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    summary = json.loads(report.read_text())
    failed = [r for r in summary["results"] if r["verdict"] == "FAIL"]
    assert not failed, done.stdout
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {r["row"] for r in summary["results"] if r["verdict"] == "pass"}
    assert summary["passed"] == summary["ran"] >= 14 and len(rows) >= 11, rows

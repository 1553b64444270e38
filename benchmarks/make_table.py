"""Make the README tables from benchmarks/results/*.json (``stylecam bench --json`` and ``stylecam eval --json``).

    python benchmarks/make_table.py            # print the tables (Markdown)
    python benchmarks/make_table.py --write    # put them into README.md and benchmarks/README.md
    python benchmarks/make_table.py --check    # exit 1 when the READMEs are out of date

The tables go between ``<!-- NAME:begin -->`` / ``<!-- NAME:end -->`` markers (``bench-table``,
``bench-summary``: the newest CPU measurement of each bundled lite network at 640x360, ``eval-table``:
the default smoothing modes side by side, one line per clip, ``eval-table-full``: every mode of every
run); nothing else is touched.
Every bench table is captioned with its machine, providers, date and load average.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from stylecam.runtime.bench.report import validate_run
from stylecam.runtime.inference.providers import SHORT_NAMES
from stylecam.train.evaluation.report import validate_record

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
TARGETS = (ROOT / "README.md", ROOT / "benchmarks" / "README.md")
KIND_ORDER = {"model": 0, "pipeline": 1, "latency": 2, "end-to-end": 3}
OTHER_SCHEMAS = (
    "stylecam-battery",
    "stylecam-fuzz",
    "stylecam-soak",
    "stylecam-transfer",
    "stylecam-architectures",
    "stylecam-gpu-suite",
    "stylecam-train-speed",
    "stylecam-quality",
    "stylecam-learn",
    "stylecam-encoder-presets",
    "stylecam-eval-study",  # several `stylecam eval` runs side by side (docs/runtime.md, README)
    "stylecam-train-ab",  # training runs against a baseline on the same crops (docs/training.md)
    "stylecam-content-bands",  # benchmarks/content_gap_bands.py: where a student's content loss lives
    "stylecam-guide-cost",  # one network with and without --guide, alternated in one sitting (docs/models.md)
)


def load_results(folder: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(bench runs, eval records) in ``folder``, sorted by file name; ValueError names a bad file."""
    runs, evals = [], []
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("schema") == "stylecam-bench":
            validate_run(data, source=path.name)
            runs.append({**data, "_file": path.name})
        elif data.get("schema") == "stylecam-eval":
            validate_record(data, source=path.name)
            evals.append(data)
        elif data.get("schema") in OTHER_SCHEMAS:
            continue  # reliability, transfer-learning and architecture results: documented elsewhere, not tables here
        else:
            raise ValueError(f"{path.name}: unknown schema {data.get('schema')!r}")
    return runs, evals


def _num(value: float | None, spec: str = ".1f") -> str:
    return "–" if value is None else format(value, spec)


def _caption(run: Mapping[str, Any]) -> str:
    host, libs = run["host"], run["host"].get("libraries", {})
    gpu = host.get("gpu", "none")
    device = (
        f"{gpu} (driver {host.get('gpu_driver')})"
        if gpu != "none"
        else f"{host.get('cpu')}, {host.get('cores')} cores, no GPU"
    )
    load = f"{(run.get('load_start') or ['?'])[0]} → {(run.get('load_end') or ['?'])[0]}"
    providers = ", ".join(SHORT_NAMES.get(p, p) for p in libs.get("onnxruntime_providers", []))
    settings = run["settings"]
    return (
        f"**{device}**; onnxruntime {libs.get('onnxruntime')} (providers available: {providers}); "
        f"{host.get('date', '')[:10]}; load average {load}; {settings.get('frames')} timed frames after "
        f"{settings.get('warmup')} warm-up (at most {settings.get('max_seconds')} s a row)"
    )


def _model_name(row: Mapping[str, Any]) -> str:
    marked = row["reference"] and not row["model"].startswith("reference")
    return row["model"] + (" (reference)" if marked else "")


def bench_table(run: Mapping[str, Any]) -> str:
    """One run as a Markdown table, rows ordered by kind, size, then model."""
    lines = [
        _caption(run),
        "",
        "| kind | model | arch | size | provider | precision | smoothing | p50 ms | p95 ms | fps | vs reference |",
        "|---|---|---|---|---|---|---|---:|---:|---:|---:|",
    ]
    rows = sorted(run["rows"], key=lambda r: (KIND_ORDER.get(r["kind"], 9), r["width"] * r["height"], r["reference"]))
    for row in rows:
        ok = row["status"] == "ok"
        ratio = row.get("vs_reference")
        lines.append(
            f"| {row['kind']} | {_model_name(row)} | {row['arch'] or '–'} "
            f"| {row['size']} | {SHORT_NAMES.get(row['provider'], row['provider']) or '–'} | {row['precision'] or '–'} "
            f"| {row['smoothing'] if row['kind'] != 'model' else '–'} | {_num(row['p50_ms'])} | {_num(row['p95_ms'])} "
            f"| {_num(row['fps'], '.2f') if ok else row['status']} | {'–' if ratio is None else f'{ratio:.2f}×'} |"
        )
    return "\n".join(lines)


SUMMARY_SIZE = "640x360"


def _timed(run: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The run's measured model-only CPU rows at :data:`SUMMARY_SIZE`."""
    return [
        row
        for row in run["rows"]
        if row["kind"] == "model" and row["status"] == "ok" and row["size"] == SUMMARY_SIZE and row["device"] == "cpu"
    ]


def bench_summary(runs: Iterable[Mapping[str, Any]]) -> str:
    """One line per lite network (``*.lite.onnx``): its newest run, the median of that run's rounds.

    Older runs of the same file name measured a network it has since replaced, so only the newest
    counts; the reference column is the fp32 random-weight reference timed in the same run (the ratio
    is only meaningful within one run on a shared machine). Its links are relative to the repository
    root: the section belongs in README.md.
    """
    newest: dict[str, Mapping[str, Any]] = {}
    for run in runs:
        for name in {row["model"] for row in _timed(run) if row["model"].endswith(".lite.onnx")}:
            if name not in newest or run["host"].get("date", "") >= newest[name]["host"].get("date", ""):
                newest[name] = run
    if not newest:
        return "*No CPU measurement of a lite network yet.*"
    lines = [
        f"Model only (one inference call, {SUMMARY_SIZE}, CPU), median of each run's rounds; "
        "the newest run per network:",
        "",
        "| lite network | p50 ms | p95 ms | fps | reference p50 ms, same run | vs reference | rounds "
        "| measured (load average) | results |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for name, run in sorted(newest.items()):
        rows = [row for row in _timed(run) if row["model"] == name]
        reference = [row["p50_ms"] for row in _timed(run) if row["reference"] and row["precision"] == "fp32"]
        ratios = [row["vs_reference"] for row in rows if row.get("vs_reference") is not None]
        host = run["host"]
        load = f"{(run.get('load_start') or ['?'])[0]} → {(run.get('load_end') or ['?'])[0]}"
        p50, p95, fps = (statistics.median(row[key] for row in rows) for key in ("p50_ms", "p95_ms", "fps"))
        lines.append(
            f"| {name} | {p50:.1f} | {p95:.1f} | {fps:.1f} "
            f"| {_num(statistics.median(reference) if reference else None)} "
            f"| {f'{statistics.median(ratios):.1f}×' if ratios else '–'} | {len(rows)} "
            f"| {host.get('date', '')[:10]}, {host.get('cpu')} {host.get('cores')} cores ({load}) "
            f"| [{run['_file']}](benchmarks/results/{run['_file']}) |"
        )
    return "\n".join(lines)


def eval_table(records: Iterable[Mapping[str, Any]]) -> str:
    """Every evaluation as rows of one Markdown table (smoothing modes side by side per clip)."""
    lines = [
        "| model | clip (frames, size) | smoothing | warp error ×10⁻³ | ratio to source | style loss | style vs none "
        "| content loss |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for record in records:
        clip = f"{record['video']} ({record['frames']}, {record['size']})"
        for row in record["rows"]:
            change = row["style_change_pct"]
            lines.append(
                f"| {record['model']} | {clip} | {row['smoothing']} (α {row['alpha']:.2f}) "
                f"| {1000 * row['warp_error']:.3f} | {row['ratio']:.2f} | {_num(row['style_loss'], '.4g')} "
                f"| {'–' if change is None else f'{change:+.1f} %'} | {_num(row['content_loss'], '.4g')} |"
            )
        source = 1000 * record["source_warp_error"]
        lines.append(f"| {record['model']} | {clip} | *source video* | {source:.3f} | 1.00 | – | – | – |")
    return "\n".join(lines)


DEFAULT_MODES = ("none", "ema", "flow")


def _yes_no(value: bool | None) -> str:
    return "–" if value is None else ("yes" if value else "no")


def eval_summary(records: Iterable[Mapping[str, Any]]) -> str:
    """One line per clip, the default modes side by side (records without all three are left out)."""
    lines = [
        "| model | clip (frames, size) | source E_warp ×10⁻³ | ratio: none | ema | flow | style vs none: ema | flow "
        "| flow meets ratio ≤ 3 / style ≤ +10 % |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for record in records:
        rows = {row["smoothing"]: row for row in record["rows"]}
        if not all(mode in rows for mode in DEFAULT_MODES):
            continue
        ratios = " | ".join(f"{rows[mode]['ratio']:.2f}" for mode in DEFAULT_MODES)
        changes = " | ".join(
            "–" if rows[mode]["style_change_pct"] is None else f"{rows[mode]['style_change_pct']:+.0f} %"
            for mode in ("ema", "flow")
        )
        goals = record["goals"]
        lines.append(
            f"| {record['model']} | {record['video']} ({record['frames']}, {record['size']}) "
            f"| {1000 * record['source_warp_error']:.3f} | {ratios} | {changes} "
            f"| {_yes_no(goals['ratio_met'])} / {_yes_no(goals['style_met'])} |"
        )
    return "\n".join(lines)


def tables(folder: Path = RESULTS) -> dict[str, str]:
    """The generated sections from ``folder``: bench-table, bench-summary, eval-table, eval-table-full."""
    runs, evals = load_results(folder)
    bench = "\n\n".join(bench_table(run) for run in runs) or "*No benchmark results yet.*"
    summary = bench_summary(runs)
    if not evals:
        return {
            "bench-table": bench,
            "bench-summary": summary,
            "eval-table": "*No eval results yet.*",
            "eval-table-full": "*No eval results yet.*",
        }
    return {
        "bench-table": bench,
        "bench-summary": summary,
        "eval-table": eval_summary(evals),
        "eval-table-full": eval_table(evals),
    }


def replace_sections(text: str, sections: Mapping[str, str]) -> str:
    """``text`` with the content between each section's begin/end markers replaced."""
    for name, body in sections.items():
        begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
        if begin not in text:
            continue
        head, _, rest = text.partition(begin)
        _, found, tail = rest.partition(end)
        if not found:
            raise ValueError(f"{begin} has no matching {end}")
        text = f"{head}{begin}\n{body}\n{end}{tail}"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder of result JSON files")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="update the README tables")
    action.add_argument("--check", action="store_true", help="exit 1 when a README table is out of date")
    args = parser.parse_args(argv)
    sections = tables(args.results)
    if not (args.write or args.check):
        print("\n\n".join(sections.values()))
        return 0
    stale = []
    for target in TARGETS:
        old = target.read_text(encoding="utf-8")
        new = replace_sections(old, sections)
        if new != old:
            stale.append(target)
            if args.write:
                target.write_text(new, encoding="utf-8")
    if args.check and stale:
        names = ", ".join(str(path.relative_to(ROOT)) for path in stale)
        print(f"out of date: {names}; run python benchmarks/make_table.py --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

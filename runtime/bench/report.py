"""Benchmark results as data: rows, the run record (JSON, schema in benchmarks/README.md) and the table.

A run is ``{"schema": "stylecam-bench", "version": 1, "host": ..., "load_start": ..., "load_end":
..., "settings": ..., "rows": [...]}``. Every row has the keys of :data:`ROW_KEYS`; a row that could
not be measured (say fp16 on a provider without fp16 kernels) keeps them with ``null`` timings and
says why in ``status``, so one failure never hides the other numbers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from stylecam.atomic import atomic_output
from stylecam.runtime.bench.model import BenchResult
from stylecam.runtime.inference.providers import SHORT_NAMES

SCHEMA = "stylecam-bench"
VERSION = 1
OK = "ok"
ROW_KEYS = (
    "kind",
    "model",
    "arch",
    "size",
    "width",
    "height",
    "batch",
    "provider",
    "providers",
    "device",
    "device_name",
    "precision",
    "iobinding",
    "smoothing",
    "reference",
    "frames",
    "warmup",
    "mean_ms",
    "p50_ms",
    "p95_ms",
    "fps",
    "vs_reference",
    "status",
    "extra",
)
RUN_KEYS = ("schema", "version", "host", "load_start", "load_end", "settings", "rows")


def result_row(result: BenchResult, *, device_name: str) -> dict[str, Any]:
    """A measured row: the result's fields plus ``device_name`` and ``status: ok``."""
    row = result.as_dict()
    row.update(device_name=device_name, status=OK, vs_reference=None)
    return row


def failed_row(
    kind: str,
    model: str,
    width: int,
    height: int,
    *,
    reason: str,
    arch: str = "",
    precision: str = "",
    reference: bool = False,
    smoothing: str = "none",
) -> dict[str, Any]:
    """A row that could not be measured: every key present, timings ``None``, ``status`` says why."""
    row: dict[str, Any] = dict.fromkeys(ROW_KEYS)
    row.update(
        kind=kind,
        model=model,
        arch=arch,
        size=f"{width}x{height}",
        width=width,
        height=height,
        provider="",
        providers=[],
        device="",
        device_name="",
        precision=precision,
        smoothing=smoothing,
        reference=reference,
        batch=1,
        frames=0,
        status=f"failed: {reason}",
        extra={},
    )
    return row


def _precision_base(precision: str) -> str:
    return precision.split("+", 1)[0]


def _ratio_key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    extra = row.get("extra") or {}
    return row["kind"], row["size"], _precision_base(row["precision"]), row.get("smoothing"), extra.get("repeat")


def add_reference_ratios(rows: Sequence[dict[str, Any]]) -> None:
    """Set ``vs_reference`` = fps / fps of the reference row of the same kind, size, precision,
    smoothing and repeat round."""
    references = {_ratio_key(row): row for row in rows if row.get("reference") and row.get("status") == OK}
    for row in rows:
        ref = references.get(_ratio_key(row))
        if row.get("reference") or ref is None or row.get("status") != OK or not ref["fps"]:
            continue
        row["vs_reference"] = round(row["fps"] / ref["fps"], 3)


def build_run(
    host: Mapping[str, Any],
    settings: Mapping[str, Any],
    rows: Iterable[Mapping[str, Any]],
    *,
    load_start: list[float] | None,
    load_end: list[float] | None,
    command: str | None = None,
) -> dict[str, Any]:
    """The run record that ``--json`` writes (see the module doc); ``command``: the command line that made it."""
    return {
        "schema": SCHEMA,
        "version": VERSION,
        **({"command": command} if command else {}),
        "host": dict(host),
        "load_start": load_start,
        "load_end": load_end,
        "settings": dict(settings),
        "rows": [dict(row) for row in rows],
    }


def validate_run(data: Mapping[str, Any], *, source: str = "benchmark result") -> None:
    """ValueError naming the first problem when ``data`` is not a run record of this schema."""
    validate_schema(data, schema=SCHEMA, version=VERSION, keys=RUN_KEYS, row_keys=ROW_KEYS, source=source)


def validate_schema(
    data: Mapping[str, Any],
    *,
    schema: str,
    version: int,
    keys: Sequence[str],
    row_keys: Sequence[str],
    source: str,
) -> None:
    """ValueError naming the first problem when ``data`` is not a ``schema`` record (``version`` or older)
    with ``keys`` and, in each of its ``rows``, ``row_keys``; shared by the bench and eval records."""
    if data.get("schema") != schema:
        raise ValueError(f"{source} is not a {schema} record (schema {data.get('schema')!r})")
    if not isinstance(data.get("version"), int) or data["version"] > version:
        raise ValueError(f"{source} has {schema} version {data.get('version')!r}; this stylecam reads <= {version}")
    missing = [key for key in keys if key not in data]
    if missing:
        raise ValueError(f"{source} lacks {', '.join(missing)}")
    for index, row in enumerate(data["rows"]):
        absent = [key for key in row_keys if key not in row]
        if absent:
            raise ValueError(f"{source}: row {index} lacks {', '.join(absent)}")


def write_json(path: str | os.PathLike[str], run: Mapping[str, Any]) -> Path:
    """Write the run record atomically (the target only ever holds a complete file)."""
    with atomic_output(path) as temp:
        Path(temp).write_text(json.dumps(run, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return Path(path)


def _number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _cells(row: Mapping[str, Any]) -> list[str]:
    provider = SHORT_NAMES.get(row["provider"], row["provider"]) or "-"
    ratio = row.get("vs_reference")
    status = row["status"] if row["status"] != OK else ""
    return [
        row["kind"],
        row["model"] + (" (ref)" if row.get("reference") and not row["model"].startswith("reference") else ""),
        row["arch"] or "-",
        row["size"],
        provider,
        row["precision"] or "-",
        row["smoothing"] if row["kind"] != "model" else "-",
        _number(row["p50_ms"]),
        _number(row["p95_ms"]),
        _number(row["fps"]),
        "-" if ratio is None else f"{ratio:.2f}x",
        status,
    ]


HEADER = ["kind", "model", "arch", "size", "provider", "precision", "smooth", "p50 ms", "p95 ms", "fps", "vs ref", ""]
_RIGHT = {7, 8, 9, 10}  # numeric columns


def render_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """A fixed-width text table of the rows (latency rows: p50/p95 are capture-to-output times)."""
    body = [_cells(row) for row in rows]
    widths = [max(len(line[i]) for line in [HEADER, *body]) for i in range(len(HEADER))]

    def fmt(line: list[str]) -> str:
        cells = [cell.rjust(w) if i in _RIGHT else cell.ljust(w) for i, (cell, w) in enumerate(zip(line, widths))]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths).rstrip()
    return "\n".join([fmt(HEADER), rule, *(fmt(line) for line in body)])


def describe_host(run: Mapping[str, Any]) -> str:
    """One line naming the machine, the providers available and the load, for under the table."""
    host = run["host"]
    libs = host.get("libraries", {})
    load = run.get("load_start") or ["?"]
    load_end = run.get("load_end") or ["?"]
    gpu = host.get("gpu", "none")
    gpu_text = f"GPU {gpu} (driver {host.get('gpu_driver')})" if gpu != "none" else "no GPU"
    return (
        f"{host.get('cpu')} ({host.get('cores')} cores), {gpu_text}; onnxruntime {libs.get('onnxruntime')} "
        f"[{', '.join(libs.get('onnxruntime_providers', []))}]; load average {load[0]} -> {load_end[0]}; "
        f"{host.get('date')}"
    )

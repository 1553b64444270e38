"""``stylecam eval`` results as data: the JSON record (schema in benchmarks/README.md) and the table.

Torch-free, so ``benchmarks/make_table.py`` can read records anywhere. The goals reported against
(issue 6): with flow smoothing the warping-error ratio is at most 3.0, and the style loss is at
most 10 % above the unsmoothed one (smoothing must not wash the style out).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from stylecam.runtime.bench.report import validate_schema
from stylecam.train.evaluation.evaluate import EvalResult

SCHEMA = "stylecam-eval"
VERSION = 1
GOAL_RATIO = 3.0
GOAL_STYLE_INCREASE_PCT = 10.0
RECORD_KEYS = ("schema", "version", "host", "model", "video", "frames", "size", "source_warp_error", "rows", "goals")
ROW_KEYS = ("smoothing", "mode", "alpha", "warp_error", "ratio", "style_loss", "content_loss", "style_change_pct")


def _style_change(rows: Sequence[dict[str, Any]]) -> None:
    base = next((row for row in rows if row["mode"] == "none" and row["style_loss"] is not None), None)
    for row in rows:
        row["style_change_pct"] = (
            None
            if base is None or row["style_loss"] is None or not base["style_loss"]
            else round(100.0 * (row["style_loss"] - base["style_loss"]) / base["style_loss"], 2)
        )


def goals(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The issue's goals for the default flow row (``flow`` label, else the first flow row)."""
    flow = next((row for row in rows if row["smoothing"] == "flow"), None)
    flow = flow or next((row for row in rows if row["mode"] == "flow"), None)
    result: dict[str, Any] = {"ratio_max": GOAL_RATIO, "style_change_max_pct": GOAL_STYLE_INCREASE_PCT}
    if flow is None:
        return {**result, "flow_row": None, "ratio_met": None, "style_met": None}
    change = flow["style_change_pct"]
    return {
        **result,
        "flow_row": flow["smoothing"],
        "ratio_met": flow["ratio"] <= GOAL_RATIO,
        "style_met": None if change is None else change <= GOAL_STYLE_INCREASE_PCT,
    }


def eval_record(
    result: EvalResult,
    used: Mapping[str, str],
    *,
    host: Mapping[str, Any],
    settings: Mapping[str, Any],
    load_start: list[float] | None = None,
    load_end: list[float] | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    """The JSON record of one evaluation; ``command``: the command line that made it."""
    rows = [
        {
            "smoothing": mode.label,
            "mode": mode.mode,
            "alpha": mode.alpha,
            "warp_error": mode.warp_error,
            "ratio": mode.ratio,
            "style_loss": mode.style_loss,
            "content_loss": mode.content_loss,
        }
        for mode in result.modes
    ]
    _style_change(rows)
    return {
        "schema": SCHEMA,
        "version": VERSION,
        **({"command": command} if command else {}),
        "host": dict(host),
        "load_start": load_start,
        "load_end": load_end,
        **dict(used),
        "frames": result.frames,
        "size": f"{result.width}x{result.height}",
        "source_warp_error": result.source_warp_error,
        "coverage": result.coverage,
        "loss_frames": result.loss_frames,
        "pairs": {"measured": result.pairs, "scene_cuts": result.cuts, "unexplained": result.unexplained},
        "settings": dict(settings),
        "rows": rows,
        "goals": goals(rows),
    }


def validate_record(data: Mapping[str, Any], *, source: str = "eval result") -> None:
    """ValueError naming the first problem when ``data`` is not an eval record of this schema."""
    validate_schema(data, schema=SCHEMA, version=VERSION, keys=RECORD_KEYS, row_keys=ROW_KEYS, source=source)


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def render_eval_table(record: Mapping[str, Any]) -> str:
    """Smoothing modes side by side; the warping error is shown x 1000 (0-1 pixel scale)."""
    header = ["smoothing", "alpha", "warp err x1e3", "ratio", "style loss", "vs none", "content loss"]
    body = [
        [
            row["smoothing"],
            f"{row['alpha']:.2f}",
            f"{1000 * row['warp_error']:.3f}",
            f"{row['ratio']:.2f}",
            _fmt(row["style_loss"], ".4g"),
            "-" if row["style_change_pct"] is None else f"{row['style_change_pct']:+.1f}%",
            _fmt(row["content_loss"], ".4g"),
        ]
        for row in record["rows"]
    ]
    body.append(["source", "-", f"{1000 * record['source_warp_error']:.3f}", "1.00", "-", "-", "-"])
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths)))
        for line in [header, *body]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def describe_goals(record: Mapping[str, Any]) -> str:
    """One line: the goals and whether this clip meets them."""
    goal = record["goals"]
    if goal["flow_row"] is None:
        return "goals (flow smoothing): not evaluated; add flow to --smooth"
    row = next(r for r in record["rows"] if r["smoothing"] == goal["flow_row"])
    ratio = f"ratio {row['ratio']:.2f} (goal <= {goal['ratio_max']:g}: {'met' if goal['ratio_met'] else 'NOT met'})"
    if goal["style_met"] is None:
        style = "style loss change not measured (needs --smooth none and the losses)"
    else:
        verdict = "met" if goal["style_met"] else "NOT met"
        limit = goal["style_change_max_pct"]
        style = f"style loss {row['style_change_pct']:+.1f}% vs none (goal <= +{limit:g}%: {verdict})"
    return f"goals with {goal['flow_row']}: {ratio}; {style}"

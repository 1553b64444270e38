"""One ``stylecam bench`` run: which models, sizes and kinds to measure, measured side by side.

Every model (the user's, its fp16 twin, the reference network) is loaded once and kept open; the
loops go repeat -> size -> kind -> smoothing -> model, so rows that are compared with each other
(none vs flow, model vs reference) are taken next to each other, under the same conditions, and
``repeat`` rounds show the spread. A row that fails (a provider without fp16 kernels, out of
memory at 1080p) becomes a failed row and the run goes on. Each end-to-end row is followed by one
row per pipeline stage (``end-to-end:read`` ... ``end-to-end:write``), timed in that same run.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from stylecam.errors import StylecamError, UsageError
from stylecam.runtime.bench.hostinfo import device_name
from stylecam.runtime.bench.latency import bench_latency
from stylecam.runtime.bench.model import BenchResult, bench_models_side_by_side
from stylecam.runtime.bench.pipeline import bench_end_to_end, bench_pipeline
from stylecam.runtime.bench.report import failed_row, result_row
from stylecam.runtime.config import RuntimeConfig, parse_smoothing
from stylecam.runtime.inference.stylizer import Stylizer
from stylecam.runtime.pipeline.threads import opencv_threads

log = logging.getLogger(__name__)

SIZE_KINDS = ("model", "pipeline", "latency")  # measured at every --size
MODES = (*SIZE_KINDS, "end-to-end")
DEFAULT_SIZES = ((640, 360), (1280, 720), (1920, 1080))
MAX_SIDE = 8192


def parse_size(text: str) -> tuple[int, int]:
    """``"1280x720"`` -> ``(1280, 720)``; UsageError with an example otherwise."""
    width, sep, height = text.lower().replace("×", "x").partition("x")
    if not sep or not width.strip().isdigit() or not height.strip().isdigit():
        raise UsageError(f"--size {text!r} is not WIDTHxHEIGHT; e.g. --size 1280x720")
    size = int(width), int(height)
    if not all(16 <= side <= MAX_SIDE for side in size):
        raise UsageError(f"--size {text}: each side must be between 16 and {MAX_SIDE} pixels")
    return size


@dataclass(frozen=True)
class ModelVariant:
    """One model file to measure: the user's, an fp16 twin, or the reference network."""

    path: Path
    reference: bool = False
    trt_fp16: bool = False  # let TensorRT build fp16 kernels (only for fp16 variants: fp32 rows stay fp32)
    label: str = ""  # the name rows show (default: the file name)

    @property
    def name(self) -> str:
        return self.label or self.path.name


@dataclass(frozen=True)
class BenchPlan:
    """What to measure (validated on construction; the CLI builds it from its options)."""

    sizes: tuple[tuple[int, int], ...] = DEFAULT_SIZES
    modes: tuple[str, ...] = SIZE_KINDS
    frames: int = 50
    warmup: int = 5
    batch: int = 1
    max_seconds: float | None = 60.0
    smoothing: str | tuple[str, ...] = "flow"  # one spec or several, measured side by side
    camera_fps: float = 30.0
    end_to_end: Path | None = None
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    repeat: int = 1
    overlap: bool = True  # optical flow on its own thread while the model runs
    encoder_preset: str | None = None  # libx264 preset of the end-to-end rows (None: the budget's, as convert)

    @property
    def smoothings(self) -> tuple[str, ...]:
        return (self.smoothing,) if isinstance(self.smoothing, str) else tuple(self.smoothing)

    def __post_init__(self) -> None:
        unknown = [mode for mode in self.modes if mode not in MODES]
        if unknown or not self.modes:
            raise UsageError(f"unknown benchmark kind(s) {unknown or '(none)'}; choose from: {', '.join(MODES)}")
        if ("end-to-end" in self.modes) != (self.end_to_end is not None):
            raise UsageError("the end-to-end benchmark needs a video: pass --end-to-end VIDEO")
        if not self.smoothings:
            raise UsageError("--smooth needs at least one mode, e.g. --smooth none flow")
        for spec in self.smoothings:
            try:
                parse_smoothing(spec)
            except UsageError as exc:
                raise UsageError(f"--smooth: {exc}") from None
        if not self.sizes and any(mode in SIZE_KINDS for mode in self.modes):
            raise UsageError("no --size to measure at")
        checks = {
            "--frames": (self.frames, 1),
            "--warmup": (self.warmup, 0),
            "--batch": (self.batch, 1),
            "--repeat": (self.repeat, 1),
        }
        for flag, (value, low) in checks.items():
            if not isinstance(value, int) or value < low:
                raise UsageError(f"{flag} must be an integer >= {low}, got {value!r}")
        if self.max_seconds is not None and not self.max_seconds > 0:
            raise UsageError(f"--max-seconds must be positive, got {self.max_seconds:g}")
        if not 1 <= self.camera_fps <= 1000:
            raise UsageError(f"--camera-fps must be between 1 and 1000, got {self.camera_fps:g}")

    def settings(self) -> dict[str, Any]:
        """The plan as recorded in the JSON (``settings``)."""
        return {
            "sizes": [f"{w}x{h}" for w, h in self.sizes],
            "modes": list(self.modes),
            "frames": self.frames,
            "warmup": self.warmup,
            "batch": self.batch,
            "max_seconds": self.max_seconds,
            "smoothing": self.smoothing if isinstance(self.smoothing, str) else list(self.smoothing),
            "camera_fps": self.camera_fps,
            "end_to_end": None if self.end_to_end is None else Path(self.end_to_end).name,
            "provider": self.runtime.provider,
            "iobinding": self.runtime.iobinding,
            "device_id": self.runtime.device_id,
            "repeat": self.repeat,
            "flow_thread": self.overlap,
            "encoder_preset": self.encoder_preset
            or (budget.encoder_preset if (budget := self.runtime.thread_budget) is not None else "medium"),
            "threads": budget.as_dict() if budget is not None else None,
        }


@dataclass
class _Loaded:
    variant: ModelVariant
    stylizer: Stylizer | None
    error: str = ""


def _open_all(variants: list[ModelVariant], plan: BenchPlan, stack: contextlib.ExitStack) -> list[_Loaded]:
    loaded = []
    for index, variant in enumerate(variants):
        config = replace(plan.runtime, trt_fp16=variant.trt_fp16)
        try:
            loaded.append(_Loaded(variant, stack.enter_context(Stylizer(variant.path, config))))
        except StylecamError as exc:
            if index == 0:
                raise  # the user's own model must load: that is an error, not a row
            log.warning("%s could not be loaded (%s); its rows are marked failed", variant.path.name, exc)
            loaded.append(_Loaded(variant, None, str(exc)))
    return loaded


@dataclass(frozen=True)
class _Job:
    kind: str
    width: int
    height: int
    smoothing: str = "none"
    repeat: int = 0


def _jobs(plan: BenchPlan) -> Iterator[_Job]:
    for repeat in range(plan.repeat):
        for width, height in plan.sizes:
            for kind in SIZE_KINDS:
                if kind == "model" and "model" in plan.modes:
                    yield _Job(kind, width, height, repeat=repeat)
                elif kind in plan.modes:
                    yield from (_Job(kind, width, height, spec, repeat) for spec in plan.smoothings)
        if plan.end_to_end is not None:
            yield from (_Job("end-to-end", 0, 0, spec, repeat) for spec in plan.smoothings)


def _measure(job: _Job, stylizer: Stylizer, plan: BenchPlan) -> BenchResult:
    counts: dict[str, Any] = {
        "frames": plan.frames,
        "warmup": plan.warmup,
        "max_seconds": plan.max_seconds,
        "smoothing": job.smoothing,
        "overlap": plan.overlap,
    }
    if job.kind == "pipeline":
        return bench_pipeline(stylizer, job.width, job.height, **counts)
    if job.kind == "latency":
        return bench_latency(stylizer, job.width, job.height, camera_fps=plan.camera_fps, **counts)
    assert job.kind == "end-to-end" and plan.end_to_end is not None
    return bench_end_to_end(
        stylizer, plan.end_to_end, threads=plan.runtime.thread_budget, preset=plan.encoder_preset, **counts
    )


def run_bench(
    plan: BenchPlan,
    variants: list[ModelVariant],
    *,
    host: dict[str, Any],
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Measure every variant for every (kind, size) of ``plan``; returns the rows in measuring order.

    Model rows of all variants are timed in turn, call by call (:func:`bench_models_side_by_side`);
    the stream kinds run one variant after the other. The first variant is the user's model: if it
    cannot load, the error is raised (nothing was measured yet). ``on_row`` is called after each row.
    """
    if not variants:
        raise UsageError("nothing to benchmark: no model given")
    rows: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        stack.enter_context(opencv_threads(plan.runtime.thread_budget))
        loaded = _open_all(variants, plan, stack)
        for job in _jobs(plan):
            if job.kind == "model":
                batch = _model_rows(loaded, job.width, job.height, plan, host)
            else:
                batch = [row for item in loaded for row in _with_stage_rows(_stream_row(job, item, plan, host))]
            for row in batch:
                if plan.repeat > 1:
                    row["extra"]["repeat"] = job.repeat
                rows.append(row)
                if on_row is not None:
                    on_row(row)
    return rows


def _with_stage_rows(row: dict[str, Any]) -> list[dict[str, Any]]:
    """An end-to-end row, then one ``end-to-end:STAGE`` row per pipeline stage timed in it.

    A stage row's p50/p95/mean are that stage's milliseconds per frame on its own thread, and its
    fps the rate that stage alone could sustain (1000 / mean).
    """
    stages = row["extra"].get("stages") if row["kind"] == "end-to-end" and row["status"] == "ok" else None
    if not stages:
        return [row]
    rows = [row]
    for name, stats in stages.items():
        stage = {**row, "kind": f"end-to-end:{name}", "frames": int(stats["count"])}
        stage.update(mean_ms=stats["mean_ms"], p50_ms=stats["p50_ms"], p95_ms=stats["p95_ms"])
        stage["fps"] = round(1000.0 / stats["mean_ms"], 3) if stats["mean_ms"] > 0 else None
        stage["extra"] = {"stage": name, "of": "end-to-end", "video": row["extra"].get("video")}
        rows.append(stage)
    return rows


def _model_rows(
    loaded: list[_Loaded], width: int, height: int, plan: BenchPlan, host: dict[str, Any]
) -> list[dict[str, Any]]:
    ready = [item for item in loaded if item.stylizer is not None]
    log.info("measuring model rows at %dx%d (%d model(s), in turn) ...", width, height, len(ready))
    outcomes = bench_models_side_by_side(
        [item.stylizer for item in ready if item.stylizer is not None],
        width,
        height,
        frames=plan.frames,
        warmup=plan.warmup,
        batch=plan.batch,
        max_seconds=plan.max_seconds,
    )
    by_item = {id(item): outcome for item, outcome in zip(ready, outcomes)}
    return [_row("model", item, width, height, by_item.get(id(item)), plan, host) for item in loaded]


def _stream_row(job: _Job, item: _Loaded, plan: BenchPlan, host: dict[str, Any]) -> dict[str, Any]:
    outcome: BenchResult | StylecamError | None = None
    if item.stylizer is not None:
        where = "" if job.kind == "end-to-end" else f" at {job.width}x{job.height}"
        log.info("measuring %s %s%s, smoothing %s ...", job.kind, item.variant.name, where, job.smoothing)
        try:
            outcome = _measure(job, item.stylizer, plan)
        except StylecamError as exc:
            outcome = exc
    return _row(job.kind, item, job.width, job.height, outcome, plan, host, smoothing=job.smoothing)


def _row(
    kind: str,
    item: _Loaded,
    width: int,
    height: int,
    outcome: BenchResult | StylecamError | None,
    plan: BenchPlan,
    host: dict[str, Any],
    *,
    smoothing: str = "none",
) -> dict[str, Any]:
    """The row for one variant: measured, failed while measuring, or failed to load (``outcome`` None)."""
    variant = item.variant
    if isinstance(outcome, BenchResult):
        extra = {**outcome.extra, "file": variant.path.name}
        result = replace(outcome, model=variant.name, reference=variant.reference, extra=extra)
        return result_row(result, device_name=device_name(result.device, host, plan.runtime.device_id))
    reason = item.error if outcome is None else str(outcome)
    log.warning("%s %s at %dx%d failed: %s", kind, variant.name, width, height, reason)
    stylizer = item.stylizer
    return failed_row(
        kind,
        variant.name,
        width,
        height,
        reason=reason,
        arch=stylizer.metadata.arch if stylizer is not None else "",
        precision=stylizer.precision if stylizer is not None else "",
        reference=variant.reference,
        smoothing=smoothing,
    )

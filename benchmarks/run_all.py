"""Re-take every committed benchmark: ``stylecam bench`` per model and ``stylecam eval`` per model and clip.

    python benchmarks/run_all.py                                  # bundled models, default clips
    python benchmarks/run_all.py --models a.onnx b.onnx --videos clip.mp4 --sizes 640x360
    python benchmarks/run_all.py --quiet-below 1.0                # wait for an idle machine first

Models default to ``stylecam/assets/models/*.onnx``; clips to the bundled demo clip plus
``/work/shared/data/video/*.mp4`` when that folder exists. Results land in ``benchmarks/results/``
as ``bench-<model>-<device>.json`` and ``eval-<model>-<clip>.json``; then run
``python benchmarks/make_table.py --write`` to refresh the README tables. Each command runs in
its own process (``python -m stylecam``), so one failure is reported and the rest still run.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
MODELS = ROOT / "stylecam" / "assets" / "models"
DEMO_CLIP = ROOT / "stylecam" / "assets" / "demo" / "demo_clip.mp4"
SHARED_VIDEOS = Path("/work/shared/data/video")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def device_tag(provider: str) -> str:
    """``cpu``, or the GPU's name (``nvidia-h100-80gb-hbm3``) when a GPU provider may be used."""
    from stylecam.runtime.bench.hostinfo import gpus

    found = gpus()
    return slug(found[0]["name"]) if found and provider != "cpu" else "cpu"


def wait_until_quiet(limit: float, max_wait: float) -> None:
    """Poll the 1-minute load average until it is below ``limit`` (or ``max_wait`` seconds pass)."""
    deadline = time.monotonic() + max_wait
    while os.getloadavg()[0] >= limit:
        if time.monotonic() > deadline:
            print(f"load average still {os.getloadavg()[0]:.2f} after {max_wait:.0f} s; measuring anyway (recorded)")
            return
        time.sleep(30)


def _run(command: list[str]) -> bool:
    print("$", " ".join(command), flush=True)
    done = subprocess.run(command, check=False)
    if done.returncode != 0:
        print(f"  -> failed with exit code {done.returncode}", flush=True)
    return done.returncode == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", type=Path, help="ONNX models (default: the bundled ones)")
    parser.add_argument("--videos", nargs="+", type=Path, help="clips for eval (default: demo + shared clips)")
    parser.add_argument("--sizes", nargs="+", default=["640x360", "1280x720", "1920x1080"], help="bench sizes")
    parser.add_argument("--provider", default="auto", help="bench/eval provider")
    parser.add_argument("--bench-args", default="", help="extra arguments for stylecam bench (one string)")
    parser.add_argument("--eval-args", default="", help="extra arguments for stylecam eval (one string)")
    parser.add_argument("--end-to-end", type=Path, default=DEMO_CLIP, help="clip for the end-to-end bench row")
    parser.add_argument("--no-reference", action="store_true", help="bench without --compare-reference")
    parser.add_argument("--skip-bench", action="store_true")
    parser.add_argument("--skip-eval", action="store_true")
    parser.add_argument("--quiet-below", type=float, help="wait until the 1-min load average is below this")
    parser.add_argument("--max-wait", type=float, default=3600.0, help="seconds to wait for a quiet machine")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    models = args.models or sorted(MODELS.glob("*.onnx"))
    if not models:
        parser.error(f"no models in {MODELS}; pass --models A.onnx [B.onnx ...]")
    videos = args.videos or [DEMO_CLIP, *sorted(SHARED_VIDEOS.glob("*.mp4"))]
    args.results.mkdir(parents=True, exist_ok=True)
    stylecam = [sys.executable, "-m", "stylecam"]
    tag = device_tag(args.provider)
    failures = 0
    for model in models:
        if not args.skip_bench:
            if args.quiet_below is not None:
                wait_until_quiet(args.quiet_below, args.max_wait)
            out = args.results / f"bench-{slug(model.stem)}-{tag}.json"
            sizes = [flag for size in args.sizes for flag in ("--size", size)]
            command = [*stylecam, "bench", "--model", str(model), *sizes]
            command += [] if args.no_reference else ["--compare-reference"]
            command += ["--provider", args.provider, "--end-to-end", str(args.end_to_end), "--json", str(out)]
            failures += not _run([*command, *args.bench_args.split()])
        if not args.skip_eval:
            for video in videos:
                out = args.results / f"eval-{slug(model.stem)}-{slug(video.stem)}.json"
                command = [*stylecam, "eval", "--model", str(model), "--video", str(video), "--json", str(out)]
                failures += not _run([*command, "--provider", args.provider, *args.eval_args.split()])
    print(f"done; {failures} command(s) failed. Next: python benchmarks/make_table.py --write")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())

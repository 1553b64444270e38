"""Measure temporal smoothing: flicker removed vs ghosting added, and its cost per frame.

This is how the SmoothingConfig defaults were chosen (numbers in the README). A synthetic clip
with exact optical flow (panned texture + a disc moving the other way + an exposure ramp) is
"stylized" by a per-pixel colour map, then made to flicker like a feed-forward network
(per-frame gain/offset jitter + fresh blotchy noise). For each smoothing setting we report:

* warp_err: mean |O_t - warp(O_{t-1})| over visible pixels with the TRUE flow (temporal flicker);
* dev_frame: mean |O_t - S_t|, how far the output strays from the per-frame stylization;
* dev_clean: mean |O_t - C_t| against the flicker-free stylization C (lower = closer to ideal;
  over-smoothing shows up here as lag behind the exposure ramp and ghosts of the moving disc);
* dev_moving: dev_clean inside the moving disc only (where ghosting appears);
* ms: median smoother time per frame after warm-up (shared 2-core machine: see the load).

    python tools/measure_smoothing.py [--videos /work/shared/data/video]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stylecam.runtime.config import SmoothingConfig
from stylecam.runtime.temporal.smoothing import TemporalSmoother
from tests.runtime.synthetic_clip import clean_style, flicker, make_clip, warping_error


def quality(clip: list, config: SmoothingConfig) -> dict[str, float]:
    smoother = TemporalSmoother(config)
    outputs, frame_dev, clean_dev, moving_dev = [], [], [], []
    for index, frame in enumerate(clip):
        clean = clean_style(frame.source).astype(np.float32)
        stylized = flicker(clean.astype(np.uint8), index)
        out = smoother(frame.source, stylized).astype(np.float32)
        outputs.append(out)
        if index:
            frame_dev.append(np.abs(out - stylized).mean())
            error = np.abs(out - clean).mean(axis=2)
            clean_dev.append(error.mean())
            moving = np.all(frame.flow_to_previous != frame.flow_to_previous[0, 0], axis=2)
            moving_dev.append(error[moving].mean())
    warp = [warping_error(outputs[i - 1], outputs[i], clip[i]) for i in range(1, len(clip))]
    return {
        "warp_err": float(np.mean(warp)),
        "dev_frame": float(np.mean(frame_dev)),
        "dev_clean": float(np.mean(clean_dev)),
        "dev_moving": float(np.mean(moving_dev)),
    }


def timing(config: SmoothingConfig, width: int, height: int, frames: int = 40, warmup: int = 5) -> tuple[float, float]:
    """Median wall-clock and CPU milliseconds per frame (CPU time, summed over OpenCV's threads,
    is the better estimate of the cost on an unloaded machine when the box is shared)."""
    clip = make_clip(height, width, frames + warmup, pan=(3.0, 1.0))
    stylized = [flicker(clean_style(frame.source), i) for i, frame in enumerate(clip)]
    smoother = TemporalSmoother(config)
    wall, cpu = [], []
    for index, frame in enumerate(clip):
        start, start_cpu = time.perf_counter(), time.process_time()
        smoother(frame.source, stylized[index])
        if index >= warmup:
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
    return 1000.0 * float(np.median(wall)), 1000.0 * float(np.median(cpu))


def scene_cut_statistics(folder: Path, limit: int = 150) -> None:
    """Thumbnail change between consecutive frames of real clips, and across clips (cuts)."""
    thumbs: dict[str, list[np.ndarray]] = {}
    for path in sorted(folder.glob("*.mp4")):
        capture = cv2.VideoCapture(str(path))
        frames = []
        while len(frames) < limit:
            ok, frame = capture.read()
            if not ok:
                break
            gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
            frames.append(cv2.resize(gray, (64, 36), interpolation=cv2.INTER_AREA).astype(np.float32))
        thumbs[path.stem] = frames
    within = np.concatenate([[np.abs(a - b).mean() for a, b in itertools.pairwise(f)] for f in thumbs.values()])
    across = [np.abs(a[-1] - b[0]).mean() for ka, a in thumbs.items() for kb, b in thumbs.items() if ka != kb]
    print(f"\nscene-cut statistic (mean |thumb_t - thumb_t-1|, 0-255) on {len(thumbs)} clips of {folder}:")
    print(
        f"  consecutive frames: p50 {np.percentile(within, 50):.1f}  p99 {np.percentile(within, 99):.1f}  "
        f"max {within.max():.1f}"
    )
    print(
        f"  cuts between clips: min {min(across):.1f}  p10 {np.percentile(across, 10):.1f}  "
        f"p50 {np.percentile(across, 50):.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--videos", type=Path, help="folder of .mp4 clips for the scene-cut statistic")
    parser.add_argument("--threads", type=int, default=1, help="OpenCV threads for the timing (0: OpenCV's default)")
    args = parser.parse_args()
    if args.threads:
        cv2.setNumThreads(args.threads)
    clip = make_clip(360, 640, args.frames, pan=(2.5, 1.0), disc_speed=(-4.0, 0.0), brightness_step=1.5)
    settings = [SmoothingConfig(mode="none")]
    settings += [SmoothingConfig(mode="ema", alpha=a) for a in (0.3, 0.5, 0.7)]
    alphas = (0.2, 0.3, 0.4, 0.5, 0.7)
    settings += [SmoothingConfig(mode="flow", alpha=a, flow_width=w) for w in (160, 320) for a in alphas]
    print(f"quality on a 640x360 synthetic clip, {args.frames} frames (lower is better; 0-255 units)")
    print(f"{'mode':5} {'alpha':>5} {'flow_w':>6} {'warp_err':>8} {'dev_frame':>9} {'dev_clean':>9} {'dev_moving':>10}")
    for config in settings:
        row = quality(clip, config)
        flow_width = config.flow_width if config.mode == "flow" else 0
        print(
            f"{config.mode:5} {config.alpha:5.2f} {flow_width:6d} {row['warp_err']:8.2f} "
            f"{row['dev_frame']:9.2f} {row['dev_clean']:9.2f} {row['dev_moving']:10.2f}"
        )
    print(f"\ncost per frame (median after warm-up), load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores:")
    print(f"  (OpenCV threads: {cv2.getNumThreads()})")
    for config in (SmoothingConfig(mode="ema"), SmoothingConfig(flow_width=160), SmoothingConfig()):
        cells = []
        for width, height in ((640, 360), (1280, 720)):
            wall, cpu = timing(config, width, height)
            cells.append(f"{width}x{height}: {wall:5.1f} ms wall, {cpu:5.1f} ms CPU")
        print(f"  {config.mode:5} flow_width {config.flow_width:4d}: " + ", ".join(cells))
    if args.videos:
        scene_cut_statistics(args.videos)


if __name__ == "__main__":
    main()

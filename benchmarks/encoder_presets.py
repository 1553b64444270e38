"""What each libx264 preset costs and saves on stylized video: encode fps, file size and PSNR.

Stylized frames are full of brush texture, which is the hardest thing for an encoder: the slower
presets earn their keep only if they pack that texture into clearly fewer bytes at the same
quality. This paints a clip once with a model (frames kept in memory), then encodes the same
frames with each preset through stylecam's own ``VideoFileSink`` (same crf, pixel format and
thread count as ``stylecam convert``), in interleaved rounds so a noisy machine hits every preset
alike, and decodes each file back to measure PSNR against the painted frames.

    python benchmarks/encoder_presets.py --model starry_night --video clip.mp4 \\
        --json benchmarks/results/encoder-presets-cpu.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

from stylecam.runtime.bench.hostinfo import host_info
from stylecam.runtime.config import RuntimeConfig
from stylecam.runtime.inference.stylizer import Stylizer
from stylecam.runtime.media.encoders import DEFAULT_CRF
from stylecam.runtime.media.sources import Frame
from stylecam.runtime.media.video_file import VideoFileSource
from stylecam.runtime.media.video_info import VideoInfo
from stylecam.runtime.media.video_sink import VideoFileSink

PRESETS = ("veryfast", "faster", "fast", "medium")


def paint(model: str, video: Path, frames: int, width: int, height: int) -> list[np.ndarray]:
    """The first ``frames`` frames of ``video``, scaled to width x height and painted."""
    import cv2

    stylizer = Stylizer(model, RuntimeConfig(provider="cpu"))
    painted: list[np.ndarray] = []
    source = VideoFileSource(video)
    try:
        for frame in source:
            image = cv2.resize(frame.image, (width, height), interpolation=cv2.INTER_AREA)
            painted.append(stylizer(image))
            if len(painted) >= frames:
                break
    finally:
        source.close()
    return painted


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2))
    return 99.0 if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


def encode(painted: list[np.ndarray], info: VideoInfo, preset: str, crf: int, threads: int, target: Path) -> float:
    """Seconds to encode every frame (and finish the file)."""
    fps = 30.0
    started = time.perf_counter()
    with VideoFileSink(target, info, crf=crf, preset=preset, encode_threads=threads) as sink:
        for index, image in enumerate(painted):
            sink.write(Frame(image=image, time=index / fps, index=index))
    return time.perf_counter() - started


def decoded_psnr(target: Path, painted: list[np.ndarray]) -> float:
    values = []
    with av.open(str(target)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index >= len(painted):
                break
            values.append(psnr(frame.to_ndarray(format="bgr24"), painted[index]))
    return statistics.fmean(values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--video", type=Path, required=True)
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--crf", type=int, default=DEFAULT_CRF)
    parser.add_argument("--threads", type=int, default=1, help="encoder threads (the 2-core budget gives 1)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    width, height = (int(part) for part in args.size.split("x"))
    painted = paint(args.model, args.video, args.frames, width, height)
    info = VideoInfo(width=width, height=height, fps=30.0)
    seconds: dict[str, list[float]] = {preset: [] for preset in PRESETS}
    sizes: dict[str, int] = {}
    quality: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.rounds):
            for preset in PRESETS:
                target = Path(folder) / f"{preset}.mp4"
                target.unlink(missing_ok=True)
                seconds[preset].append(encode(painted, info, preset, args.crf, args.threads, target))
                sizes[preset] = target.stat().st_size
        for preset in PRESETS:
            quality[preset] = decoded_psnr(Path(folder) / f"{preset}.mp4", painted)
    rows = []
    medium_fps = len(painted) / statistics.median(seconds["medium"])
    for preset in PRESETS:
        fps = len(painted) / statistics.median(seconds[preset])
        rows.append(
            {
                "preset": preset,
                "encode_fps_p50": round(fps, 1),
                "encode_fps_rounds": [round(len(painted) / s, 1) for s in seconds[preset]],
                "speed_vs_medium": round(fps / medium_fps, 2),
                "bytes": sizes[preset],
                "size_vs_medium": round(sizes[preset] / sizes["medium"], 3),
                "psnr_db": round(quality[preset], 2),
            }
        )
        print(
            f"{preset:>9}: {fps:6.1f} fps ({fps / medium_fps:.2f}x medium), "
            f"{sizes[preset] / 1e6:.2f} MB ({sizes[preset] / sizes['medium']:.2f}x), PSNR {quality[preset]:.2f} dB"
        )
    if args.json:
        result = {
            "schema": "stylecam-encoder-presets",
            "version": 1,
            "command": "python " + " ".join([sys.argv[0], *(argv if argv is not None else sys.argv[1:])]),
            "host": host_info(),
            "model": args.model,
            "video": args.video.name,
            "frames": len(painted),
            "size": args.size,
            "crf": args.crf,
            "encode_threads": args.threads,
            "rounds": args.rounds,
            "rows": rows,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

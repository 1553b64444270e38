"""Which thread settings give the most frames per second end to end (decode -> stylize -> smooth -> encode).

This is how ``stylecam.runtime.config.plan_threads`` was chosen (docs/benchmarks.md, "End to end on a
small CPU"). Every setting converts the same clip into a scratch file through the real pipeline,
audio kept, one setting after the other, round after round, so each round compares the settings
under about the same load; read the spread across rounds, not one number.

    python tools/measure_threads.py MODEL CLIP --rounds 4 --frames 240 --preset veryfast \\
        '{"label": "budget", "ort": 2, "cv": 1, "dec": 0, "enc": 2}' \\
        '{"label": "ORT default (spinning)", "ort": 0, "cv": 1, "dec": 0, "enc": 2}'

A setting: ``ort`` ONNX Runtime intra-op threads (0: its default, one spinning thread per core;
otherwise never spinning), ``cv`` OpenCV threads (0: its default), ``dec`` / ``enc`` decoder and
encoder threads (0: FFmpeg's choice), ``smooth`` a smoothing spec (default ``flow``), ``overlap``
the flow thread (default true).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stylecam.runtime.bench.pipeline import make_smoother
from stylecam.runtime.config import RuntimeConfig
from stylecam.runtime.inference.stylizer import Stylizer
from stylecam.runtime.media.video_file import VideoFileSource
from stylecam.runtime.media.video_sink import VideoFileSink
from stylecam.runtime.pipeline.stages import StageTimes
from stylecam.runtime.pipeline.threaded import run


def convert(stylizer: Stylizer, clip: str, setting: dict, frames: int, preset: str, scratch: Path) -> tuple[float, str]:
    """Frames per second of one conversion with ``setting``, and the stages' p50 ms."""
    source = VideoFileSource(clip, decode_threads=setting.get("dec", 0))
    stages = StageTimes()
    started = time.perf_counter()
    sink = VideoFileSink(
        scratch / "out.mp4",
        source.info,
        audio_from=source.audio_source,
        encode_threads=setting.get("enc", 0),
        preset=preset,
    )
    with sink:
        summary = run(
            source,
            stylizer,
            sink,
            smooth=make_smoother(setting.get("smooth", "flow")),
            progress=False,
            max_frames=frames,
            overlap=setting.get("overlap", True),
            stages=stages,
        )
        sink.source_complete = summary.stopped_by == "end"
    fps = summary.frames_out / (time.perf_counter() - started)
    return fps, " ".join(f"{name}:{row['p50_ms']:.1f}" for name, row in stages.summary().items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("clip")
    parser.add_argument("settings", nargs="+", type=json.loads, help="JSON objects (see the module doc)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--frames", type=int, default=240)
    parser.add_argument("--preset", default="veryfast", help="libx264 preset")
    parser.add_argument("--json", type=Path, help="write the fps of every round here")
    args = parser.parse_args()
    default_cv = cv2.getNumThreads()
    stylizers: dict[int, Stylizer] = {}
    results: dict[str, list[float]] = {setting["label"]: [] for setting in args.settings}
    with tempfile.TemporaryDirectory(prefix="stylecam-threads-") as scratch:
        for round_ in range(args.rounds):
            for setting in args.settings:
                ort = setting.get("ort", 0)
                if ort not in stylizers:
                    config = RuntimeConfig(provider="cpu", **({"threads": 2, "intra_op_threads": ort} if ort else {}))
                    stylizers[ort] = Stylizer(args.model, config)
                cv2.setNumThreads(setting.get("cv") or default_cv)
                fps, stages = convert(stylizers[ort], args.clip, setting, args.frames, args.preset, Path(scratch))
                results[setting["label"]].append(round(fps, 1))
                print(f"round {round_} {setting['label']:28s} {fps:5.1f} fps  load {os.getloadavg()[0]:4.1f}  {stages}")
    for label, values in results.items():
        print(f"{label:28s} {values}  median {statistics.median(values):.1f}")
    if args.json:
        args.json.write_text(json.dumps({"settings": args.settings, "fps": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Soak test: the live pipeline on a simulated camera for N minutes, watching memory and queues.

    python benchmarks/soak.py --minutes 10 [--model starry.onnx] [--width 640 --height 480 --fps 30]

No window and no output file: a paced synthetic camera (:mod:`stylecam.runtime.media.synthetic`) feeds
the real WebcamSource -> pipeline -> NullSink path. Without ``--model`` the stylizer is a cheap
stand-in (a blur), so the run measures the plumbing, not the network. Every ``--every`` seconds
it prints resident memory (RSS) and frame counts; at the end it reports RSS growth after
warm-up (goal: < 5 % over 10 minutes) and the largest queue depths (must stay within bounds).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np

from stylecam.runtime.media.synthetic import SyntheticCamera, SyntheticCameraBus
from stylecam.runtime.media.webcam import WebcamSource
from stylecam.runtime.pipeline.sinks import NullSink
from stylecam.runtime.pipeline.threaded import PipelineState, run


def rss_bytes() -> int:
    """Current resident set size (Linux /proc; elsewhere the peak from getrusage)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


@dataclass
class Sample:
    seconds: float
    rss_mb: float
    frames_in: int
    frames_out: int
    dropped: int
    reader_queue: int
    writer_queue: int


@dataclass
class SoakReport:
    seconds: float
    frames: int
    dropped: int
    fps: float
    rss_start_mb: float  # after warm-up
    rss_end_mb: float
    rss_growth_pct: float
    max_reader_queue: int
    max_writer_queue: int
    samples: list[Sample] = field(default_factory=list)


class _Recorder:
    """Pipeline monitor: samples RSS and queue depths every ``every`` seconds."""

    def __init__(self, every: float, printer: Callable[[Sample], None] | None) -> None:
        self.every, self.printer = every, printer
        self.samples: list[Sample] = []
        self.max_reader = self.max_writer = 0
        self._next = 0.0

    def __call__(self, state: PipelineState) -> None:
        self.max_reader = max(self.max_reader, state.reader_queue)
        self.max_writer = max(self.max_writer, state.writer_queue)
        if state.seconds >= self._next:
            self._next = state.seconds + self.every
            sample = Sample(
                seconds=round(state.seconds, 2),
                rss_mb=round(rss_bytes() / 2**20, 2),
                frames_in=state.frames_in,
                frames_out=state.frames_out,
                dropped=state.dropped,
                reader_queue=state.reader_queue,
                writer_queue=state.writer_queue,
            )
            self.samples.append(sample)
            if self.printer is not None:
                self.printer(sample)


def _blur(image: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(image, (9, 9), 0)


def soak(
    seconds: float,
    *,
    width: int = 640,
    height: int = 480,
    fps: float = 30.0,
    every: float = 10.0,
    warmup: float | None = None,
    stylize: Callable[[np.ndarray], np.ndarray] = _blur,
    smooth: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    printer: Callable[[Sample], None] | None = None,
) -> SoakReport:
    """Run the live pipeline for ``seconds`` and report memory and queue behaviour."""
    camera = SyntheticCamera(width=width, height=height, fps=fps)
    source = WebcamSource(0, capture_factory=SyntheticCameraBus({0: camera}).open)
    recorder = _Recorder(every, printer)
    deadline = time.monotonic() + seconds

    class _TimedSink(NullSink):
        def write(self, frame: Any) -> None:
            super().write(frame)
            self.stop_requested = time.monotonic() >= deadline

    summary = run(source, stylize, _TimedSink(), smooth=smooth, progress=False, monitor=recorder)
    samples = recorder.samples
    settle = warmup if warmup is not None else min(30.0, seconds * 0.1)
    after = [s for s in samples if s.seconds >= settle] or samples
    start, end = after[0].rss_mb, samples[-1].rss_mb
    return SoakReport(
        seconds=round(summary.seconds, 2),
        frames=summary.frames_out,
        dropped=summary.dropped,
        fps=round(summary.fps, 2),
        rss_start_mb=start,
        rss_end_mb=end,
        rss_growth_pct=round(100.0 * (end - start) / start, 2),
        max_reader_queue=recorder.max_reader,
        max_writer_queue=recorder.max_writer,
        samples=samples,
    )


def _model_stylizer(path: str) -> Any:
    from stylecam.runtime.config import RuntimeConfig
    from stylecam.runtime.inference.stylizer import Stylizer

    return Stylizer(path, RuntimeConfig())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--model", help="an exported .onnx style (default: a blur stand-in)")
    parser.add_argument("--smooth", choices=("none", "ema", "flow"), default="flow", help="temporal smoothing")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    stylize = _model_stylizer(args.model) if args.model else _blur
    smooth = None
    if args.smooth != "none":
        from stylecam.runtime.config import SmoothingConfig
        from stylecam.runtime.temporal.smoothing import TemporalSmoother

        smooth = TemporalSmoother(SmoothingConfig(mode=args.smooth))

    def show(sample: Sample) -> None:
        print(
            f"{sample.seconds:8.1f} s  rss {sample.rss_mb:8.1f} MB  in {sample.frames_in:7d}  "
            f"out {sample.frames_out:7d}  dropped {sample.dropped:6d}  "
            f"queues {sample.reader_queue}/{sample.writer_queue}",
            flush=True,
        )

    report = soak(
        args.minutes * 60,
        width=args.width,
        height=args.height,
        fps=args.fps,
        every=args.every,
        stylize=stylize,
        smooth=smooth,
        printer=None if args.json else show,
    )
    if args.json:
        settings = {k: getattr(args, k) for k in ("minutes", "width", "height", "fps", "every", "model", "smooth")}
        header = {"schema": "stylecam-soak", "date": time.strftime("%Y-%m-%d %H:%M"), "settings": settings}
        print(json.dumps({**header, **asdict(report)}, indent=2))
    else:
        print(
            f"{report.frames} frames in {report.seconds:.0f} s ({report.fps:.1f} fps), {report.dropped} dropped; "
            f"RSS {report.rss_start_mb:.1f} -> {report.rss_end_mb:.1f} MB after warm-up "
            f"({report.rss_growth_pct:+.2f} %); "
            f"max queue depth reader {report.max_reader_queue}, writer {report.max_writer_queue}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

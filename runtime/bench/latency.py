"""Live glass-to-glass latency: a simulated camera whose frames carry their capture time.

The camera (:class:`TimestampedCamera`, a :class:`~stylecam.runtime.media.synthetic.SyntheticCamera`)
delivers frames paced in real time and records the moment each one is "exposed". The frames go
through exactly what ``stylecam run --source 0`` uses: the WebcamSource capture thread (newest
frame only), the pipeline's reader queue (stale frames dropped), stylize and smooth on the main
thread, and a sink where the frame would be shown. Latency is the time from exposure to that
sink, so it includes waiting for the model to be free, which a model-only number hides.

A real camera adds its own sensor readout and USB transfer, and a display its refresh; neither is
in this number (they are the same for every model).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from stylecam.errors import UsageError
from stylecam.runtime.bench.model import MIN_TIMED, BenchResult, PanningScene, check_counts, make_result, warmup_over
from stylecam.runtime.bench.pipeline import make_smoother
from stylecam.runtime.inference.stylizer import Stylizer
from stylecam.runtime.media.sources import Frame
from stylecam.runtime.media.synthetic import SyntheticCamera, SyntheticCameraBus
from stylecam.runtime.media.webcam import WebcamSource
from stylecam.runtime.metrics import LatencyStats
from stylecam.runtime.pipeline.sinks import NullSink
from stylecam.runtime.pipeline.threaded import run


@dataclass
class TimestampedCamera(SyntheticCamera):
    """A simulated camera that remembers when each frame index was captured (``time.monotonic``)."""

    captured: dict[int, float] = field(default_factory=dict, repr=False)
    _scene: PanningScene | None = field(default=None, repr=False)
    _scene_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def pattern(self, index: int) -> npt.NDArray[np.uint8]:
        # The capture moment is taken before the pixels are made: building them is the "driver".
        self.captured[index] = time.monotonic()
        with self._scene_lock:
            if self._scene is None or (self._scene.width, self._scene.height) != (self.width, self.height):
                self._scene = PanningScene(self.width, self.height)
            scene = self._scene
        return scene.frame(index)


class LatencySink(NullSink):
    """Records capture-to-sink latency (ms) of each frame after ``warmup``; stops when enough are in."""

    def __init__(self, camera: TimestampedCamera, *, frames: int, warmup: int, max_seconds: float | None) -> None:
        super().__init__()
        self.camera, self.target, self.warmup, self.max_seconds = camera, frames, warmup, max_seconds
        self.stats = LatencyStats()
        self.timing_since: float | None = None
        self.timing_until: float | None = None
        self.warming, self.warmed = True, 0
        self._started: float | None = None

    def write(self, frame: Frame) -> None:
        super().write(frame)
        now = time.monotonic()
        if self.warming:
            self._started = self._started if self._started is not None else now
            if warmup_over(self.frames, self.warmup, now - self._started, self.max_seconds):
                self.warming, self.warmed = False, self.frames
            return
        captured = self.camera.captured.pop(frame.index, None)
        if captured is None:  # only if the source's numbering ever differs from the camera's
            raise UsageError(f"frame {frame.index} carries no capture time; the latency benchmark cannot time it")
        if self.timing_since is None:
            self.timing_since = now
        self.stats.add((now - captured) * 1000.0)
        self.timing_until = now
        over_budget = self.max_seconds is not None and now - self.timing_since > self.max_seconds
        if self.stats.count >= self.target or (over_budget and self.stats.count >= MIN_TIMED):
            self.stop_requested = True


def bench_latency(
    stylizer: Stylizer,
    width: int,
    height: int,
    *,
    camera_fps: float = 30.0,
    smoothing: str = "flow",
    frames: int = 50,
    warmup: int = 5,
    max_seconds: float | None = None,
    overlap: bool = True,
) -> BenchResult:
    """Capture-to-output latency of the live pipeline with a ``camera_fps`` camera at ``width`` x ``height``.

    ``fps`` of the row is the rate frames reach the sink (the camera's rate if the model keeps up);
    ``extra`` holds the camera rate, the frames dropped because the model was busy, and the p50
    latency in frame intervals at the delivered rate (``frame_intervals``).
    """

    check_counts(width, height, frames, warmup)
    if not 1.0 <= camera_fps <= 1000.0:
        raise UsageError(f"camera fps must be between 1 and 1000, got {camera_fps:g}")
    camera = TimestampedCamera(width=width, height=height, fps=camera_fps)
    source = WebcamSource(0, capture_factory=SyntheticCameraBus({0: camera}).open)
    sink = LatencySink(camera, frames=frames, warmup=warmup, max_seconds=max_seconds)
    summary = run(source, stylizer, sink, smooth=make_smoother(smoothing), progress=False, overlap=overlap)
    span = (sink.timing_until or 0.0) - (sink.timing_since or 0.0)
    delivered = (sink.stats.count - 1) / span if span > 0 else 0.0
    extra = {
        "camera_fps": camera_fps,
        "dropped": summary.dropped,
        "frames_out": summary.frames_out,
        "flow_thread": overlap,
        "frame_intervals": round(sink.stats.p50 * delivered / 1000.0, 3),
    }
    return make_result(
        stylizer,
        "latency",
        width,
        height,
        sink.stats,
        warmup=sink.warmed,
        fps=delivered,
        smoothing=smoothing,
        extra=extra,
    )

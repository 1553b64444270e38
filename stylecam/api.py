"""The small, stable Python API for embedding stylecam (torch-free; see docs/api.md).

Everything here is re-exported lazily by :mod:`stylecam`, so ``from stylecam import Stylizer``
costs one ONNX Runtime import and never loads torch. Anything not listed in ``__all__`` (here or
in ``stylecam``) is internal and may move between releases.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt

from stylecam.runtime.config import LookConfig, RuntimeConfig, SmoothingConfig
from stylecam.runtime.inference.models import bundled_models, resolve_model
from stylecam.runtime.inference.stylizer import Stylizer
from stylecam.runtime.pipeline.threaded import RunSummary
from stylecam.runtime.temporal.smoothing import TemporalSmoother

__all__ = [
    "LookConfig",
    "RunSummary",
    "RuntimeConfig",
    "SmoothingConfig",
    "Stylizer",
    "TemporalSmoother",
    "camera_frames",
    "load_model",
    "style_names",
    "stylize_video",
]

Image = npt.NDArray[np.uint8]


def style_names() -> list[str]:
    """Names of the bundled styles (each works wherever a model is asked for)."""
    return [model.name for model in bundled_models()]


def load_model(
    model: str | os.PathLike[str], config: RuntimeConfig | None = None, *, arch: str | None = None
) -> Stylizer:
    """A :class:`Stylizer` for a bundled style name (``"starry"``) or an ``.onnx`` path.

    Args:
        model: a bundled style's name or alias, or a model file made by ``stylecam export``.
        config: ONNX Runtime settings (default: the best provider this machine has).
        arch: a bundled style's variant (``reference``, ``lite``, ``fast``); None: the best here.
    """
    return Stylizer(resolve_model(model, arch=arch), config)


def stylize_video(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    model: str | os.PathLike[str] | Stylizer,
    smoothing: str = "flow",
    max_frames: int | None = None,
    config: RuntimeConfig | None = None,
    progress: bool = False,
) -> RunSummary:
    """Stylize a video file into ``output`` (audio kept), as ``stylecam convert`` does.

    Args:
        source: the video to read.
        output: the video to write (its suffix picks the container; written atomically).
        model: a bundled name, an ``.onnx`` path, or an open :class:`Stylizer` (left open).
        smoothing: ``none``, ``ema`` or ``flow``.
        max_frames: stop after this many frames (None: the whole file).
        config: ONNX Runtime settings when ``model`` is not already a Stylizer.
        progress: show a progress bar.
    """
    from stylecam.runtime.media.video_file import VideoFileSource
    from stylecam.runtime.media.video_sink import VideoFileSink
    from stylecam.runtime.pipeline.threaded import run

    stylizer = model if isinstance(model, Stylizer) else load_model(model, config)
    smoother = TemporalSmoother(SmoothingConfig(mode=smoothing)) if smoothing != "none" else None
    video = VideoFileSource(source)
    inputs = [Path(source)] + ([] if isinstance(model, Stylizer) else [stylizer.model.path])
    try:
        with VideoFileSink(output, video.info, audio_from=video.audio_source, inputs=inputs) as sink:
            summary = run(video, stylizer, sink, smooth=smoother, max_frames=max_frames, progress=progress)
            sink.source_complete = summary.stopped_by == "end"
    finally:
        video.close()
        if stylizer is not model:
            stylizer.close()
    return summary


def camera_frames(device: int | str = 0, *, max_size: int | None = None) -> Iterator[Image]:
    """The newest frame of a camera each time you ask (BGR uint8); stale frames are dropped.

    The camera closes when the loop ends (``break``) or the generator is closed.
    """
    from stylecam.runtime.media.webcam import WebcamSource

    camera = WebcamSource(device, max_size=max_size)
    try:
        for frame in camera:
            yield frame.image
    finally:
        camera.close()

"""The embedded demo: the bundled clip stylized by a bundled model, with flow smoothing and its audio.

Everything it needs ships in the wheel (``stylecam/assets/demo/demo_clip.mp4``, made from CC0
photos by ``tools/make_demo_clip.py``, and the models in ``stylecam/assets/models/``), so a fresh
install shows a painted video with no training and no downloads. It is the ordinary runtime
pipeline (:func:`stylecam.runtime.pipeline.threaded.run`); the only addition is a tap on the smoother that
keeps a few (source, stylized) pairs for a side-by-side image.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt

from stylecam.errors import UsageError
from stylecam.runtime.config import RuntimeConfig, SmoothingConfig
from stylecam.runtime.inference.models import BundledModel, ModelVariant, bundled_models, find_bundled
from stylecam.runtime.pipeline.threaded import RunSummary, Smooth
from stylecam.runtime.pipeline.threaded import run as run_pipeline

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
DEFAULT_STYLE = "starry_night"
DEFAULT_FOLDER = Path("stylecam-demo")
SHEET_FRAMES = 3  # rows of source | stylized in the side-by-side image
SHEET_HEIGHT = 192  # px per tile in the side-by-side image


def demo_clip() -> Path:
    """The clip bundled for the demo (384x256, 20 fps, 5.9 s, with audio)."""
    return Path(str(resources.files("stylecam") / "assets" / "demo" / "demo_clip.mp4"))


def pick_style(style: str | None = None, *, folder: Path | None = None) -> BundledModel:
    """The bundled model named ``style`` (or an alias), default starry_night, else the first bundled one.

    Raises:
        UsageError: no model is bundled, or ``style`` names none of them (the message lists them).
    """
    models = bundled_models(folder)
    if not models:
        raise UsageError(
            "no style models are bundled with this installation, so there is nothing to demo; "
            "train one (stylecam train) and run it with stylecam --model MODEL.onnx --source VIDEO"
        )
    found = find_bundled(style or DEFAULT_STYLE, models)
    if found is not None:
        return found
    if style is None:
        return models[0]
    names = ", ".join(f"{m.name} ({', '.join(m.aliases)})" if m.aliases else m.name for m in models)
    raise UsageError(f"no bundled style {style!r}; choose one of: {names} (stylecam styles lists them)")


def sheet_path(video: Path) -> Path:
    """``demo_starry_night.mp4`` -> ``demo_starry_night_side_by_side.jpg`` beside it."""
    return video.with_name(f"{video.stem}_side_by_side.jpg")


class FrameTap:
    """Wraps a smoother (or none) and keeps copies of the (source, result) pairs at chosen frame indices."""

    def __init__(self, smooth: Smooth | None, keep: set[int]) -> None:
        self.smooth, self.keep = smooth, keep
        self.index = 0
        self.pairs: list[tuple[Image, Image]] = []

    def __call__(self, source: Image, stylized: Image) -> Image:
        result = self.smooth(source, stylized) if self.smooth is not None else stylized
        if self.index in self.keep:
            self.pairs.append((source.copy(), result.copy()))
        self.index += 1
        return result

    def reset(self) -> None:  # the pipeline resets the smoother when the frame size changes
        reset = getattr(self.smooth, "reset", None)
        if reset is not None:
            reset()


def sheet_indices(frame_count: int | None, count: int = SHEET_FRAMES) -> set[int]:
    """``count`` frame indices spread over the clip, away from its first and last frames."""
    total = frame_count or 60
    return {round(total * (i + 1) / (count + 1)) for i in range(count)}


@dataclass(frozen=True)
class DemoResult:
    """What one demo run wrote."""

    style: str
    arch: str
    video: Path
    sheet: Path | None
    summary: RunSummary
    audio: str | None  # how the clip's audio was carried over (None: no audio)


def render_demo(
    model: BundledModel,
    output: Path,
    *,
    variant: ModelVariant | None = None,
    clip: Path | None = None,
    smoothing: str = "flow",
    runtime: RuntimeConfig | None = None,
    progress: bool = True,
) -> DemoResult:
    """Stylize the demo clip with ``model`` into ``output`` (audio kept) and write the side-by-side sheet.

    Args:
        model: the bundled style.
        output: the video to write (checked and written atomically).
        variant: which of the style's networks runs (default: its reference variant).
        clip: the clip to stylize (default: :func:`demo_clip`).
        smoothing: ``none``, ``ema`` or ``flow``.
        runtime: ONNX Runtime settings (default: the best available provider).
        progress: show a progress bar.
    """
    from stylecam.runtime.inference.stylizer import Stylizer
    from stylecam.runtime.media.video_file import VideoFileSource
    from stylecam.runtime.media.video_sink import VideoFileSink
    from stylecam.runtime.temporal.smoothing import TemporalSmoother
    from stylecam.sheets import grid, write_jpeg

    clip = clip or demo_clip()
    variant = variant or model.default
    source = VideoFileSource(clip)
    smoother = TemporalSmoother(SmoothingConfig(mode=smoothing)) if smoothing != "none" else None
    tap = FrameTap(smoother, sheet_indices(source.info.frame_count))
    sink = VideoFileSink(output, source.info, audio_from=source.audio_source, inputs=[clip, variant.path])
    try:
        with Stylizer(variant.path, runtime or RuntimeConfig(provider="auto")) as stylizer, sink:
            summary = run_pipeline(source, stylizer, sink, smooth=tap, progress=progress)
            sink.source_complete = summary.stopped_by == "end"
    finally:
        source.close()
    sheet = None
    if tap.pairs:
        sheet = sheet_path(output)
        captions = [("demo clip", f"{model.name}, {smoothing} smoothing")] * len(tap.pairs)
        write_jpeg(sheet, grid([list(pair) for pair in tap.pairs], height=SHEET_HEIGHT, captions=captions))
    audio = sink.audio.description if sink.audio is not None else None
    return DemoResult(model.name, variant.arch, output, sheet, summary, audio)

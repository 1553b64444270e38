"""Evaluate a style model on a video: temporal stability per smoothing mode, and the perceptual losses.

Each source frame is stylized once; every smoothing mode under test then smooths that same
sequence with its own :class:`~stylecam.runtime.temporal.smoothing.TemporalSmoother`, so the modes differ
only in smoothing. Per mode we measure the warping error (:mod:`stylecam.runtime.temporal.stability`; the
flow is estimated once per frame pair on the source) and, with a scorer, the style loss (Gram
distance to the painting) and content loss (VGG feature distance to the source) averaged over frames.

Torch is imported only when losses are requested (:mod:`stylecam.train.losses.perceptual`).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from stylecam.errors import UsageError
from stylecam.runtime.config import RuntimeConfig, SmoothingConfig, parse_smoothing
from stylecam.runtime.temporal.smoothing import TemporalSmoother
from stylecam.runtime.temporal.stability import SOURCE, StabilityMeter

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
DEFAULT_MODES = ("none", "ema", "flow")


class Scorer(Protocol):
    """What :func:`evaluate_frames` needs to score frames.

    In practice a :class:`~stylecam.train.losses.perceptual.PerceptualScorer`.
    """

    def score(self, source: Image, stylized: Sequence[Image]) -> Sequence[Any]: ...


def parse_mode(text: str) -> tuple[str, SmoothingConfig]:
    """``"flow"``, ``"flow:0.3"`` or ``"flow,preset=ultrafast,width=256"`` -> (label, SmoothingConfig).

    UsageError names the valid form (:func:`stylecam.runtime.config.parse_smoothing`).
    """
    return text, parse_smoothing(text)


@dataclass(frozen=True)
class EvalConfig:
    """What ``stylecam eval`` measures (the CLI builds it; validated on construction)."""

    model: Path
    video: Path
    modes: tuple[str, ...] = DEFAULT_MODES
    max_size: int | None = 640
    frames: int | None = 60
    style: Path | None = None
    style_size: int = 512  # long side of the painting for the Gram targets (the training default)
    losses: bool = True
    loss_every: int = 4  # VGG on every frame costs seconds per frame on a CPU; every 4th keeps the mean fair
    device: str = "auto"
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)

    def __post_init__(self) -> None:
        if not self.modes:
            raise UsageError("no smoothing mode to evaluate; e.g. --smooth none flow")
        if len(set(self.modes)) != len(self.modes):
            raise UsageError(f"--smooth lists a mode twice: {' '.join(self.modes)}")
        for text in self.modes:
            parse_mode(text)
        if self.max_size is not None and self.max_size < 32:
            raise UsageError(f"--max-size must be at least 32 pixels, got {self.max_size}")
        if self.frames is not None and self.frames < 2:
            raise UsageError(f"--frames must be at least 2 (the metric compares consecutive frames), got {self.frames}")
        if not 16 <= self.style_size <= 4096:
            raise UsageError(f"--style-size must be between 16 and 4096 pixels, got {self.style_size}")
        if self.loss_every < 1:
            raise UsageError(f"--loss-every must be >= 1, got {self.loss_every}")

    def smoothing(self) -> dict[str, SmoothingConfig]:
        return dict(parse_mode(text) for text in self.modes)


@dataclass(frozen=True)
class ModeResult:
    """One smoothing mode's numbers (losses are None when not measured)."""

    label: str
    mode: str
    alpha: float
    warp_error: float
    ratio: float
    style_loss: float | None = None
    content_loss: float | None = None


@dataclass(frozen=True)
class EvalResult:
    """Everything measured on one clip."""

    frames: int
    width: int
    height: int
    source_warp_error: float
    coverage: float  # mean fraction of pixels the flow explains (the metric's support)
    loss_frames: int
    pairs: int = 0  # frame pairs measured
    cuts: int = 0  # pairs skipped: scene cuts
    unexplained: int = 0  # pairs skipped: the flow explained too little of the frame
    modes: tuple[ModeResult, ...] = field(default_factory=tuple)


def evaluate_frames(
    frames: Iterable[Image],
    stylize: Callable[[Image], Image],
    modes: dict[str, SmoothingConfig],
    *,
    scorer: Scorer | None = None,
    loss_every: int = 1,
    progress: Callable[[], None] | None = None,
) -> EvalResult:
    """Stylize ``frames`` once, smooth with each mode, and measure (see the module doc)."""
    smoothers = {label: TemporalSmoother(config) for label, config in modes.items()}
    meter = StabilityMeter()
    losses: dict[str, list[Any]] = {label: [] for label in modes}
    count, shape = 0, (0, 0)
    for index, frame in enumerate(frames):
        stylized = stylize(frame)
        outputs = {label: smoother(frame, stylized) for label, smoother in smoothers.items()}
        meter.update(frame, outputs)
        if scorer is not None and index % loss_every == 0:
            for label, value in zip(outputs, scorer.score(frame, list(outputs.values()))):
                losses[label].append(value)
        count, shape = count + 1, frame.shape[:2]
        if progress is not None:
            progress()
    if count < 2:
        raise UsageError(f"the video gave {count} frame(s); the warping error needs at least 2")
    rows = tuple(_mode_result(label, modes[label], meter, losses[label]) for label in modes)
    return EvalResult(
        frames=count,
        width=int(shape[1]),
        height=int(shape[0]),
        source_warp_error=meter.mean(SOURCE),
        coverage=float(np.mean(meter.coverage)),
        loss_frames=len(next(iter(losses.values()), [])),
        pairs=len(meter.coverage),
        cuts=meter.cuts,
        unexplained=meter.unexplained,
        modes=rows,
    )


def _mode_result(label: str, config: SmoothingConfig, meter: StabilityMeter, losses: list[Any]) -> ModeResult:
    assert config.alpha is not None
    return ModeResult(
        label=label,
        mode=config.mode,
        alpha=float(config.alpha),
        warp_error=meter.mean(label),
        ratio=meter.ratio(label),
        style_loss=float(np.mean([item.style for item in losses])) if losses else None,
        content_loss=float(np.mean([item.content for item in losses])) if losses else None,
    )


def bundled_style(name: str) -> Path | None:
    """The bundled painting ``stylecam/assets/styles/<name>.jpg``, if there is one."""
    if not name:
        return None
    import stylecam

    path = Path(stylecam.__file__).resolve().parent / "assets" / "styles" / f"{name}.jpg"
    return path if path.is_file() else None


def resolve_style(style: Path | None, style_name: str, model_name: str) -> Path:
    """The style image for the style loss: ``style`` if given, else the painting the model names."""
    if style is not None:
        return style
    found = bundled_style(style_name)
    if found is None:
        named = f"names style {style_name!r}, which is not bundled" if style_name else "names no style"
        raise UsageError(f"{model_name} {named}; pass the painting it was trained on with --style PATH")
    return found


def evaluate_video(config: EvalConfig, *, progress: bool = True) -> tuple[EvalResult, dict[str, str]]:
    """Evaluate ``config.model`` on ``config.video``; returns the result and what was used (names, style)."""
    from stylecam.images import read_image
    from stylecam.runtime.inference.stylizer import Stylizer
    from stylecam.runtime.media.video_file import VideoFileSource

    source = VideoFileSource(config.video, max_size=config.max_size)
    with Stylizer(config.model, config.runtime) as stylizer:
        used = {"model": config.model.name, "arch": stylizer.metadata.arch, "video": config.video.name, "style": ""}
        used["providers"] = ", ".join(stylizer.providers)
        scorer = None
        if config.losses:
            style = resolve_style(config.style, stylizer.metadata.style_name, config.model.name)
            scorer = _make_scorer(read_image(style).bgr, config.device, config.style_size)
            used["style"] = style.name
        total = source.info.frame_count
        if config.frames is not None:
            total = config.frames if total is None else min(total, config.frames)
        decoded = iter(source)
        frames = (frame.image for frame in itertools.islice(decoded, config.frames))
        with contextlib.closing(decoded), tqdm(total=total, unit="frame", desc="eval", disable=not progress) as bar:
            result = evaluate_frames(
                frames,
                stylizer,
                config.smoothing(),
                scorer=scorer,
                loss_every=config.loss_every,
                progress=lambda: bar.update(1),
            )
    return result, used


def _make_scorer(style_bgr: Image, device: str, style_size: int) -> Scorer:
    from stylecam.train.devices import resolve_device
    from stylecam.train.losses.perceptual import PerceptualScorer

    return PerceptualScorer(style_bgr, device=resolve_device(device), style_size=style_size)

"""Temporal stability of a video: the warping error (flicker that motion does not explain).

For consecutive frames ``t-1, t`` of the *source*, optical flow from ``t`` to ``t-1`` aligns the
previous frame with the current one, and a forward-backward consistency check (plus out-of-frame
and motion-boundary tests) marks the pixels the flow cannot explain (occlusions). The warping
error of a video ``V`` is then, with pixel values scaled to 0-1 (Lai et al., ECCV 2018)::

    E_warp(V) = mean over t of  sum_p M_t(p) |V_t(p) - warp(V_{t-1})(p)|^2 / (3 sum_p M_t(p))

where ``M_t`` is 1 on non-occluded pixels. Measured on the source video it is the floor set by
flow errors, noise and lighting; a stylized video's error divided by it (the *ratio*) is how much
flicker stylization adds. The flow comes from :mod:`stylecam.runtime.temporal.flow` (DIS), at a finer preset
than the live smoother uses, so the smoother is not graded by its own flow.

Torch-free: ``stylecam eval`` adds the perceptual losses (which need VGG) on top.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from stylecam.errors import UsageError
from stylecam.runtime.config import SmoothingConfig
from stylecam.runtime.temporal.flow import Flow, compute_flow, occlusion_mask, warp

Image = npt.NDArray[np.uint8]
SOURCE = "source"
# DIS MEDIUM: about 3x the cost of the smoother's FAST preset for visibly cleaner flow.
EVAL_PRESET = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM
# A pair whose flow explains less than this fraction of the frame says nothing about flicker.
MIN_COVERAGE = 0.10
# Scene cuts are detected as the smoother detects them (mean change of 64x36 grey thumbnails),
# with the same default threshold: there is no motion to compensate across a cut.
CUT_THRESHOLD = SmoothingConfig().scene_cut_threshold
_THUMB = (64, 36)


@dataclass(frozen=True)
class Motion:
    """Flow from the current frame to the previous one, and the pixels it explains."""

    flow: Flow  # (H, W, 2), defined on the current frame
    valid: npt.NDArray[np.bool_]  # (H, W), True where the previous frame sees the same point

    @property
    def coverage(self) -> float:
        """Fraction of pixels the metric uses."""
        return float(self.valid.mean())


def estimate_motion(previous: Image, current: Image, *, preset: int = EVAL_PRESET, scale: float = 1.0) -> Motion:
    """Flow ``current -> previous`` on two BGR (or grey) source frames, with its occlusion mask."""
    if previous.shape != current.shape:
        raise UsageError(f"frames differ in size: {previous.shape} and {current.shape}")
    prev_gray, cur_gray = _gray(previous), _gray(current)
    to_previous = compute_flow(cur_gray, prev_gray, scale=scale, preset=preset)
    to_current = compute_flow(prev_gray, cur_gray, scale=scale, preset=preset)
    return Motion(to_previous, ~occlusion_mask(to_previous, to_current))


def _gray(image: Image) -> Image:
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def is_cut(previous: Image, current: Image, threshold: float = CUT_THRESHOLD) -> bool:
    """True when ``current`` starts a new shot (same rule and default threshold as the smoother)."""
    small = [cv2.resize(_gray(f), _THUMB, interpolation=cv2.INTER_AREA).astype(np.float32) for f in (previous, current)]
    return float(np.mean(np.abs(small[1] - small[0]))) > threshold


def warping_error(previous: Image, current: Image, motion: Motion) -> float:
    """Mean squared difference (0-1 scale) between ``current`` and ``previous`` warped into it, valid pixels only.

    Returns NaN when no pixel is valid (a cut or total occlusion): callers skip such pairs.
    """
    if previous.shape != current.shape or previous.shape[:2] != motion.valid.shape:
        raise UsageError(
            f"frames {previous.shape} / {current.shape} do not match the motion {motion.valid.shape}; "
            "pass frames of the size the motion was estimated on"
        )
    count = int(motion.valid.sum())
    if count == 0:
        return float("nan")
    aligned = warp(previous.astype(np.float32), motion.flow)
    squared = np.square(current.astype(np.float32) - aligned)
    if squared.ndim == 3:
        squared = squared.mean(axis=2)
    return float(squared[motion.valid].sum() / count / 255.0**2)


class StabilityMeter:
    """Warping error of the source and of any number of named output streams, frame by frame.

    Call :meth:`update` with each source frame and the outputs made from it; the motion is
    estimated once per pair of source frames and shared by every stream. Pairs across a scene cut,
    or whose flow explains less than ``MIN_COVERAGE`` of the frame, are skipped and counted.
    """

    def __init__(self, *, preset: int = EVAL_PRESET, scale: float = 1.0, min_coverage: float = MIN_COVERAGE) -> None:
        self.preset, self.scale, self.min_coverage = preset, scale, min_coverage
        self.errors: dict[str, list[float]] = {SOURCE: []}
        self.coverage: list[float] = []
        self.cuts = 0  # pairs skipped as scene cuts
        self.unexplained = 0  # pairs skipped because the flow explains too little
        self._previous_source: Image | None = None
        self._previous: dict[str, Image] = {}

    def update(self, source: Image, outputs: Mapping[str, Image]) -> None:
        """Add one frame: ``outputs`` maps stream name -> the frame of that stream (same size as the source)."""
        if SOURCE in outputs:
            raise UsageError(f"{SOURCE!r} is the source's own stream name; name the outputs differently")
        for name, frame in outputs.items():
            if frame.shape[:2] != source.shape[:2]:
                raise UsageError(f"output {name!r} is {frame.shape}, the source {source.shape}; they must match")
        previous = self._previous_source
        if previous is not None and previous.shape == source.shape:
            self._measure_pair(previous, source, outputs)
        self._previous_source = source
        self._previous = dict(outputs)

    def _measure_pair(self, previous: Image, source: Image, outputs: Mapping[str, Image]) -> None:
        if is_cut(previous, source):
            self.cuts += 1
            return
        motion = estimate_motion(previous, source, preset=self.preset, scale=self.scale)
        if motion.coverage < self.min_coverage:
            self.unexplained += 1
            return
        self.coverage.append(motion.coverage)
        self.errors[SOURCE].append(warping_error(previous, source, motion))
        for name, frame in outputs.items():
            if name in self._previous:
                self.errors.setdefault(name, []).append(warping_error(self._previous[name], frame, motion))

    def mean(self, name: str = SOURCE) -> float:
        """Mean warping error of a stream over the frame pairs measured (NaN pairs skipped)."""
        values = [value for value in self.errors.get(name, []) if np.isfinite(value)]
        if values:
            return float(np.mean(values))
        skipped = self.cuts + self.unexplained
        if skipped:
            raise UsageError(
                f"no frame pair could be measured: {self.cuts} scene cut(s), {self.unexplained} pair(s) whose optical "
                "flow explains too little (flashes, no texture to track); evaluate on a clip with continuous motion"
            )
        raise UsageError(f"no warping error for {name!r}: it needs at least two frames of the same size")

    def ratio(self, name: str) -> float:
        """``mean(name) / mean(source)``: the flicker stylization adds (1 = as stable as the source)."""
        floor = self.mean(SOURCE)
        return self.mean(name) / floor if floor > 0 else float("inf")

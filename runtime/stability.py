"""Temporal stability of a video: the warping error (flicker that motion does not explain).

For consecutive frames ``t-1, t`` of the *source*, optical flow from ``t`` to ``t-1`` aligns the
previous frame with the current one, and a forward-backward consistency check (plus out-of-frame
and motion-boundary tests) marks the pixels the flow cannot explain (occlusions). The warping
error of a video ``V`` is then, with pixel values scaled to 0-1 (Lai et al., ECCV 2018)::

    E_warp(V) = mean over t of  sum_p M_t(p) |V_t(p) - warp(V_{t-1})(p)|^2 / (3 sum_p M_t(p))

where ``M_t`` is 1 on non-occluded pixels. Measured on the source video it is the floor set by
flow errors, noise and lighting; a stylized video's error divided by it (the *ratio*) is how much
flicker stylization adds. The flow comes from :mod:`stylecam.runtime.flow` (DIS), at a finer preset
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
from stylecam.runtime.flow import Flow, compute_flow, occlusion_mask, warp

Image = npt.NDArray[np.uint8]
SOURCE = "source"
# DIS MEDIUM: about 3x the cost of the smoother's FAST preset for visibly cleaner flow.
EVAL_PRESET = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM


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
    estimated once per pair of source frames and shared by every stream.
    """

    def __init__(self, *, preset: int = EVAL_PRESET, scale: float = 1.0) -> None:
        self.preset, self.scale = preset, scale
        self.errors: dict[str, list[float]] = {SOURCE: []}
        self.coverage: list[float] = []
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
            motion = estimate_motion(previous, source, preset=self.preset, scale=self.scale)
            self.coverage.append(motion.coverage)
            self.errors[SOURCE].append(warping_error(previous, source, motion))
            for name, frame in outputs.items():
                if name in self._previous:
                    self.errors.setdefault(name, []).append(warping_error(self._previous[name], frame, motion))
        self._previous_source = source
        self._previous = dict(outputs)

    def mean(self, name: str = SOURCE) -> float:
        """Mean warping error of a stream over the frame pairs measured (NaN pairs skipped)."""
        measured = self.errors.get(name, [])
        values = [value for value in measured if np.isfinite(value)]
        if not measured:
            raise UsageError(f"no warping error for {name!r}: it needs at least two frames of the same size")
        if not values:
            raise UsageError(
                f"the optical flow explains no pixel of any frame pair ({len(measured)} pairs: cuts, flashes or "
                "no texture to track); evaluate on a clip with continuous motion"
            )
        return float(np.mean(values))

    def ratio(self, name: str) -> float:
        """``mean(name) / mean(source)``: the flicker stylization adds (1 = as stable as the source)."""
        floor = self.mean(SOURCE)
        return self.mean(name) / floor if floor > 0 else float("inf")

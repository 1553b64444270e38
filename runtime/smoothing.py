"""Temporal smoothing of stylized video: feed-forward style networks flicker frame to frame.

Modes:

* ``none``: the stylized frame as is;
* ``ema``: blend with the previous output (exponential moving average). Cheap, but anything that
  moves leaves a ghost trail, so it suits a static camera;
* ``flow``: warp the previous *output* into the current frame along optical flow computed on the
  *source* frames, and blend only where the flow is trustworthy (forward-backward consistent);
  occluded pixels take the current stylized frame. Same idea as Ruder et al.'s short-term temporal
  consistency, applied at inference time instead of in the loss.

Both blending modes reset on a resolution change and on a scene cut (a large change between
consecutive source frames), so a cut never blends two shots.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
import numpy.typing as npt

from stylecam.errors import UsageError
from stylecam.runtime.config import SmoothingConfig
from stylecam.runtime.flow import compute_flow, occlusion_mask, warp

log = logging.getLogger(__name__)

# Scene-cut detection compares thumbnails: cheap, and blind to noise and small motion.
_THUMB = (64, 36)


def ema(
    previous: npt.NDArray[np.floating] | npt.NDArray[np.uint8],
    current: npt.NDArray[np.floating] | npt.NDArray[np.uint8],
    alpha: float,
) -> npt.NDArray[np.float32]:
    """``alpha * current + (1 - alpha) * previous`` as float32 (inputs are not modified)."""
    if previous.shape != current.shape:
        raise UsageError(f"ema needs equal shapes, got {previous.shape} and {current.shape}")
    return cv2.addWeighted(
        np.asarray(current, np.float32), float(alpha), np.asarray(previous, np.float32), 1.0 - float(alpha), 0.0
    )


def _to_uint8(image: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


class TemporalSmoother:
    """Stateful smoother: call it once per frame, in order, with the source and its stylization.

    Args:
        config: mode and parameters (defaults chosen by measurement; see the README).
    """

    def __init__(self, config: SmoothingConfig | None = None) -> None:
        self.config = config or SmoothingConfig()
        self.resets = 0  # how many times the history was dropped (cuts, size changes, reset())
        self._previous_out: npt.NDArray[np.float32] | None = None
        self._previous_gray: npt.NDArray[np.uint8] | None = None
        self._previous_thumb: npt.NDArray[np.float32] | None = None

    def reset(self) -> None:
        """Forget the history: call on a seek, a scene cut you know of, or a new stream."""
        if self._previous_out is not None:
            self.resets += 1
        self._previous_out = self._previous_gray = self._previous_thumb = None

    def __call__(self, source_bgr: npt.NDArray[np.uint8], stylized_bgr: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """Return the smoothed stylized frame (uint8, the shape of ``stylized_bgr``)."""
        _check_frames(source_bgr, stylized_bgr)
        if self.config.mode == "none":
            return stylized_bgr
        gray = cv2.cvtColor(source_bgr, cv2.COLOR_BGR2GRAY)
        thumb = cv2.resize(gray, _THUMB, interpolation=cv2.INTER_AREA).astype(np.float32)
        if self._previous_out is not None and self._needs_reset(stylized_bgr, thumb):
            self.reset()
        if self._previous_out is None:
            out_float = stylized_bgr.astype(np.float32)
        elif self.config.mode == "ema":
            out_float = ema(self._previous_out, stylized_bgr, self.config.alpha)
        else:
            out_float = self._flow_blend(gray, stylized_bgr)
        self._previous_out, self._previous_gray, self._previous_thumb = out_float, gray, thumb
        return _to_uint8(out_float)

    def _needs_reset(self, stylized: npt.NDArray[np.uint8], thumb: npt.NDArray[np.float32]) -> bool:
        assert self._previous_out is not None and self._previous_thumb is not None
        if self._previous_out.shape != stylized.shape:
            log.debug("frame size changed %s -> %s: smoothing restarts", self._previous_out.shape, stylized.shape)
            return True
        change = float(np.mean(np.abs(thumb - self._previous_thumb)))
        if change > self.config.scene_cut_threshold:
            log.debug(
                "scene cut (mean change %.1f > %.1f): smoothing restarts", change, self.config.scene_cut_threshold
            )
            return True
        return False

    def _flow_blend(self, gray: npt.NDArray[np.uint8], stylized: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        assert self._previous_out is not None and self._previous_gray is not None
        scale = self.config.flow_scale
        to_previous = compute_flow(gray, self._previous_gray, scale=scale)
        to_current = compute_flow(self._previous_gray, gray, scale=scale)
        occluded = occlusion_mask(to_previous, to_current, absolute_tolerance=self.config.occlusion_tolerance)
        warped = warp(self._previous_out, to_previous)
        blended = ema(warped, stylized, self.config.alpha)
        blended[occluded] = stylized[occluded]
        return blended


def _check_frames(source: npt.NDArray[np.uint8], stylized: npt.NDArray[np.uint8]) -> None:
    for name, frame in (("source", source), ("stylized", stylized)):
        if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            got = f"{frame.dtype} {frame.shape}" if isinstance(frame, np.ndarray) else type(frame).__name__
            raise UsageError(f"{name} frame must be (H, W, 3) uint8 BGR, got {got}")
    if source.shape != stylized.shape:
        raise UsageError(
            f"source {source.shape} and stylized {stylized.shape} frames differ in size; pass matching frames"
        )

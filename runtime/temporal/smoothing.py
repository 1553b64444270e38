"""Temporal smoothing of stylized video: feed-forward style networks flicker frame to frame.

Modes:

* ``none``: the stylized frame as is;
* ``ema``: blend with the previous output (exponential moving average). Cheap, but anything that
  moves leaves a ghost trail, so it suits a static camera;
* ``flow``: warp the previous *output* into the current frame along optical flow computed on the
  *source* frames, and blend only where the flow is trustworthy; occluded pixels take the current
  stylized frame. Same idea as Ruder et al.'s short-term temporal consistency, applied at
  inference time instead of in the loss. Trustworthy, by default (``one-way``): the previous source
  frame sampled along the flow looks like the current one (brightness constancy, within
  ``photometric_tolerance`` grey levels); ``two-way`` is Ruder et al.'s forward-backward
  consistency check, which needs a second flow: 1.6x the estimate's cost for about the same
  warping error on the research clips (docs/benchmarks.md).

Both blending modes reset on a resolution change and on a scene cut (a large change between
consecutive source frames), so a cut never blends two shots.

The work splits in two: :meth:`TemporalSmoother.estimate` needs only the source frames (grey
thumbnails, scene cuts, optical flow, occlusion), :meth:`TemporalSmoother.blend` the stylized one.
So the estimate of frame t can run on another thread while the network paints frame t
(:meth:`TemporalSmoother.start_frame`; OpenCV and ONNX Runtime release the GIL), and the blend
waits for both. Called inline or ahead, the same arithmetic runs: the frames are identical.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from stylecam.errors import UsageError
from stylecam.runtime.config import FLOW_PRESETS, SmoothingConfig
from stylecam.runtime.temporal.flow import Flow, compute_flow, occlusion_mask, photometric_mask, warp

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
# An executor's submit: runs fn(*args) on another thread and returns its Future.
Submit = Callable[..., "concurrent.futures.Future[Any]"]

# Estimates started and not yet used: the pipeline starts at most one frame ahead of the blend.
MAX_PENDING = 2
# Scene-cut detection compares thumbnails: cheap, and blind to noise and small motion.
_THUMB = (64, 36)
_DIS_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}
assert set(_DIS_PRESETS) == set(FLOW_PRESETS)


def ema(
    previous: npt.NDArray[np.floating] | npt.NDArray[np.uint8],
    current: npt.NDArray[np.floating] | npt.NDArray[np.uint8],
    alpha: float,
) -> npt.NDArray[np.floating] | npt.NDArray[np.uint8]:
    """``alpha * current + (1 - alpha) * previous``; inputs are not modified.

    Returns uint8 (rounded, saturated) when ``current`` is uint8, else float32.
    """
    if previous.shape != current.shape:
        raise UsageError(f"ema needs equal shapes, got {previous.shape} and {current.shape}")
    depth = cv2.CV_8U if current.dtype == np.uint8 else cv2.CV_32F
    return cv2.addWeighted(current, float(alpha), previous, 1.0 - float(alpha), 0.0, dtype=depth)


MAX_TEXTURE_GAIN = 2.5  # keep_texture never amplifies the blend's local contrast more than this


def keep_texture(blended: Image, current: Image, radius: int) -> Image:
    """``blended`` with its local contrast brought back up to ``current``'s (never lowered).

    Blending the warped history with the new frame averages brush strokes that do not line up, so
    the blend is flatter than any frame the network paints: the style fades while the video steadies.
    Per pixel, the blend's deviation from its local mean (a (2 radius + 1)² box) is scaled by the
    ratio of the two frames' local standard deviations (grey, so hue stays put; at most
    ``MAX_TEXTURE_GAIN``). Where history and frame agree the ratio is 1 and nothing changes. The
    ratio is smooth, so it is measured on half-size frames: 4-5.5 ms at 640x360.
    """
    height, width = blended.shape[:2]
    small = ((width + 1) // 2, (height + 1) // 2)
    box = (2 * max(1, radius // 2) + 1,) * 2
    variances = []
    for frame in (blended, current):
        grey = cv2.resize(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), small, interpolation=cv2.INTER_AREA)
        grey = grey.astype(np.float32)
        variances.append(cv2.blur(grey * grey, box) - cv2.blur(grey, box) ** 2)
    gain = np.sqrt(np.maximum(variances[1], 0.0) / np.maximum(variances[0], 1.0))
    np.clip(gain, 1.0, MAX_TEXTURE_GAIN, out=gain)
    extra = cv2.resize(gain - 1.0, (width, height), interpolation=cv2.INTER_LINEAR)
    detail = cv2.subtract(blended, cv2.blur(blended, (2 * radius + 1,) * 2), dtype=cv2.CV_32F)
    return cv2.add(blended, cv2.multiply(detail, cv2.merge([extra, extra, extra])), dtype=cv2.CV_8U)


@dataclass(frozen=True)
class SourceMotion:
    """What one source frame tells the smoother, before its stylization exists.

    Attributes:
        restart: drop the history (first frame, new size, scene cut): nothing to blend with.
        flow: (H, W, 2) flow from this frame to the previous one at full resolution (``flow``
            mode with a history; else None).
        occluded: (H, W) uint8, 1 where ``flow`` cannot be trusted (None with ``flow``).
    """

    restart: bool
    flow: Flow | None = None
    occluded: Image | None = None


class TemporalSmoother:
    """Stateful smoother: call it once per frame, in order, with the source and its stylization.

    The history is one uint8 output frame and one small grey source frame, so the cost per frame
    is one DIS flow at ``flow_width`` (two with the ``two-way`` check) plus one full-resolution
    remap and blend.

    Args:
        config: mode and parameters (defaults chosen by measurement; see the README).
    """

    def __init__(self, config: SmoothingConfig | None = None) -> None:
        self.config = config or SmoothingConfig()
        self.resets = 0  # how many times the history was dropped (cuts, size changes, reset())
        self._previous_out: Image | None = None
        self._previous_shape: tuple[int, ...] | None = None
        self._previous_small: Image | None = None
        self._previous_thumb: npt.NDArray[np.float32] | None = None
        self._reused: tuple[Flow, Image] | None = None  # the flow kept for the next frames (flow_every > 1)
        self._since_flow = 0
        self._pending: deque[tuple[Image, concurrent.futures.Future[SourceMotion]]] = deque()

    def reset(self) -> None:
        """Forget the history: call on a seek, a scene cut you know of, or a new stream."""
        self._drop_pending()
        if self._previous_out is not None:
            self.resets += 1
        self._previous_out = self._previous_small = self._previous_thumb = None
        self._previous_shape = None
        self._reused = None

    def __call__(self, source_bgr: Image, stylized_bgr: Image) -> Image:
        """Return the smoothed stylized frame (uint8, the shape of ``stylized_bgr``)."""
        _check_frames(source_bgr, stylized_bgr)
        if self.config.mode == "none":
            return stylized_bgr
        motion = self._take_pending(source_bgr)
        if motion is None:
            motion = self.estimate(source_bgr)
        return self.blend(motion, stylized_bgr)

    # -- the two halves ---------------------------------------------------------------------------
    def start_frame(self, source_bgr: Image, submit: Submit) -> None:
        """Start :meth:`estimate` of ``source_bgr`` on ``submit``'s thread; the call with that frame uses the result.

        The estimates touch only the source-side history and :meth:`blend` only the output side,
        so the caller may stylize and blend earlier frames meanwhile; frames must be started and
        then smoothed in the same order, at most ``MAX_PENDING`` ahead (``submit`` must run the
        jobs in order: one worker thread). An exception of an estimate is raised by the call that
        uses it. Only ``flow`` mode has work worth a thread hop; the other modes estimate inline.
        """
        if self.config.mode != "flow":
            return
        _check_frames(source_bgr, source_bgr)
        if len(self._pending) >= MAX_PENDING:
            log.debug("more than %d frames started and not smoothed: smoothing restarts", MAX_PENDING)
            self.reset()
        self._pending.append((source_bgr, submit(self.estimate, source_bgr)))

    def estimate(self, source_bgr: Image) -> SourceMotion:
        """The source half: scene cut, size change and (``flow`` mode) flow with its occlusion mask.

        Advances the source history; call once per frame, in order, then :meth:`blend`.
        """
        gray = cv2.cvtColor(source_bgr, cv2.COLOR_BGR2GRAY)
        small = _shrink(gray, self.config.flow_width) if self.config.mode == "flow" else None
        thumb = cv2.resize(gray if small is None else small, _THUMB, interpolation=cv2.INTER_AREA).astype(np.float32)
        previous_small, shape = self._previous_small, source_bgr.shape
        restart = self._restarts(shape, thumb)
        self._previous_shape, self._previous_small, self._previous_thumb = shape, small, thumb
        if restart or small is None or previous_small is None:
            self._reused = None
            return SourceMotion(restart=restart)
        if self._reused is not None and self._since_flow < self.config.flow_every:
            # Reused: the motion of the previous pair stands in for this one (constant velocity).
            self._since_flow += 1
            flow, occluded = self._reused
        else:
            flow, occluded = self._flow(small, previous_small, shape[1], shape[0])
            self._reused = (flow, occluded) if self.config.flow_every > 1 else None
            self._since_flow = 1
        return SourceMotion(restart=False, flow=flow, occluded=occluded)

    def blend(self, motion: SourceMotion, stylized_bgr: Image) -> Image:
        """The output half: blend ``stylized_bgr`` with the previous output as ``motion`` allows."""
        previous = self._previous_out
        if previous is not None and (motion.restart or previous.shape != stylized_bgr.shape):
            self.resets += 1
            previous = None
        if previous is None:
            out = stylized_bgr.copy()
        elif self.config.mode == "ema":
            out = ema(previous, stylized_bgr, self.config.alpha)
            if self.config.keep_texture:
                out = keep_texture(out, stylized_bgr, self.config.keep_texture)
        elif motion.flow is None or motion.occluded is None:
            out = stylized_bgr.copy()  # flow mode without a flow: a history from another mode
        else:
            out = ema(warp(previous, motion.flow), stylized_bgr, self.config.alpha)
            if self.config.keep_texture:
                out = keep_texture(out, stylized_bgr, self.config.keep_texture)
            # Occluded pixels have no history: they take the current frame (cv2.copyTo: ~40x faster
            # than boolean indexing at 720p).
            cv2.copyTo(stylized_bgr, motion.occluded, out)
        self._previous_out = out
        return out.copy()

    # -- internals --------------------------------------------------------------------------------
    def _restarts(self, shape: tuple[int, ...], thumb: npt.NDArray[np.float32]) -> bool:
        if self._previous_thumb is None:
            return True
        if self._previous_shape != shape:
            log.debug("frame size changed %s -> %s: smoothing restarts", self._previous_shape, shape)
            return True
        change = float(np.mean(np.abs(thumb - self._previous_thumb)))
        if change > self.config.scene_cut_threshold:
            log.debug(
                "scene cut (mean change %.1f > %.1f): smoothing restarts", change, self.config.scene_cut_threshold
            )
            return True
        return False

    def _flow(self, small: Image, previous_small: Image, width: int, height: int) -> tuple[Flow, Image]:
        # Flow and occlusion on the small frames (the expensive part), then upsampled: ~3x cheaper
        # than full-resolution occlusion checks for the same result (tools/measure_smoothing.py).
        preset = _DIS_PRESETS[self.config.flow_preset]
        to_previous = compute_flow(small, previous_small, scale=1.0, preset=preset)
        if self.config.flow_check == "one-way":
            occluded = photometric_mask(to_previous, small, previous_small, tolerance=self.config.photometric_tolerance)
        else:
            to_current = compute_flow(previous_small, small, scale=1.0, preset=preset)
            occluded = occlusion_mask(to_previous, to_current, absolute_tolerance=self.config.occlusion_tolerance)
        # Scale the vectors before upsampling (resizing is linear): the multiply stays small.
        to_previous *= np.array([width / small.shape[1], height / small.shape[0]], np.float32)
        flow = cv2.resize(to_previous, (width, height), interpolation=cv2.INTER_LINEAR)
        mask = cv2.resize(occluded.view(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST)
        return flow, mask

    def _take_pending(self, source: Image) -> SourceMotion | None:
        if not self._pending:
            return None
        frame, future = self._pending.popleft()
        motion = future.result()  # waits for the estimate; its exception is raised here, on the caller's thread
        if frame is source:
            return motion
        # An estimate for a frame that was never smoothed: the source history skipped ahead.
        self.reset()
        return None

    def _drop_pending(self) -> None:
        pending = [future for _, future in self._pending]
        self._pending.clear()
        concurrent.futures.wait(pending)  # never clear the history under a running estimate


def _shrink(gray: Image, target_width: int) -> Image:
    height, width = gray.shape
    if width <= target_width:
        return gray
    size = (target_width, max(8, round(height * target_width / width)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)


def _check_frames(source: Image, stylized: Image) -> None:
    for name, frame in (("source", source), ("stylized", stylized)):
        if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            got = f"{frame.dtype} {frame.shape}" if isinstance(frame, np.ndarray) else type(frame).__name__
            raise UsageError(f"{name} frame must be (H, W, 3) uint8 BGR, got {got}")
    if source.shape != stylized.shape:
        raise UsageError(
            f"source {source.shape} and stylized {stylized.shape} frames differ in size; pass matching frames"
        )

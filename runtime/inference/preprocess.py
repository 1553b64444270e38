"""Pure frame checks and conversions around the session (no ONNX Runtime here).

Stylecam-contract models take the frames as they are (uint8 NHWC BGR); these helpers validate
them, build batches, shrink oversized frames, and convert for legacy float NCHW RGB models.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from stylecam.errors import UsageError

Frame = npt.NDArray[np.uint8]
# Smallest side handed to a network that does not pad itself (models without stylecam metadata:
# a Johnson net at 1/4 resolution still needs 2+ pixels to reflect-pad). Stylecam exports pad
# tiny frames inside the graph (contract v1), so they get frames as they are.
MIN_SIDE = 32
EXPECTED_FRAME = "expected a uint8 BGR image of shape (H, W, 3) (or (H, W) grayscale)"


def check_frame(frame: object) -> tuple[Frame, bool]:
    """Validate one frame; returns it as contiguous (H, W, 3) uint8 and whether it was grayscale.

    Raises:
        UsageError: wrong type, dtype, rank or channel count (expected vs actual named).
    """
    if not isinstance(frame, np.ndarray):
        raise UsageError(f"frame is a {type(frame).__name__}, not a numpy array; {EXPECTED_FRAME}")
    if frame.dtype != np.uint8:
        raise UsageError(
            f"frame has dtype {frame.dtype}; {EXPECTED_FRAME}: convert it, e.g. "
            "np.clip(frame, 0, 255).astype(np.uint8) (scale 0-1 floats by 255 first)"
        )
    if frame.ndim == 3 and frame.shape[2] == 4:
        raise UsageError(
            f"frame has 4 channels {frame.shape}; {EXPECTED_FRAME}: "
            "drop alpha with cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)"
        )
    gray = frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 1)
    if not gray and not (frame.ndim == 3 and frame.shape[2] == 3):
        raise UsageError(f"frame has shape {frame.shape}; {EXPECTED_FRAME}")
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise UsageError(f"frame is empty (shape {frame.shape}); {EXPECTED_FRAME}")
    if gray:
        return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_GRAY2BGR), True
    return np.ascontiguousarray(frame), False


def check_batch(frames: npt.NDArray[np.uint8] | Sequence[npt.NDArray[np.uint8]]) -> npt.NDArray[np.uint8]:
    """Validate a batch: a (N, H, W, 3) uint8 array or a sequence of same-size frames."""
    if isinstance(frames, np.ndarray):
        if frames.ndim != 4 or frames.shape[3] != 3 or frames.dtype != np.uint8 or 0 in frames.shape:
            raise UsageError(
                f"batch has shape {frames.shape} and dtype {frames.dtype}; expected uint8 (N, H, W, 3) BGR, N >= 1"
            )
        return np.ascontiguousarray(frames)
    checked = [check_frame(frame)[0] for frame in frames]
    if not checked:
        raise UsageError("batch is empty; pass at least one frame")
    sizes = {frame.shape for frame in checked}
    if len(sizes) > 1:
        raise UsageError(f"batch frames differ in size ({sorted(sizes)}); stylize them separately or resize them")
    return np.stack(checked)


def run_size(height: int, width: int, max_pixels: int, min_side: int = MIN_SIDE) -> tuple[int, int]:
    """The (height, width) to run at, keeping the aspect ratio.

    Unchanged unless the frame has more than ``max_pixels`` pixels (scaled down to fit) or a side
    shorter than ``min_side`` (scaled up: reflection padding inside style networks fails on
    frames of a few pixels).
    """
    if height * width > max_pixels:
        scale = math.sqrt(max_pixels / (height * width))
        height, width = max(1, int(height * scale)), max(1, int(width * scale))
    if min(height, width) < min_side:
        scale = min_side / min(height, width)
        height, width = max(min_side, math.ceil(height * scale)), max(min_side, math.ceil(width * scale))
    return height, width


def resize_batch(batch: npt.NDArray[np.uint8], height: int, width: int) -> npt.NDArray[np.uint8]:
    """Resize every frame; INTER_AREA when shrinking (no aliasing), INTER_CUBIC when enlarging."""
    if batch.shape[1:3] == (height, width):
        return batch
    shrink = height * width < batch.shape[1] * batch.shape[2]
    interpolation = cv2.INTER_AREA if shrink else cv2.INTER_CUBIC
    return np.stack([cv2.resize(frame, (width, height), interpolation=interpolation) for frame in batch])


def pad_to_multiple(batch: npt.NDArray[np.uint8], multiple: int) -> npt.NDArray[np.uint8]:
    """Edge-pad H and W up to a multiple of ``multiple`` (legacy nets change size otherwise)."""
    height, width = batch.shape[1:3]
    pad_h, pad_w = -height % multiple, -width % multiple
    if not (pad_h or pad_w):
        return batch
    return np.pad(batch, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")


def to_legacy_input(batch_bgr: npt.NDArray[np.uint8], dtype: type[np.generic]) -> npt.NDArray[np.floating]:
    """uint8 NHWC BGR -> float NCHW RGB 0-255 (the pytorch/examples convention)."""
    return np.ascontiguousarray(batch_bgr[..., ::-1].transpose(0, 3, 1, 2), dtype=dtype)


def from_legacy_output(output: npt.NDArray[np.floating]) -> npt.NDArray[np.uint8]:
    """float NCHW RGB, unclamped -> uint8 NHWC BGR (round half to even, clip to 0-255)."""
    values = np.clip(np.rint(output.astype(np.float32, copy=False)), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(values.transpose(0, 2, 3, 1)[..., ::-1])

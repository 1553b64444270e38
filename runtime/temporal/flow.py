"""Optical flow, warping and occlusion: pure functions over numpy arrays (OpenCV inside).

Conventions (OpenCV's): ``flow = compute_flow(a, b)`` maps frame ``a`` to frame ``b``, i.e.
``a[y, x] ≈ b[y + flow[y, x, 1], x + flow[y, x, 0]]``; so ``warp(b, flow)`` rebuilds ``a`` from ``b``.
Used by the temporal smoother (previous output warped into the current frame) and by the
``stylecam eval`` warping-error metric, so nothing here knows about stylization.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np
import numpy.typing as npt

from stylecam.errors import UsageError

Flow = npt.NDArray[np.float32]
# Sundaram et al. (ECCV 2010) forward-backward consistency, as used by Ruder et al. (GCPR 2016):
# occluded where |w + ŵ|² > 0.01 (|w|² + |ŵ|²) + 0.5, and motion boundary where
# |∇u|² + |∇v|² > 0.01 |w|² + 0.002.
CONSISTENCY_RELATIVE = 0.01
CONSISTENCY_ABSOLUTE = 0.5
BOUNDARY_RELATIVE = 0.01
BOUNDARY_ABSOLUTE = 0.002
# One-way check: grey levels (0-255) a pixel may differ from its match before it counts as occluded.
PHOTOMETRIC_TOLERANCE = 25.0


def _check_pair(first: npt.NDArray[np.uint8], second: npt.NDArray[np.uint8]) -> None:
    for image in (first, second):
        if image.ndim != 2 or image.dtype != np.uint8:
            raise UsageError(f"optical flow needs 2-D uint8 grey images, got {image.dtype} {image.shape}")
    if first.shape != second.shape:
        raise UsageError(f"optical flow needs equal sizes, got {first.shape} and {second.shape}")


def compute_flow(
    first_gray: npt.NDArray[np.uint8],
    second_gray: npt.NDArray[np.uint8],
    *,
    scale: float = 0.5,
    preset: int = cv2.DISOPTICAL_FLOW_PRESET_FAST,
) -> Flow:
    """Dense flow from ``first_gray`` to ``second_gray`` (DIS optical flow), shape (H, W, 2) float32.

    Args:
        first_gray: (H, W) uint8 grey frame the flow is defined on.
        second_gray: (H, W) uint8 grey frame it points into.
        scale: compute on frames resized by this factor (0.5 is ~4x faster), then upsample the flow
            back and rescale its vectors to full-resolution pixels.
        preset: a ``cv2.DISOPTICAL_FLOW_PRESET_*`` (FAST is the live-video trade-off).
    """
    _check_pair(first_gray, second_gray)
    if not 0 < scale <= 1:
        raise UsageError(f"flow scale must be in (0, 1], got {scale}")
    height, width = first_gray.shape
    small = (max(8, round(width * scale)), max(8, round(height * scale)))
    if small != (width, height):
        first_gray = cv2.resize(first_gray, small, interpolation=cv2.INTER_AREA)
        second_gray = cv2.resize(second_gray, small, interpolation=cv2.INTER_AREA)
    # A fresh DIS object per call costs microseconds and keeps this function stateless and thread-safe.
    flow = cv2.DISOpticalFlow_create(preset).calc(first_gray, second_gray, None)
    if small == (width, height):
        return flow
    flow = cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR)
    flow[..., 0] *= width / small[0]
    flow[..., 1] *= height / small[1]
    return flow


@functools.lru_cache(maxsize=8)
def _pixel_grid(height: int, width: int) -> npt.NDArray[np.float32]:
    # (H, W, 2) pixel coordinates, cached per size: video frames keep their size, so this is built once.
    grid = np.empty((height, width, 2), np.float32)
    grid[..., 0] = np.arange(width, dtype=np.float32)
    grid[..., 1] = np.arange(height, dtype=np.float32)[:, None]
    grid.setflags(write=False)
    return grid


def _sampling_map(flow: Flow) -> npt.NDArray[np.float32]:
    return _pixel_grid(*flow.shape[:2]) + flow


def warp(
    image: npt.NDArray[np.generic], flow: Flow, *, interpolation: int = cv2.INTER_LINEAR
) -> npt.NDArray[np.generic]:
    """Sample ``image`` at ``x + flow(x)`` (bilinear, edge pixels replicated); same shape and dtype.

    With ``flow = compute_flow(a, b)``, ``warp(b, flow)`` aligns ``b`` to ``a``.
    """
    if flow.ndim != 3 or flow.shape[2] != 2 or flow.shape[:2] != image.shape[:2]:
        raise UsageError(f"flow of shape {flow.shape} does not fit an image of shape {image.shape}")
    sampling = _sampling_map(flow.astype(np.float32, copy=False))
    return cv2.remap(image, sampling, None, interpolation, borderMode=cv2.BORDER_REPLICATE)


def occlusion_mask(
    flow: Flow,
    reverse_flow: Flow,
    *,
    absolute_tolerance: float = CONSISTENCY_ABSOLUTE,
    motion_boundaries: bool = True,
) -> npt.NDArray[np.bool_]:
    """Pixels of the first frame whose ``flow`` cannot be trusted (True = occluded / inconsistent).

    Args:
        flow: first -> second frame (defined on the first frame).
        reverse_flow: second -> first frame (defined on the second frame).
        absolute_tolerance: slack of the forward-backward check in pixels² (0.5 in the papers).
        motion_boundaries: also mark motion boundaries, where the flow is unreliable.

    A pixel is consistent when following ``flow`` and then ``reverse_flow`` comes back to it; it also
    fails when ``flow`` leaves the image (that content is not in the second frame).
    """
    if flow.shape != reverse_flow.shape:
        raise UsageError(f"flow shapes differ: {flow.shape} vs {reverse_flow.shape}")
    back = warp(reverse_flow, flow)
    flow_norm = _squared_norm(flow)
    round_trip = _squared_norm(flow + back)
    occluded = round_trip > CONSISTENCY_RELATIVE * (flow_norm + _squared_norm(back)) + absolute_tolerance
    sampling = _sampling_map(flow)
    height, width = flow.shape[:2]
    map_x, map_y = sampling[..., 0], sampling[..., 1]
    occluded |= (map_x < 0) | (map_x > width - 1) | (map_y < 0) | (map_y > height - 1)
    if motion_boundaries:
        occluded |= _motion_boundaries(flow, flow_norm)
    return occluded


def photometric_mask(
    flow: Flow,
    first_gray: npt.NDArray[np.uint8],
    second_gray: npt.NDArray[np.uint8],
    *,
    tolerance: float = PHOTOMETRIC_TOLERANCE,
    motion_boundaries: bool = True,
) -> npt.NDArray[np.bool_]:
    """Pixels of ``first_gray`` whose ``flow`` (first -> second) cannot be trusted, from one flow only.

    The one-way check: a pixel fails when ``second_gray`` sampled along the flow differs from it by
    more than ``tolerance`` grey levels (what the flow cannot explain: occlusions, bad matches),
    when the flow leaves the image, or at a motion boundary. Half the cost of
    :func:`occlusion_mask`, which needs the reverse flow too.
    """
    _check_pair(first_gray, second_gray)
    if flow.shape[:2] != first_gray.shape:
        raise UsageError(f"flow of shape {flow.shape} does not fit frames of shape {first_gray.shape}")
    sampling = _sampling_map(flow)
    back = cv2.remap(second_gray, sampling, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    occluded = cv2.absdiff(back, first_gray) > tolerance
    height, width = flow.shape[:2]
    map_x, map_y = sampling[..., 0], sampling[..., 1]
    occluded |= (map_x < 0) | (map_x > width - 1) | (map_y < 0) | (map_y > height - 1)
    if motion_boundaries:
        occluded |= _motion_boundaries(flow, _squared_norm(flow))
    return occluded


def _motion_boundaries(flow: Flow, flow_norm: npt.NDArray[np.float32]) -> npt.NDArray[np.bool_]:
    grad = sum(cv2.Sobel(flow[..., c], cv2.CV_32F, dx, dy, ksize=1) ** 2 for c in (0, 1) for dx, dy in ((1, 0), (0, 1)))
    # Sobel ksize=1 is a [-1, 0, 1] central difference: halve it to a per-pixel gradient.
    return grad / 4 > BOUNDARY_RELATIVE * flow_norm + BOUNDARY_ABSOLUTE


def _squared_norm(vectors: Flow) -> npt.NDArray[np.float32]:
    # Two strided products beat np.sum(v**2, axis=2) ~20x: numpy reduces a length-2 axis slowly.
    return vectors[..., 0] * vectors[..., 0] + vectors[..., 1] * vectors[..., 1]

"""A synthetic moving clip with exact optical flow, and a deterministic "flickering stylizer".

Used by the smoothing tests and by ``tools/measure_smoothing.py`` (which picked the defaults):

* :func:`make_clip`: a textured background panned at a sub-pixel speed with a textured disc moving
  the other way, so there are both global motion and occlusions; every frame comes with the true
  flow to the previous frame and the mask of pixels not visible in the previous frame;
* :func:`clean_style`: a per-pixel colour stylization (moves exactly with the content);
* :func:`flicker`: that stylization with per-frame gain/offset jitter and fresh low-frequency
  noise, standing in for a feed-forward network's frame-to-frame instability;
* :func:`warping_error`: mean |O_t - warp(O_{t-1})| over visible pixels (Lai et al. 2018).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from stylecam.runtime.temporal.flow import warp


@dataclass(frozen=True)
class ClipFrame:
    source: np.ndarray  # (H, W, 3) uint8 BGR
    flow_to_previous: np.ndarray  # (H, W, 2) float32: source[x] == previous[x + flow[x]]
    occluded: np.ndarray  # (H, W) bool: not visible in the previous frame


def _texture(height: int, width: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    layers = np.zeros((height, width, 3), np.float32)
    for cell, weight in ((64, 0.5), (16, 0.3), (4, 0.2)):
        small = rng.uniform(0, 255, (height // cell + 2, width // cell + 2, 3)).astype(np.float32)
        layers += weight * cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(layers, 0, 255)


def make_clip(
    height: int = 144,
    width: int = 256,
    frames: int = 12,
    *,
    pan: tuple[float, float] = (2.5, 1.0),
    disc_speed: tuple[float, float] = (-3.0, 0.0),
    brightness_step: float = 0.0,
    seed: int = 0,
) -> list[ClipFrame]:
    """Frames of a panned texture with a disc moving across it, with exact flow and occlusion.

    ``brightness_step`` adds that many grey levels per frame (an exposure change: real change the
    smoother must follow, unlike flicker).
    """
    margin = int(np.ceil(max(abs(pan[0]), abs(pan[1])) * frames)) + 4
    background = _texture(height + margin, width + margin, seed)
    radius = max(6, min(height, width) // 5)
    disc = _texture(2 * radius + 1, 2 * radius + 1, seed + 1)[..., ::-1].copy()
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    clip: list[ClipFrame] = []
    previous_inside = None
    for index in range(frames):
        offset = np.array(pan, np.float32) * index
        shift = np.float32([[1, 0, offset[0]], [0, 1, offset[1]]])
        frame = cv2.warpAffine(background, shift, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
        centre = np.array([width * 0.7, height * 0.5], np.float32) + np.array(disc_speed, np.float32) * index
        inside = (xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 <= radius**2
        to_disc = np.float32([[1, 0, radius - centre[0]], [0, 1, radius - centre[1]]])
        disc_layer = cv2.warpAffine(disc, to_disc, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
        frame[inside] = disc_layer[inside]
        frame += brightness_step * index
        flow = np.empty((height, width, 2), np.float32)
        flow[...] = pan
        flow[inside] = -np.array(disc_speed, np.float32)
        target_x, target_y = xx + flow[..., 0], yy + flow[..., 1]
        occluded = (target_x < 0) | (target_x > width - 1) | (target_y < 0) | (target_y > height - 1)
        if previous_inside is not None:
            # Background pixels whose previous position lay under the disc were hidden then.
            hidden = cv2.remap(previous_inside.astype(np.uint8), target_x, target_y, cv2.INTER_NEAREST) > 0
            occluded |= hidden & ~inside
        previous_inside = inside
        clip.append(ClipFrame(np.clip(np.rint(frame), 0, 255).astype(np.uint8), flow, occluded))
    return clip


def clean_style(source: np.ndarray) -> np.ndarray:
    """A per-pixel 'painting' of the source: a colour map of luminance mixed with the hue (uint8 BGR)."""
    gray = cv2.cvtColor(source, cv2.COLOR_BGR2GRAY)
    mapped = cv2.applyColorMap(gray, cv2.COLORMAP_TWILIGHT_SHIFTED).astype(np.float32)
    return np.clip(0.6 * mapped + 0.4 * source.astype(np.float32), 0, 255).astype(np.uint8)


def flicker(styled: np.ndarray, index: int, *, strength: float = 1.0, seed: int = 0) -> np.ndarray:
    """``styled`` with frame ``index``'s deterministic instability: gain/offset jitter + blotchy noise."""
    rng = np.random.default_rng((seed, index))
    height, width = styled.shape[:2]
    gain = 1.0 + strength * rng.uniform(-0.08, 0.08, 3)
    offset = strength * rng.uniform(-8, 8, 3)
    blotches = rng.normal(0, 1, (height // 16 + 2, width // 16 + 2, 3)).astype(np.float32)
    noise = cv2.resize(blotches, (width, height), interpolation=cv2.INTER_CUBIC) * 10.0 * strength
    out = styled.astype(np.float32) * gain + offset + noise
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def warping_error(previous: np.ndarray, current: np.ndarray, frame: ClipFrame) -> float:
    """Mean absolute difference (0-255) between ``current`` and ``previous`` warped into it, visible pixels only."""
    aligned = warp(previous.astype(np.float32), frame.flow_to_previous)
    difference = np.abs(current.astype(np.float32) - aligned).mean(axis=2)
    return float(difference[~frame.occluded].mean())

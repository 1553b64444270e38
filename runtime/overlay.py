"""Text panels drawn over a frame for the live window (OpenCV drawing; no window calls here).

Drawing happens on a copy, so what a recording or the pipeline holds is never painted over.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_PANEL_OPACITY = 0.6  # the picture stays visible behind the text


def font_scale(height: int) -> float:
    """Text size for a frame height: readable from 240p to 4K (0.4 at 360p, 1.2 at 2160p)."""
    return float(np.clip(height / 1800.0, 0.35, 1.2))


def draw_panel(image: Image, lines: Sequence[str], *, corner: str = "top-left") -> Image:
    """Return a copy of ``image`` with ``lines`` in a dark translucent box at ``corner``.

    Args:
        image: (H, W, 3) uint8 BGR frame (not modified).
        lines: text lines, top to bottom (empty: the copy is returned unpainted).
        corner: ``top-left``, ``top-right``, ``bottom-left`` or ``bottom-right``.
    """
    out = image.copy()
    if not lines:
        return out
    height, width = out.shape[:2]
    scale = font_scale(height)
    thickness = max(1, round(scale * 2))
    sizes = [cv2.getTextSize(line, _FONT, scale, thickness)[0] for line in lines]
    line_h = max(h for _, h in sizes) + max(4, round(8 * scale))
    pad = max(4, round(10 * scale))
    box_w = min(width, max(w for w, _ in sizes) + 2 * pad)
    box_h = min(height, line_h * len(lines) + pad)
    left = 0 if corner.endswith("left") else width - box_w
    top = 0 if corner.startswith("top") else height - box_h
    region = out[top : top + box_h, left : left + box_w]
    region[:] = cv2.addWeighted(region, 1.0 - _PANEL_OPACITY, np.zeros_like(region), _PANEL_OPACITY, 0.0)
    for row, line in enumerate(lines):
        baseline = top + pad // 2 + line_h * (row + 1) - max(2, round(4 * scale))
        cv2.putText(out, line, (left + pad, baseline), _FONT, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return out


def split_view(source: Image, stylized: Image) -> Image:
    """Left half the source, right half the stylized frame, with a thin white divider."""
    out = stylized.copy()
    width = out.shape[1]
    middle = width // 2
    out[:, :middle] = source[:, :middle]
    out[:, max(0, middle - 1) : middle + 1] = 255
    return out

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
    """Text size for a frame height: readable from 240p to 4K (0.4 at 480p and below, 0.6 at 720p, 0.9 at 1080p)."""
    return float(np.clip(height / 1200.0, 0.4, 1.6))


def display_font_scale(frame_height: int, shown_height: int | None) -> float:
    """Text size, in frame pixels, that reads as :func:`font_scale` of the height the frame is shown at.

    The window scales the frame to its own size: text drawn for the frame's height would shrink to
    nothing in a small window and blur to a giant in full screen, so it is sized for what is seen.
    """
    if not shown_height or shown_height <= 0:
        return font_scale(frame_height)
    return font_scale(shown_height) * frame_height / shown_height


def _thickness(scale: float) -> int:
    return max(1, round(scale * 1.5))


def _measure(text: str, scale: float) -> tuple[int, int]:
    return cv2.getTextSize(text, _FONT, scale, _thickness(scale))[0]


def _layout(cells: list[list[str]], scale: float) -> tuple[int, list[int], int]:
    """(second column's offset, each line's width, padding) of the panel's text at ``scale``."""
    gap = _measure("  ", scale)[0]
    column = max((_measure(cell[0], scale)[0] + gap for cell in cells if len(cell) == 2), default=0)
    widths = [column + _measure(cell[1], scale)[0] if len(cell) == 2 else _measure(cell[0], scale)[0] for cell in cells]
    return column, widths, max(1, round(10 * scale))


def draw_panel(image: Image, lines: Sequence[str], *, corner: str = "top-left", scale: float | None = None) -> Image:
    """Return a copy of ``image`` with ``lines`` in a dark translucent box at ``corner``.

    Args:
        image: (H, W, 3) uint8 BGR frame (not modified).
        lines: text lines, top to bottom (empty: the copy is returned unpainted). A tab splits a
            line into two aligned columns (OpenCV's font is proportional: spaces cannot align).
        corner: ``top-left``, ``top-right``, ``bottom-left`` or ``bottom-right``.
        scale: OpenCV font scale (default: :func:`font_scale` of the frame's height).
    """
    out = image.copy()
    if not lines:
        return out
    height, width = out.shape[:2]
    cells = [line.split("\t", 1) for line in lines]
    scale = font_scale(height) if scale is None else scale
    column, widths, pad = _layout(cells, scale)
    if max(widths) + 2 * pad > width:  # a narrow window: smaller text beats clipped text
        scale *= width / (max(widths) + 2 * pad)
        column, widths, pad = _layout(cells, scale)
    thickness = _thickness(scale)
    line_h = max(_measure(line, scale)[1] for line in lines) + max(1, round(10 * scale))
    box_w, box_h = min(width, max(widths) + 2 * pad), min(height, line_h * len(lines) + pad)
    left = 0 if corner.endswith("left") else width - box_w
    top = 0 if corner.startswith("top") else height - box_h
    region = out[top : top + box_h, left : left + box_w]
    region[:] = cv2.addWeighted(region, 1.0 - _PANEL_OPACITY, np.zeros_like(region), _PANEL_OPACITY, 0.0)
    for row, cell in enumerate(cells):
        baseline = top + pad // 2 + line_h * (row + 1) - max(1, round(5 * scale))
        for offset, text in zip((0, column), cell, strict=False):
            origin = (left + pad + offset, baseline)
            cv2.putText(out, text, origin, _FONT, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return out


def split_view(source: Image, stylized: Image) -> Image:
    """Left half the source, right half the stylized frame, with a thin white divider."""
    out = stylized.copy()
    width = out.shape[1]
    middle = width // 2
    out[:, :middle] = source[:, :middle]
    out[:, max(0, middle - 1) : middle + 1] = 255
    return out

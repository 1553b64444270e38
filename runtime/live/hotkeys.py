"""The live window's keys, in one table: the help overlay, ``stylecam live --help`` and the README list them.

No imports: the command's parser reads it without loading OpenCV or ONNX Runtime.
"""

from __future__ import annotations

# (keys, what they do) handled by the window itself (runtime/window.py).
WINDOW_KEYS = (
    ("q / Esc", "quit"),
    ("space", "pause / resume"),
    ("f", "fullscreen on / off"),
    ("h", "this help"),
    ("i", "info overlay on / off"),
)
# (keys, what they do) handled by the live stage (runtime/live.py).
STAGE_KEYS = (
    ("n / p", "next / previous style (several --model)"),
    ("s", "smoothing: none -> ema -> flow"),
    ("+ / -", "smoothing strength up / down"),
    ("o", "view: stylized -> split -> original"),
)

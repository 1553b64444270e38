"""The live experience: the window, its overlay and hotkeys, the style deck and the live controls.

May import ``inference``, ``media`` and ``temporal`` (and lower); never ``pipeline``, ``bench`` or ``cli``.
"""

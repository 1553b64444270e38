"""The main-thread stage of a run, and what the live window's hotkeys change in it.

``LiveControls`` is the ``stylize`` callable handed to the pipeline: the current style model
(:class:`~stylecam.runtime.live.style_deck.StyleDeck`), the look adjustments
(:class:`~stylecam.runtime.inference.look.Look`), temporal smoothing, then the view (stylized, split or
original). The window sink forwards the keys it does not handle itself to :meth:`on_key`, and
draws :meth:`status_lines` in its overlay. Without a window it is simply the pipeline's stage.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from stylecam.runtime.config import DEFAULT_ALPHA, SMOOTHING_MODES, LookConfig, SmoothingConfig, alpha_for_strength
from stylecam.runtime.inference.look import Look
from stylecam.runtime.inference.providers import SHORT_NAMES
from stylecam.runtime.live.hotkeys import STAGE_KEYS
from stylecam.runtime.live.overlay import split_view
from stylecam.runtime.live.style_deck import StyleDeck
from stylecam.runtime.temporal.smoothing import Submit, TemporalSmoother

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
VIEWS = ("stylized", "split", "original")
STRENGTH_STEP = 0.1
MAX_STRENGTH = 0.9  # beyond this the picture lags visibly behind the camera
HOTKEYS = STAGE_KEYS


class LiveControls:
    """Stylize, adjust, smooth and compose one frame; change those settings on a key press.

    Args:
        deck: the style models (the first is loaded already).
        look: strength, colour preservation and processing resolution.
        smoothing: the initial smoothing mode and alpha.
    """

    def __init__(
        self, deck: StyleDeck, look: LookConfig | None = None, smoothing: SmoothingConfig | None = None
    ) -> None:
        self.deck = deck
        self.look = Look(deck, look)
        self.smoother = TemporalSmoother(smoothing or SmoothingConfig())
        default = DEFAULT_ALPHA[self.smoother.config.mode]
        # An explicit strength stays when the mode changes; otherwise each mode uses its measured default.
        self._chosen_strength: float | None = None if self.smoother.config.alpha == default else self.strength
        self.view = "stylized"

    # -- the pipeline stage ----------------------------------------------------------------------
    def __call__(self, frame: Image) -> Image:
        self.deck.poll()  # a finished background load switches the style here, between frames
        if self.view == "original":
            return frame  # no model run: the original view also shows what the camera costs alone
        stylized = self.look(frame)
        if self.mode != "none":
            stylized = self.smoother(frame, stylized)
        return split_view(frame, stylized) if self.view == "split" else stylized

    def start_frame(self, frame: Image, submit: Submit) -> None:
        """Start the smoother's source half (optical flow) of ``frame`` on the pipeline's flow thread."""
        if self.view != "original":
            self.smoother.start_frame(frame, submit)

    # -- settings --------------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self.smoother.config.mode

    @property
    def strength(self) -> float:
        """Smoothing strength, 0-1 (``1 - alpha``)."""
        return self.smoother.config.strength

    def set_smoothing(self, mode: str | None = None, strength: float | None = None) -> None:
        """Change the smoothing mode and/or strength; a mode change restarts the smoother's history."""
        config = self.smoother.config
        mode = mode or config.mode
        if strength is not None:
            self._chosen_strength = strength
        chosen = self._chosen_strength
        alpha = DEFAULT_ALPHA[mode] if chosen is None or mode == "none" else alpha_for_strength(chosen)
        self.smoother.config = replace(config, mode=mode, alpha=alpha)
        if mode != config.mode:
            self.smoother.reset()  # ema keeps no flow history: never blend across modes

    def on_key(self, key: str) -> str | None:
        """Apply a hotkey (see HOTKEYS); returns a short message for the overlay, None if not ours."""
        if key in ("n", "p"):
            return self.deck.step(1 if key == "n" else -1) or f"style: {self.deck.name}"
        if key == "s":
            following = SMOOTHING_MODES[(SMOOTHING_MODES.index(self.mode) + 1) % len(SMOOTHING_MODES)]
            self.set_smoothing(mode=following)
            return f"smoothing: {self._smoothing_text()}"
        if key in ("+", "=", "-", "_"):
            if self.mode == "none":
                return "smoothing is off: press s to turn it on"
            step = STRENGTH_STEP if key in ("+", "=") else -STRENGTH_STEP
            self.set_smoothing(strength=round(float(np.clip(self.strength + step, 0.0, MAX_STRENGTH)), 2))
            return f"smoothing: {self._smoothing_text()}"
        if key == "o":
            self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
            if self.view == "original":
                self.smoother.reset()  # its history would be stale when the stylized view returns
            return f"view: {self.view}"
        return None

    # -- what the overlay shows -------------------------------------------------------------------
    @property
    def hotkeys(self) -> tuple[tuple[str, str], ...]:
        return HOTKEYS

    @property
    def provider(self) -> str:
        providers = self.deck.current.providers
        return SHORT_NAMES.get(providers[0], providers[0]) if providers else "?"

    def _smoothing_text(self) -> str:
        return "off" if self.mode == "none" else f"{self.mode} {self.strength:.1f}"

    def status_lines(self) -> list[str]:
        """Style, provider, smoothing and view, for the window overlay."""
        style = self.deck.name + (f" ({self.deck.index + 1}/{len(self.deck)})" if len(self.deck) > 1 else "")
        lines = [f"{style} | {self.provider}", f"smoothing {self._smoothing_text()} | view {self.view}"]
        if self.deck.loading:
            lines.append(f"loading {self.deck.loading}...")
        if self.deck.last_error:
            lines.append(self.deck.last_error[:80])
        return lines

"""One browser tab's state: what it asked for, its latest unprocessed frame, its results and counters.

The event loop (receiving, sending) and the inference worker (decoding, stylizing) both touch a
client; the rule is that the worker alone owns the smoother, and the frame slot is handed over
under the worker's lock. Settings are an immutable snapshot replaced whole, so the worker never
sees half an update. Results go back to the event loop through ``call_soon_threadsafe`` into a
one-result slot: a result the browser has not been sent yet is replaced by a newer one
(latest-frame semantics on the way back too).

Receiving never waits for sending: everything a tab is to be sent (replies, notes, the close)
waits in the client's outbox for the tab's one sender task. A tab whose replies back up (a slow
link, a browser busy elsewhere, a client that holds a lock while it sends) is still read, so it
cannot stall itself, and the outbox stays bounded: one reply and the newest notes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections import deque
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from stylecam.errors import UsageError
from stylecam.runtime.config import SMOOTHING_MODES, SmoothingConfig, alpha_for_strength
from stylecam.runtime.metrics import FPSMeter
from stylecam.runtime.temporal.smoothing import TemporalSmoother

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
VIEWS = ("stylized", "split")
MAX_SMOOTH_STRENGTH = 0.9  # the live window's cap: beyond it the picture lags behind the camera
MAX_NOTES = 64  # text messages waiting for a tab that does not read: the oldest go first
MAX_BAD_FRAMES = 25  # consecutive rejected frames before the tab is disconnected
# Close codes (RFC 6455): policy violation, message too big, unsupported data, try again later.
CLOSE_POLICY, CLOSE_TOO_BIG, CLOSE_UNSUPPORTED, CLOSE_FULL = 1008, 1009, 1003, 1013


@dataclass(frozen=True)
class ClientSettings:
    """What one tab asked for: style (index into the server's list), look, smoothing and view."""

    style: int = 0
    strength: float = 1.0
    preserve_color: bool = False
    smoothing: str = "flow"
    smooth_strength: float | None = None  # None: the mode's measured default
    view: str = "stylized"

    def smoothing_config(self) -> SmoothingConfig:
        if self.smoothing == "none" or self.smooth_strength == 0:
            return SmoothingConfig(mode="none")
        if self.smooth_strength is None:
            return SmoothingConfig(mode=self.smoothing)  # the mode's measured default
        return SmoothingConfig(mode=self.smoothing, alpha=alpha_for_strength(self.smooth_strength))


def _number(message: dict[str, Any], key: str, low: float, high: float) -> float:
    value = message[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise UsageError(f"{key} must be a number, got {value!r}")
    if not low <= value <= high:
        raise UsageError(f"{key} must be between {low:g} and {high:g}, got {value:g}")
    return float(value)


def updated_settings(current: ClientSettings, message: dict[str, Any], styles: int) -> ClientSettings:
    """``current`` with the keys of a ``settings`` message applied; UsageError naming the bad key."""
    changes: dict[str, Any] = {}
    if "style" in message:
        changes["style"] = int(_number(message, "style", 0, styles - 1))
    if "strength" in message:
        changes["strength"] = _number(message, "strength", 0, 1)
    if "preserve_color" in message:
        changes["preserve_color"] = bool(message["preserve_color"])
    if "smoothing" in message:
        if message["smoothing"] not in SMOOTHING_MODES:
            raise UsageError(f"smoothing must be one of {', '.join(SMOOTHING_MODES)}, got {message['smoothing']!r}")
        changes["smoothing"] = message["smoothing"]
    if "smooth_strength" in message:
        changes["smooth_strength"] = _number(message, "smooth_strength", 0, MAX_SMOOTH_STRENGTH)
    if "view" in message:
        if message["view"] not in VIEWS:
            raise UsageError(f"view must be one of {', '.join(VIEWS)}, got {message['view']!r}")
        changes["view"] = message["view"]
    unknown = sorted(set(message) - {"type", *ClientSettings.__dataclass_fields__})
    if unknown:
        raise UsageError(f"unknown setting {unknown[0]!r}")
    return replace(current, **changes)


class RateLimit:
    """Token bucket: ``rate`` frames a second on average, bursts of ``burst``."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(2.0, rate / 4)
        self._tokens = self.burst
        self._last = time.monotonic()

    def allow(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


@dataclass
class Pending:
    """A frame waiting for the worker: the JPEG as received (its header checked), or a decoded image.

    Decoding is left to the worker, so a frame replaced by a newer one before the worker got to it
    costs no decoding at all.
    """

    sequence: int
    frame: bytes | Image
    received: float


@dataclass
class Outgoing:
    """What a tab's sender task is to send now, in this order: notes, the newest reply, a close."""

    notes: list[str]
    reply: bytes | None
    close: tuple[int, str] | None


class Client:
    """One connected tab; see the module doc for who touches what.

    Args:
        client_id: a small number for logs and the stats page.
        loop: the event loop the tab's connection runs on (results are handed to it).
        settings: the starting settings.
        max_fps: the tab's frame rate limit.
    """

    def __init__(
        self, client_id: int, loop: asyncio.AbstractEventLoop, settings: ClientSettings, max_fps: float
    ) -> None:
        self.id = client_id
        self.loop = loop
        self.settings = settings
        self.limit = RateLimit(max_fps)
        self.connected = time.monotonic()
        self.closed = False
        self.pending: Pending | None = None  # under the worker's lock
        # Worker-only state.
        self.smoother = TemporalSmoother(settings.smoothing_config())
        self.style_used: int | None = None
        self.infer_ms = 0.0
        self.last_error: str | None = None
        # Counters (each written by one thread only).
        self.received = 0  # binary messages, good or bad
        self.rate_limited = 0
        self.rejected = 0
        self.dropped = 0  # stale frames replaced before the worker got to them
        self.processed = 0
        self.sent = 0
        self.replaced_results = 0  # results replaced before they could be sent
        self.bad_in_a_row = 0  # rejected frames since the last good one (event loop only)
        self._meter = FPSMeter(window=30)
        # The outbox (event loop only): filled by receiving, the worker's callbacks and the stats
        # ticker; emptied by the tab's sender task.
        self._result: bytes | None = None
        self._notes: deque[str] = deque(maxlen=MAX_NOTES)
        self._close: tuple[int, str] | None = None
        self._ready = asyncio.Event()

    # -- worker side ---------------------------------------------------------------------------
    def prepare_smoother(self) -> TemporalSmoother:
        """The smoother, reconfigured (history dropped) if the tab changed the smoothing settings."""
        config = self.settings.smoothing_config()
        if config != self.smoother.config:
            mode_changed = config.mode != self.smoother.config.mode
            self.smoother.config = config
            if mode_changed:
                self.smoother.reset()
        return self.smoother

    def deliver(self, payload: bytes) -> None:
        """Hand a finished reply to the event loop (from the worker thread); a gone tab is ignored."""
        self._call_loop(self._put, payload)

    def deliver_rejection(self, sequence: int, reason: str) -> None:
        """Tell the event loop that a frame could not be decoded (from the worker thread)."""
        self._call_loop(self.reject, sequence, reason)

    def _call_loop(self, callback: Any, *args: Any) -> None:
        if self.closed:
            return
        try:
            self.loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # the loop is closed: the server is shutting down
            self.closed = True

    # -- event loop side -----------------------------------------------------------------------
    def _put(self, payload: bytes) -> None:
        self.bad_in_a_row = 0
        if self._result is not None:
            self.replaced_results += 1
        self._result = payload
        self._ready.set()

    def post(self, message: dict[str, Any]) -> None:
        """Queue a text message for the tab (never waits; past :data:`MAX_NOTES` the oldest go)."""
        self._notes.append(json.dumps(message))
        self._ready.set()

    def skip(self, sequence: int, reason: str) -> None:
        """Tell the tab a frame was not stylized, and why."""
        self.post({"type": "skipped", "seq": sequence, "reason": reason})

    def reject(self, sequence: int, reason: str) -> None:
        """A bad frame: counted, the tab told why, and closed after :data:`MAX_BAD_FRAMES` in a row."""
        self.rejected += 1
        self.bad_in_a_row += 1
        self.skip(sequence, reason)
        if self.bad_in_a_row >= MAX_BAD_FRAMES:
            self.request_close(CLOSE_UNSUPPORTED, f"{MAX_BAD_FRAMES} bad frames in a row")

    def request_close(self, code: int, reason: str) -> None:
        """Ask the sender to close the tab once the notes before it are out (the first request wins)."""
        if self._close is None:
            self._close = (code, reason)
        self._ready.set()

    @property
    def closing(self) -> bool:
        return self._close is not None

    async def outgoing(self) -> Outgoing:
        """Wait until there is something to send, then take all of it."""
        while self._result is None and not self._notes and self._close is None:
            self._ready.clear()
            await self._ready.wait()
        reply, self._result = self._result, None
        notes = list(self._notes)
        self._notes.clear()
        return Outgoing(notes, reply, self._close)

    def mark_sent(self) -> None:
        self.sent += 1
        self._meter.tick()

    def stats(self, style_names: list[str], failed: dict[int, str]) -> dict[str, Any]:
        """Counters for the page and ``/api/stats`` (``failed``: styles that could not be loaded, and why)."""
        used = self.style_used
        wanted = self.settings.style
        loading = used is not None and used != wanted and wanted not in failed
        return {
            "client": self.id,
            "seconds": round(time.monotonic() - self.connected, 1),
            "received": self.received,
            "processed": self.processed,
            "sent": self.sent,
            "dropped": self.dropped,
            "rate_limited": self.rate_limited,
            "rejected": self.rejected,
            "fps": round(self._meter.fps, 2),
            "infer_ms": round(self.infer_ms, 1),
            "style": style_names[used] if used is not None else None,
            "loading": style_names[wanted] if loading else None,
            "error": failed.get(wanted) or self.last_error,
        }

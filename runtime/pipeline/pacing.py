"""Playing a file at its own frame rate: ``stylecam live`` on a video shows it, not races through it.

The reader thread waits until each frame's media time has come (measured from the first frame)
before handing it on. A pipeline that falls behind (a slow model, the window paused) plays on
from where it is instead of rushing to catch up, and a timestamp that jumps (a seek, a damaged
file) starts the schedule again, so no frame is ever held for long. Frames are never dropped:
pacing only waits. Cameras pace themselves and are never paced here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# Behind schedule by more than this: play on from here (no burst of frames to catch up).
MAX_LAG_S = 0.25
# A frame due further ahead than this is a timestamp jump, not a slow frame rate: re-anchor.
MAX_WAIT_S = 5.0
_SLICE_S = 0.05  # sleep in slices so a stop request is seen promptly


class Pacer:
    """Waits until each frame's media time has come on ``clock`` (both injectable for tests).

    Args:
        clock: monotonic seconds.
        sleep: sleeps for the given seconds.
        max_lag: how far behind schedule a frame may be before the schedule restarts from it.
        max_wait: the longest wait for one frame; a frame due later restarts the schedule.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        max_lag: float = MAX_LAG_S,
        max_wait: float = MAX_WAIT_S,
    ) -> None:
        self._clock, self._sleep, self.max_lag, self.max_wait = clock, sleep, max_lag, max_wait
        self._anchor: float | None = None  # clock time of media time 0
        self._last: float | None = None
        self.restarts = 0  # schedule restarts after the first frame (fell behind, timestamp jumps)

    def wait(self, media_time: float, stop: threading.Event | None = None) -> float:
        """Sleep until ``media_time`` is due; returns the seconds waited (0 when late or restarted)."""
        now = self._clock()
        last, self._last = self._last, media_time
        if self._anchor is None or last is None or media_time < last:
            self.restarts += self._anchor is not None
            self._anchor = now - media_time
            return 0.0
        due = self._anchor + media_time
        if due - now > self.max_wait or now - due > self.max_lag:
            self.restarts += 1
            self._anchor = now - media_time
            return 0.0
        waited = 0.0
        while due - now > 0 and not (stop is not None and stop.is_set()):
            step = min(due - now, _SLICE_S)
            self._sleep(step)
            waited += step
            now = self._clock()
        return waited

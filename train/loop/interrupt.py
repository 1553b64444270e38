"""Graceful stop: Ctrl-C (or SIGTERM from a scheduler or torchrun) finishes the step, then saves.

A KeyboardInterrupt raised in the middle of ``optimizer.step()`` could leave half-updated
weights, so the first signal only sets a flag that the training loop checks between steps. A
second Ctrl-C aborts at once (the last periodic checkpoint is then the one to resume from).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from types import FrameType

log = logging.getLogger(__name__)


class StopRequest:
    """A flag set by a signal handler (or by code, e.g. a test) and read between training steps."""

    def __init__(self) -> None:
        self.requested = False
        self.signal_name = ""

    def request(self, reason: str = "stop requested") -> None:
        self.requested = True
        self.signal_name = reason


@contextlib.contextmanager
def stop_on_signals(stop: StopRequest) -> Iterator[StopRequest]:
    """Within the block, SIGINT/SIGTERM set ``stop``; a second SIGINT raises KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield stop  # signal handlers can only be installed from the main thread
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        if stop.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.request(signal.Signals(signum).name)
        log.warning(
            "%s: finishing this step and saving a checkpoint (press Ctrl-C again to abort without saving)",
            signal.Signals(signum).name,
        )

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)

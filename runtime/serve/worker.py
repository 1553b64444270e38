"""The one inference thread of ``stylecam serve``: every tab's newest frame, in turn.

Each tab has a one-frame slot; a frame that arrives before the worker took the previous one
replaces it (counted as dropped), so a slow model shows the newest picture rather than a growing
backlog. The worker walks the tabs round-robin, starting after the one it served last, and takes
at most one frame from each per round: a tab sending 30 fps gets no more turns than one sending
5, and none waits longer than one frame of every other tab. One thread also means one model run
at a time, which is what a single GPU or a small CPU does best.
"""

from __future__ import annotations

import logging
import threading
import time

from stylecam.errors import StylecamError
from stylecam.runtime.config import LookConfig
from stylecam.runtime.inference.look import Look
from stylecam.runtime.live.overlay import split_view
from stylecam.runtime.serve.clients import Client, Pending
from stylecam.runtime.serve.frames import FrameRejected, decode_jpeg, encode_reply
from stylecam.runtime.serve.styles import StylePool

log = logging.getLogger(__name__)

IDLE_WAIT_S = 0.5  # how often an idle worker looks at the stop flag


class InferenceWorker:
    """Stylizes the tabs' frames on one thread; see the module doc.

    Args:
        pool: the style models.
        jpeg_quality: quality of the replies.
    """

    def __init__(self, pool: StylePool, *, jpeg_quality: int = 80) -> None:
        self.pool = pool
        self.jpeg_quality = jpeg_quality
        self.frames = 0
        self.failures = 0
        self._cond = threading.Condition()
        self._clients: list[Client] = []
        self._next = 0
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="stylecam-serve-worker", daemon=True)

    # -- clients (event loop thread) --------------------------------------------------------------
    @property
    def clients(self) -> list[Client]:
        with self._cond:
            return list(self._clients)

    def add(self, client: Client) -> None:
        with self._cond:
            self._clients.append(client)

    def remove(self, client: Client) -> None:
        with self._cond:
            client.closed = True
            client.pending = None
            if client in self._clients:
                self._clients.remove(client)

    def submit(self, client: Client, pending: Pending) -> None:
        """Put a tab's newest frame in its slot, replacing (and counting) one the worker has not taken."""
        with self._cond:
            if client.closed:
                return
            if client.pending is not None:
                client.dropped += 1
            client.pending = pending
            self._cond.notify()

    # -- the thread ----------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the frame in hand (idempotent); waits at most ``timeout`` s for it."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _take(self) -> tuple[Client, Pending] | None:
        with self._cond:
            while not self._stop:
                count = len(self._clients)
                for step in range(count):
                    index = (self._next + step) % count
                    client = self._clients[index]
                    if client.pending is not None:
                        pending, client.pending = client.pending, None
                        self._next = (index + 1) % count
                        return client, pending
                self._cond.wait(IDLE_WAIT_S)
        return None

    def _run(self) -> None:
        while (work := self._take()) is not None:
            client, pending = work
            try:
                self.process(client, pending)
            except Exception as exc:  # one bad frame or model error must not stop every tab
                self.failures += 1
                reason = str(exc) if isinstance(exc, StylecamError) else f"{type(exc).__name__}: {exc}"
                client.last_error = f"frame {pending.sequence} failed: {reason}"
                log.warning("client %d: %s", client.id, client.last_error, exc_info=log.isEnabledFor(logging.DEBUG))

    def process(self, client: Client, pending: Pending) -> None:
        """Decode, stylize, adjust, smooth and encode one frame, then hand it to the tab's connection."""
        started = time.perf_counter()
        if isinstance(pending.frame, bytes):
            try:
                image = decode_jpeg(pending.frame)
            except FrameRejected as exc:  # bad input from the tab, not a failure of the server
                client.deliver_rejection(pending.sequence, str(exc))
                return
        else:
            image = pending.frame
        settings = client.settings
        style, model = settings.style, self.pool.get(settings.style)
        if model is None:  # still loading (or broken): keep the tab's current style meanwhile
            loaded = self.pool.peek(client.style_used) if client.style_used is not None else None
            style, model = (client.style_used, loaded) if loaded is not None else self.pool.fallback()
        smoother = client.prepare_smoother()
        if client.style_used is not None and style != client.style_used:
            smoother.reset()  # never blend two styles
        look = LookConfig(strength=settings.strength, preserve_color=settings.preserve_color)
        out = Look(model, look)(image)
        if smoother.config.mode != "none":
            out = smoother(image, out)
        if settings.view == "split":
            out = split_view(image, out)
        payload = encode_reply(pending.sequence, out, self.jpeg_quality)
        client.style_used = style
        client.processed += 1
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        client.infer_ms = elapsed_ms if client.infer_ms == 0 else 0.8 * client.infer_ms + 0.2 * elapsed_ms
        self.frames += 1
        client.deliver(payload)

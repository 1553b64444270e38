"""The style models a server offers, loaded when first asked for and kept within a bound.

The first style loads up front (a bad model fails before the server starts). Any other loads on a
background thread the first time a tab picks it, while that tab keeps its previous style, so one
tab's switch never stalls the others. At most ``max_alive`` sessions stay loaded; the least
recently used one is closed to make room. Only the inference worker calls :meth:`StylePool.get`
and runs the models, so a model is never closed while it runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from stylecam.errors import StylecamError, UsageError

log = logging.getLogger(__name__)

MAX_ALIVE = 3


class StylePool:
    """Lazily loaded style models; see the module doc.

    Args:
        paths: the model files; a tab picks one by index.
        load: opens one model (e.g. ``lambda p: Stylizer(p, config)``).
        max_alive: sessions kept loaded at once (at least 2).
    """

    def __init__(self, paths: Sequence[Path], load: Callable[[Path], Any], *, max_alive: int = MAX_ALIVE) -> None:
        if not paths:
            raise UsageError("give at least one --model")
        self.paths = [Path(p) for p in paths]
        self._load = load
        self.max_alive = max(2, max_alive)
        self._loaded: OrderedDict[int, Any] = OrderedDict({0: load(self.paths[0])})
        self.providers: list[str] = list(getattr(self._loaded[0], "providers", []))  # the first model's
        self._lock = threading.Lock()
        self._loading: int | None = None
        self._done: dict[int, Any] = {}  # finished loads, handed over by the loader thread
        self.failed: dict[int, str] = {}  # index -> why it could not be loaded

    @property
    def names(self) -> list[str]:
        return [path.stem for path in self.paths]

    def get(self, index: int) -> Any | None:
        """The model for style ``index`` if loaded; else start loading it and return None (worker thread)."""
        self._adopt()
        model = self._loaded.get(index)
        if model is not None:
            self._loaded.move_to_end(index)
            return model
        with self._lock:
            if self._loading is None and index not in self.failed:
                self._loading = index
                threading.Thread(
                    target=self._background, args=(index,), name=f"stylecam-load-{self.paths[index].stem}", daemon=True
                ).start()
        return None

    def peek(self, index: int) -> Any | None:
        """The model for style ``index`` if it is loaded now (no load started)."""
        return self._loaded.get(index)

    def fallback(self) -> tuple[int, Any]:
        """The most recently used loaded model (for a tab whose style is still loading)."""
        index = next(reversed(self._loaded))
        return index, self._loaded[index]

    def _background(self, index: int) -> None:
        try:
            model = self._load(self.paths[index])
        except BaseException as exc:  # reported through `failed`; the server keeps running
            reason = str(exc) if isinstance(exc, StylecamError) else f"{type(exc).__name__}: {exc}"
            log.warning("cannot load style %s: %s", self.paths[index].name, reason)
            with self._lock:
                self.failed[index] = reason
                self._loading = None
            return
        with self._lock:
            self._done[index] = model
            self._loading = None

    def _adopt(self) -> None:
        with self._lock:
            done, self._done = self._done, {}
        for index, model in done.items():
            self._loaded[index] = model
            log.info("style %s loaded", self.paths[index].stem)
        while len(self._loaded) > self.max_alive:
            _, oldest = self._loaded.popitem(last=False)
            oldest.close()

    def wait_idle(self, timeout: float) -> bool:
        """Block until no load is running (tests); True if none is."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._loading is None:
                    return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        """Close every loaded model (a load still running ends with the process)."""
        self._adopt()
        for model in self._loaded.values():
            model.close()
        self._loaded.clear()

"""The style models of a live run, switched with n/p without stalling the picture.

Only the first model is loaded up front (so a bad one fails before the camera opens). The others
load when asked for, on a background thread, while the current style keeps running; the switch
happens on the next frame after the load finishes. At most two sessions are alive at any time
(the current one, plus the one loading or the one just left, so going back is instant): a GPU
holds a few hundred MB per session and a laptop GPU has little to spare.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from stylecam.errors import StylecamError, UsageError

log = logging.getLogger(__name__)

MAX_ALIVE = 2


class StyleModel(Protocol):
    """What the deck needs of a loaded model (a :class:`~stylecam.runtime.inference.stylizer.Stylizer`)."""

    @property
    def providers(self) -> list[str]: ...

    def __call__(self, frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]: ...

    def close(self) -> None: ...


class _Load:
    """One background load: the thread, and its result or error once done."""

    def __init__(self, index: int, path: Path, load: Callable[[Path], StyleModel]) -> None:
        self.index = index
        self.model: StyleModel | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(
            target=self._run, args=(path, load), name=f"stylecam-load-{path.stem}", daemon=True
        )
        self.thread.start()

    def _run(self, path: Path, load: Callable[[Path], StyleModel]) -> None:
        try:
            self.model = load(path)
        except BaseException as exc:  # reported on the main thread by poll()
            self.error = exc
        finally:
            self.done.set()


class StyleDeck:
    """Several style models, one current; see the module doc.

    Args:
        paths: the model files, in the order n/p walk through them.
        load: opens one model (e.g. ``lambda p: Stylizer(p, config)``); called on a background thread
            for every model but the first.
    """

    def __init__(self, paths: Sequence[Path], load: Callable[[Path], StyleModel]) -> None:
        if not paths:
            raise UsageError("give at least one --model")
        self.paths = [Path(p) for p in paths]
        self._open = load
        self.index = 0
        self.target = 0
        self._loaded: dict[int, StyleModel] = {0: load(self.paths[0])}
        self._pending: _Load | None = None
        self.last_error: str | None = None  # the last failed load, for the overlay
        self._broken: set[int] = set()

    # -- what is running -----------------------------------------------------------------------
    @property
    def current(self) -> StyleModel:
        return self._loaded[self.index]

    @property
    def name(self) -> str:
        return self.paths[self.index].stem

    @property
    def loading(self) -> str | None:
        """The name of the style being loaded, if any."""
        return None if self._pending is None else self.paths[self._pending.index].stem

    @property
    def alive(self) -> int:
        """Sessions held now (loaded ones plus the one loading): never more than two."""
        return len(self._loaded) + (self._pending is not None and not self._pending.done.is_set())

    def __len__(self) -> int:
        return len(self.paths)

    def __call__(self, frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """Stylize with the current model, switching first if a requested load has finished."""
        self.poll()
        return self.current(frame)

    # -- switching -----------------------------------------------------------------------------
    def step(self, delta: int) -> str | None:
        """Ask for the next (+1) or previous (-1) style; returns what the overlay should say."""
        if len(self.paths) < 2:
            return "only one style: give --model several times to switch"
        target = self.target
        for _ in range(len(self.paths)):
            target = (target + delta) % len(self.paths)
            if target not in self._broken:
                break
        if target == self.index and self.target == self.index:
            return "no other style could be loaded"
        self.target = target
        self.poll()
        return f"loading {self.paths[self.target].stem}..." if self.index != self.target else None

    def poll(self) -> bool:
        """Finish a completed load and start the next wanted one; True if the current style changed."""
        changed = False
        pending = self._pending
        if pending is not None and pending.done.is_set():
            self._pending = None
            if pending.model is not None:
                self._loaded[pending.index] = pending.model
                self._evict(keep={self.index, pending.index})
                changed = self._switch(pending.index) if pending.index == self.target else False
            else:
                self._broken.add(pending.index)  # skipped from now on: one bad file must not block the others
                self._report(pending.index, pending.error)
                if self.target == pending.index:
                    self.target = self.index
        if self.target != self.index and self.target in self._loaded:
            changed = self._switch(self.target) or changed
        elif self.target != self.index and self._pending is None:
            self._evict(keep={self.index})  # the current one plus the one about to load: two at most
            self._pending = _Load(self.target, self.paths[self.target], self._open)
        return changed

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a pending load is done (tests, benchmarks); then poll. True if it finished."""
        pending = self._pending
        if pending is not None and not pending.done.wait(timeout):
            return False
        self.poll()
        return True

    def _switch(self, index: int) -> bool:
        self.index = index
        self.last_error = None
        log.info("style: %s (%s)", self.name, ", ".join(self.current.providers))
        return True

    def _evict(self, keep: set[int]) -> None:
        for index in [i for i in self._loaded if i not in keep]:
            self._loaded.pop(index).close()

    def _report(self, index: int, error: BaseException | None) -> None:
        reason = str(error) if isinstance(error, StylecamError) else f"{type(error).__name__}: {error}"
        self.last_error = f"cannot load {self.paths[index].name}: {reason}"
        log.warning("%s; staying with %s", self.last_error, self.name)

    def close(self) -> None:
        """Release every session; a load still running is closed by its thread's owner when done."""
        pending, self._pending = self._pending, None
        if pending is not None and pending.done.wait(timeout=0):
            if pending.model is not None:
                pending.model.close()
        elif pending is not None:
            # A session still being built (a TensorRT engine can take minutes): don't wait for it;
            # the daemon thread ends with the process and its session is garbage-collected.
            log.debug("style %s was still loading at exit", self.paths[pending.index].stem)
        for model in self._loaded.values():
            model.close()
        self._loaded.clear()

    def __enter__(self) -> StyleDeck:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

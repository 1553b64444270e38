"""StyleDeck: lazy background loads, at most two sessions alive, instant way back, failed loads reported."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from stylecam.errors import ModelLoadError, UsageError
from stylecam.runtime.live.style_deck import StyleDeck


class FakeModel:
    def __init__(self, path: Path) -> None:
        self.path, self.closed = path, False

    @property
    def providers(self) -> list[str]:
        return ["CPUExecutionProvider"]

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        assert not self.closed, f"{self.path.name} used after close"
        return np.full_like(frame, int(self.path.stem[-1]))  # style1 -> 1, style2 -> 2, ...

    def close(self) -> None:
        self.closed = True


class Loader:
    """Loads FakeModels; ``gate`` (if set) holds loads until released; ``broken`` names fail."""

    def __init__(self, broken: tuple[str, ...] = ()) -> None:
        self.models: list[FakeModel] = []
        self.broken = broken
        self.gate: threading.Event | None = None
        self.threads: list[str] = []

    def __call__(self, path: Path) -> FakeModel:
        self.threads.append(threading.current_thread().name)
        if self.gate is not None:
            assert self.gate.wait(10)
        if path.name in self.broken:
            raise ModelLoadError(f"{path.name} is damaged; re-export it")
        model = FakeModel(path)
        self.models.append(model)
        return model

    def alive(self) -> int:
        return sum(not m.closed for m in self.models)


PATHS = [Path(f"style{i}.onnx") for i in (1, 2, 3)]
FRAME = np.zeros((4, 4, 3), np.uint8)


def test_only_the_first_model_loads_up_front_on_the_calling_thread() -> None:
    loader = Loader()
    deck = StyleDeck(PATHS, loader)
    assert [m.path.name for m in loader.models] == ["style1.onnx"]
    assert loader.threads == [threading.current_thread().name]
    assert deck(FRAME)[0, 0, 0] == 1 and deck.name == "style1"


def test_switching_loads_in_the_background_while_the_current_style_keeps_running() -> None:
    loader = Loader()
    deck = StyleDeck(PATHS, loader)
    loader.gate = threading.Event()
    assert deck.step(+1) == "loading style2..."
    assert deck.loading == "style2"
    assert deck(FRAME)[0, 0, 0] == 1  # not stalled: the old style answers while style2 loads
    loader.gate.set()
    assert deck.wait(10)
    assert deck(FRAME)[0, 0, 0] == 2 and deck.loading is None
    assert loader.threads[-1].startswith("stylecam-load")


def test_never_more_than_two_sessions_and_going_back_is_instant() -> None:
    loader = Loader()
    deck = StyleDeck(PATHS, loader)
    for _ in range(5):  # 1 -> 2 -> 3 -> 1 -> 2 -> 3
        deck.step(+1)
        assert deck.alive <= 2 and loader.alive() <= 2
        deck.wait(10)
        assert loader.alive() <= 2
    assert deck.name == "style3"
    loads = len(loader.models)
    deck.step(-1)  # style2 is the one just left: still loaded
    assert deck.name == "style2" and len(loader.models) == loads


def test_a_model_that_fails_to_load_is_reported_and_the_current_style_stays() -> None:
    loader = Loader(broken=("style2.onnx",))
    deck = StyleDeck(PATHS, loader)
    deck.step(+1)
    deck.wait(10)
    assert deck.name == "style1" and deck.target == deck.index
    assert deck.last_error is not None and "style2.onnx is damaged" in deck.last_error
    deck.step(+1)  # the broken one is skipped from now on
    deck.wait(10)
    assert deck.name == "style3" and deck.last_error is None
    assert [m.path.name for m in loader.models] == ["style1.onnx", "style3.onnx"]
    deck.step(+1)
    assert deck.name == "style1"  # still loaded: back without a load


def test_when_every_other_model_is_broken_the_deck_says_so() -> None:
    deck = StyleDeck(PATHS[:2], Loader(broken=("style2.onnx",)))
    deck.step(+1)
    deck.wait(10)
    assert deck.step(+1) == "no other style could be loaded" and deck.name == "style1"


def test_one_model_cannot_switch_and_says_how() -> None:
    deck = StyleDeck(PATHS[:1], Loader())
    assert "give --model several times" in (deck.step(+1) or "")
    with pytest.raises(UsageError, match="at least one --model"):
        StyleDeck([], Loader())


def test_close_releases_every_session() -> None:
    loader = Loader()
    with StyleDeck(PATHS, loader) as deck:
        deck.step(+1)
        deck.wait(10)
    assert loader.alive() == 0

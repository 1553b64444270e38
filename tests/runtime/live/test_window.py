"""The live window: hotkeys change the stage and the window, the overlay shows the live numbers.

No display: keys go in through a fake HighGUI module, and what it was asked to show is checked.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from stylecam.runtime.config import LookConfig, SmoothingConfig
from stylecam.runtime.live.controls import LiveControls
from stylecam.runtime.live.hotkeys import STAGE_KEYS, WINDOW_KEYS
from stylecam.runtime.live.style_deck import StyleDeck
from stylecam.runtime.live.window import WindowSink
from stylecam.runtime.media.sources import Frame
from stylecam.runtime.media.video_info import VideoInfo
from stylecam.runtime.pipeline.sinks import TeeSink, VideoFileSink
from tests.conftest import make_photo
from tests.runtime.clips import decode_all

SPACE, ESC = ord(" "), 27


class Gui:
    """Fake HighGUI: ``keys`` are what waitKey returns in turn; everything shown is kept."""

    def __init__(self, keys: list[int | str]) -> None:
        self.keys = [ord(k) if isinstance(k, str) else k for k in keys]
        self.shown: list[np.ndarray] = []
        self.properties: list[tuple[int, float]] = []
        self.waits = 0
        self.flags: int | None = None
        self.size: tuple[int, int] | None = None  # the window's (width, height): resizeWindow's last call

    def namedWindow(self, title: str, flags: int) -> None:  # OpenCV's camelCase names
        self.flags = flags

    def resizeWindow(self, title: str, width: int, height: int) -> None:
        self.size = (width, height)

    def getWindowImageRect(self, title: str) -> tuple[int, int, int, int]:
        return (0, 0, *self.size) if self.size else (-1, -1, -1, -1)

    def imshow(self, title: str, image: np.ndarray) -> None:
        self.shown.append(image.copy())

    def waitKey(self, delay: int) -> int:
        self.waits += 1
        return self.keys.pop(0) if self.keys else -1

    def getWindowProperty(self, title: str, prop: int) -> float:
        return 1.0

    def setWindowProperty(self, title: str, prop: int, value: float) -> None:
        self.properties.append((prop, value))

    def setWindowTitle(self, title: str, text: str) -> None:
        pass

    def destroyWindow(self, title: str) -> None:
        pass


class Model:
    """A style: inverts (style1) or keeps (style2) the frame."""

    def __init__(self, path: Path) -> None:
        self.invert = path.stem == "style1"

    @property
    def providers(self) -> list[str]:
        return ["CPUExecutionProvider"]

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        return 255 - frame if self.invert else frame.copy()

    def close(self) -> None:
        pass


def controls(smooth: str = "flow", models: int = 2) -> LiveControls:
    deck = StyleDeck([Path(f"style{i + 1}.onnx") for i in range(models)], Model)
    return LiveControls(deck, LookConfig(), SmoothingConfig(mode=smooth))


def frame(index: int = 0, captured: float | None = None, height: int = 72) -> Frame:
    image = make_photo(height, height * 16 // 9, seed=index)
    return Frame(image=image, index=index, time=index / 30, captured=captured)


def show(keys: list[int | str], stage: LiveControls | None = None, frames: int = 1) -> tuple[WindowSink, Gui]:
    gui = Gui(keys)
    stage = stage or controls()
    with WindowSink(gui=gui, controls=stage) as sink:
        for index in range(frames):
            source = frame(index)
            sink.write(source.with_image(stage(source.image)))
            if sink.stop_requested:  # what the pipeline does
                break
    return sink, gui


@pytest.mark.parametrize(
    ("keys", "mode", "strength", "view"),
    [
        ([], "flow", 0.6, "stylized"),
        (["s"], "none", 0.0, "stylized"),
        (["s", "s"], "ema", 0.5, "stylized"),
        (["s", "s", "s"], "flow", 0.6, "stylized"),
        (["+"], "flow", 0.7, "stylized"),
        (["-", "-", "="], "flow", 0.5, "stylized"),
        (["+", "+", "+", "+", "+"], "flow", 0.9, "stylized"),  # capped: more would lag visibly
        (["-", "s", "s", "s"], "flow", 0.5, "stylized"),  # a chosen strength survives a mode change
        (["o"], "flow", 0.6, "split"),
        (["o", "o"], "flow", 0.6, "original"),
        (["o", "o", "o"], "flow", 0.6, "stylized"),
    ],
)
def test_stage_keys(keys: list[str], mode: str, strength: float, view: str) -> None:
    stage = controls()
    show(keys, stage, frames=len(keys) + 1)
    assert (stage.mode, stage.strength, stage.view) == (mode, pytest.approx(strength), view)


def test_n_and_p_switch_styles_without_stalling() -> None:
    stage = controls()
    show(["n"], stage, frames=1)
    assert stage.deck.wait(10)
    assert stage.deck.name == "style2"
    source = make_photo(8, 8)
    stage.set_smoothing(mode="none")
    assert np.array_equal(stage(source), source)  # style2 keeps the frame; style1 inverted it
    show(["p"], stage, frames=1)
    assert stage.deck.name == "style1"  # still loaded: back at once


@pytest.mark.parametrize(
    ("key", "attribute", "value"),
    [("f", "fullscreen", True), ("h", "show_help", True), ("i", "show_info", False)],
)
def test_window_keys(key: str, attribute: str, value: bool) -> None:
    sink, gui = show([key])
    assert getattr(sink, attribute) is value
    assert gui.properties == ([(cv2.WND_PROP_FULLSCREEN, cv2.WINDOW_FULLSCREEN)] if key == "f" else [])


@pytest.mark.parametrize("key", [ord("q"), ESC])
def test_quit_keys_stop_the_run(key: int) -> None:
    sink, _ = show([key])
    assert sink.stop_requested


def test_space_pauses_on_the_same_frame_until_pressed_again() -> None:
    sink, gui = show([SPACE, -1, -1, SPACE], frames=1)
    assert sink.frames == 1 and not sink.paused
    assert len(gui.shown) == 4 and gui.keys == []  # shown again while paused, every key read
    assert np.array_equal(gui.shown[1][40:], gui.shown[3][40:])  # the same picture below the overlay


def test_quit_works_while_paused() -> None:
    sink, _ = show([SPACE, -1, ord("q")], frames=3)
    assert sink.stop_requested and sink.frames == 1


def test_overlay_shows_rate_latency_style_provider_and_smoothing() -> None:
    gui = Gui([])
    stage = controls(smooth="none")  # no smoothing history: the frame can be stylized again below
    with WindowSink(gui=gui, controls=stage) as sink:
        for index in range(3):
            source = frame(index, captured=time.monotonic() - 0.05, height=360)  # captured 50 ms ago
            sink.write(source.with_image(stage(source.image)))
            time.sleep(0.01)
        lines = sink.overlay_lines()
    assert lines[0].endswith(" fps | latency " + lines[0].split("latency ")[1]) and float(lines[0].split()[0]) > 0
    assert sink.latency_ms is not None and 50 <= sink.latency_ms < 10_000
    assert lines[1] == "style1 (1/2) | cpu" and lines[2] == "smoothing off | view stylized"
    shown, plain = gui.shown[-1], stage(frame(2, height=360).image)
    assert not np.array_equal(shown[:20, :60], plain[:20, :60])  # text panel drawn top left
    assert np.array_equal(shown[-20:, -40:], plain[-20:, -40:])  # the rest of the picture untouched


def test_help_lists_every_key_and_info_off_leaves_the_picture_clean() -> None:
    sink, _ = show(["h"])
    help_text = "\n".join(sink.overlay_lines())
    assert all(keys in help_text and action in help_text for keys, action in WINDOW_KEYS + STAGE_KEYS)
    stage = controls(smooth="none")
    sink, gui = show(["i", -1], stage, frames=2)
    assert np.array_equal(gui.shown[-1], 255 - frame(1).image)  # no overlay: exactly the stylized frame


def test_a_key_confirms_its_change_on_screen() -> None:
    sink, _ = show(["s"], frames=2)
    assert "smoothing: off" in sink.overlay_lines()


@pytest.mark.parametrize("view", ["stylized", "split", "original"])
def test_views(view: str) -> None:
    stage = controls(smooth="none")
    stage.view = view
    source = make_photo(20, 30)
    out = stage(source)
    left, right = out[:, :14], out[:, 16:]
    assert np.array_equal(left, source[:, :14] if view != "stylized" else 255 - source[:, :14])
    assert np.array_equal(right, source[:, 16:] if view == "original" else 255 - source[:, 16:])


def test_window_without_controls_still_quits_and_shows_fps() -> None:
    gui: Any = Gui([-1, ord("n"), ord("q")])
    with WindowSink(gui=gui) as sink:
        for index in range(3):
            sink.write(frame(index))
    assert sink.stop_requested and sink.frames == 3
    assert sink.overlay_lines()[-1] == "h: help"


def test_tee_records_what_the_pipeline_made_without_the_overlay(tmp_path: Path) -> None:
    gui, target = Gui([]), tmp_path / "rec.mp4"
    bright = [frame(index, height=180) for index in range(5)]  # bright: the overlay's dark panel shows plainly
    frames = [item.with_image(np.clip(item.image.astype(int) + 100, 0, 255).astype(np.uint8)) for item in bright]
    with TeeSink(WindowSink(gui=gui), VideoFileSink(target, VideoInfo(width=320, height=180, fps=30.0))) as sink:
        for item in frames:
            sink.write(item)
    recorded = decode_all(target)
    assert len(recorded) == len(gui.shown) == 5
    panel = (slice(0, 20), slice(0, 40))  # inside the smallest panel ("N fps", "h: help")
    assert np.abs(recorded[4][panel].astype(int) - frames[4].image[panel]).mean() < 6  # no text in the file
    assert np.abs(gui.shown[4][panel].astype(int) - frames[4].image[panel]).mean() > 30  # the panel in the window


def test_tee_keeps_a_playable_partial_on_ctrl_c_and_closes_the_window(tmp_path: Path) -> None:
    gui, target = Gui([]), tmp_path / "rec.mp4"
    closed: list[str] = []
    gui.destroyWindow = closed.append  # type: ignore[method-assign]
    recorder = VideoFileSink(target, VideoInfo(width=128, height=72, fps=30.0))
    with pytest.raises(KeyboardInterrupt), TeeSink(WindowSink(gui=gui), recorder) as sink:
        for index in range(4):
            sink.write(frame(index))
        deadline = time.monotonic() + 30
        while recorder.frames < 1 and time.monotonic() < deadline:  # the writer thread has encoded something
            time.sleep(0.01)
        raise KeyboardInterrupt
    assert not target.exists() and 1 <= len(decode_all(tmp_path / "rec.partial.mp4")) <= 4
    assert closed == ["stylecam"]


# -- the window itself: no toolbar, sized to fit the screen, text sized for what is shown ---------------
def test_the_window_has_no_toolbar_keeps_its_ratio_and_opens_fitted_to_the_screen() -> None:
    gui = Gui([])
    with WindowSink(gui=gui, screen=lambda: (1280, 800)) as sink:
        sink.write(frame(0, height=1080))  # 1920x1080 on a 1280x800 screen
    assert gui.flags is not None and gui.flags & cv2.WINDOW_GUI_NORMAL  # no Qt toolbar or status bar
    assert not gui.flags & (cv2.WINDOW_AUTOSIZE | cv2.WINDOW_FREERATIO)  # resizable, aspect ratio kept
    assert gui.size == (1152, 648)  # 90% of the screen's width, the frame's aspect kept
    gui = Gui([])
    with WindowSink(gui=gui, screen=lambda: None) as sink:
        sink.write(frame(0, height=90))
    assert gui.size == (160, 90)  # no screen size known: the frame's own size


def _panel_height(shown: np.ndarray, plain: np.ndarray) -> int:
    changed = np.abs(shown.astype(int) - plain.astype(int)).sum(axis=2) > 30
    rows = np.flatnonzero(changed.any(axis=1))
    return int(rows.max()) + 1 if rows.size else 0


def _on_screen_panel(frame_height: int, window_height: int) -> float:
    """Height, in screen pixels, of the overlay panel for a frame shown in a window this high."""
    gui = Gui([])
    source = frame(0, height=frame_height)
    with WindowSink(gui=gui, screen=lambda: None) as sink:
        sink.write(source)
        gui.size = (window_height * 16 // 9, window_height)  # the user resizes the window
        sink.write(source)
    return _panel_height(gui.shown[-1], source.image) * window_height / frame_height


@pytest.mark.parametrize(("frame_height", "window_height"), [(1080, 270), (270, 1080), (720, 1440)])
def test_overlay_text_is_sized_for_the_window_not_the_frame(frame_height: int, window_height: int) -> None:
    """Text looks the same size on screen whatever the frame's resolution: it follows the window."""
    assert _on_screen_panel(frame_height, window_height) == pytest.approx(
        _on_screen_panel(window_height, window_height), abs=4
    )
    assert _on_screen_panel(1080, 270) >= 15  # drawn for the frame, it would have shrunk to ~6 px


def test_help_fits_a_narrow_window() -> None:
    gui = Gui(["h"])
    black = Frame(image=np.zeros((90, 160, 3), np.uint8), index=0, time=0.0)  # only the text will be bright
    with WindowSink(gui=gui, controls=controls(), screen=lambda: None) as sink:
        sink.write(black)
        sink.write(black)
    text = gui.shown[-1].max(axis=2) > 100
    assert text.sum() > 200  # the help is there ...
    assert not text[:, -1].any()  # ... and no line runs off the right edge (it would at the usual size)

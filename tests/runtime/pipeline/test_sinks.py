"""Window, image and null sinks."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from stylecam.errors import OutputError, UsageError
from stylecam.runtime.media.sources import Frame
from stylecam.runtime.pipeline.sinks import ImageSink, NullSink, WindowSink, display_problem


def _frame(alpha: bool = False) -> Frame:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    mask = rng.integers(0, 256, (24, 32), dtype=np.uint8) if alpha else None
    return Frame(image=image, index=0, time=0.0, alpha=mask)


class FakeGui:
    """Records HighGUI calls; ``keys`` are what waitKey returns, ``visible`` what the window reports."""

    def __init__(self, keys: list[int], visible: list[float] | None = None, fail: bool = False) -> None:
        self.keys, self.visible, self.fail = list(keys), list(visible or []), fail
        self.calls: list[str] = []

    def namedWindow(self, title: str, flags: int) -> None:  # OpenCV's camelCase names
        if self.fail:
            raise cv2.error("OpenCV(5.0) window.cpp:1: error: (-2:Unspecified error) The function is not implemented")
        self.calls.append("namedWindow")

    def imshow(self, title: str, image: Any) -> None:
        self.calls.append("imshow")

    def resizeWindow(self, title: str, width: int, height: int) -> None:  # the window opens at the frame's size
        self.calls.append("resizeWindow")

    def getWindowImageRect(self, title: str) -> tuple[int, int, int, int]:
        return (-1, -1, -1, -1)  # as a backend that cannot tell

    def waitKey(self, delay: int) -> int:
        return self.keys.pop(0) if self.keys else -1

    def getWindowProperty(self, title: str, prop: int) -> float:
        return self.visible.pop(0) if self.visible else 1.0

    def setWindowTitle(self, title: str, text: str) -> None:
        self.calls.append("title")

    def destroyWindow(self, title: str) -> None:
        self.calls.append("destroyWindow")


@pytest.mark.parametrize(
    ("keys", "visible", "stops_after"),
    [
        ([-1, -1, ord("q")], None, 3),
        ([-1, 27], None, 2),
        ([ord("Q") | 0x100000], None, 1),  # some toolkits set high bits on key codes
        ([-1, -1, -1], [1.0, 0.0], 2),  # closed with the window's own button
        ([ord("x"), -1, -1, -1], None, None),
    ],
    ids=["q", "esc", "modifier-bits", "closed", "other-key"],
)
def test_window_stops_on_q_esc_or_close(keys: list[int], visible: list[float] | None, stops_after: int | None) -> None:
    gui = FakeGui(keys, visible)
    written = 0
    with WindowSink(gui=gui) as sink:
        while written < 4 and not sink.stop_requested:
            sink.write(_frame())
            written += 1
    assert (written if sink.stop_requested else None) == stops_after
    assert gui.calls[0] == "namedWindow" and gui.calls[-1] == "destroyWindow"


def test_window_without_gui_support_suggests_the_alternatives() -> None:
    with pytest.raises(
        UsageError, match=r"OpenCV cannot open a window .*; write a file with --output out.mp4, or add --no-window"
    ):
        WindowSink(gui=FakeGui([], fail=True)).__enter__()


def test_headless_machine_is_refused_before_any_window_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("stylecam.runtime.live.window.sys.platform", "linux")
    with pytest.raises(UsageError, match=r"no display to open a window on .*--no-window"):
        WindowSink().__enter__()


@pytest.mark.parametrize(
    ("environ", "platform", "headless"),
    [
        ({}, "linux", True),
        ({"DISPLAY": ":0"}, "linux", False),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
        ({}, "darwin", False),
        ({}, "win32", False),
    ],
)
def test_display_problem(environ: dict[str, str], platform: str, headless: bool) -> None:
    assert (display_problem(environ, platform) is not None) == headless


def test_image_sink_puts_the_alpha_back(tmp_path: Path) -> None:
    target = tmp_path / "out.png"
    frame = _frame(alpha=True)
    with ImageSink(target) as sink:
        sink.write(frame)
    written = cv2.imread(str(target), cv2.IMREAD_UNCHANGED)
    assert written.shape == (24, 32, 4)
    assert np.array_equal(written[..., 3], frame.alpha) and np.array_equal(written[..., :3], frame.image)


def test_image_sink_to_jpeg_drops_alpha_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING), ImageSink(tmp_path / "out.jpg") as sink:
        sink.write(_frame(alpha=True))
    assert "cannot store transparency" in caplog.text
    assert cv2.imread(str(tmp_path / "out.jpg"), cv2.IMREAD_UNCHANGED).shape == (24, 32, 3)


def test_image_sink_writes_nothing_on_error(tmp_path: Path) -> None:
    target = tmp_path / "out.png"
    with pytest.raises(RuntimeError), ImageSink(target) as sink:
        sink.write(_frame())
        raise RuntimeError("stylizer failed")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("name", "error"), [("out.gif", UsageError), ("missing/out.png", OutputError)])
def test_image_sink_checks_the_target_first(tmp_path: Path, name: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        ImageSink(tmp_path / name)


def test_null_sink_counts() -> None:
    with NullSink() as sink:
        for _ in range(3):
            sink.write(_frame())
    assert sink.frames == 3 and sink.last is not None and not sink.threaded

"""The live window's desktop helpers: fitting to the screen, Qt's font folder, the GUI backend name."""

from __future__ import annotations

from pathlib import Path

import pytest

from stylecam.runtime.live import screen
from stylecam.runtime.live.screen import fit_to_screen, gui_backend, prepare_qt, system_font_dir


@pytest.mark.parametrize(
    ("frame", "display", "expected"),
    [
        ((640, 480), (1920, 1080), (640, 480)),  # fits: the frame's own size, never enlarged
        ((3840, 2160), (1920, 1080), (1728, 972)),  # 4K on a 1080p screen: 90% of it
        ((1080, 1920), (1920, 1080), (547, 972)),  # portrait: the height decides
        ((640, 480), None, (640, 480)),  # no screen size known
    ],
)
def test_fit_to_screen(frame: tuple[int, int], display: tuple[int, int] | None, expected: tuple[int, int]) -> None:
    assert fit_to_screen(*frame, display) == expected


def test_gui_backend_reads_the_build_information() -> None:
    info = "  GUI:                           QT5\n    QT:                          YES (ver 5.15)\n"
    assert gui_backend(info) == "QT5" and gui_backend("nothing") == ""


def test_qt_gets_the_system_fonts_only_when_unset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "DejaVuSans.ttf").write_bytes(b"")
    monkeypatch.setattr(screen, "FONT_DIRS", (str(tmp_path / "missing"), str(tmp_path)))
    monkeypatch.setattr(screen.sys, "platform", "linux")
    env: dict[str, str] = {}
    prepare_qt("QT5", env)
    assert env == {"QT_QPA_FONTDIR": str(tmp_path)}
    mine = {"QT_QPA_FONTDIR": "/my/fonts"}
    prepare_qt("QT5", mine)
    assert mine == {"QT_QPA_FONTDIR": "/my/fonts"}  # the user's choice stands
    other: dict[str, str] = {}
    prepare_qt("GTK3", other)
    assert other == {}  # not Qt: nothing to do


def test_no_fonts_anywhere_leaves_qt_alone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(screen.sys, "platform", "linux")
    assert system_font_dir((str(tmp_path),), str(tmp_path / "**" / "*.ttf")) is None
    monkeypatch.setattr(screen, "system_font_dir", lambda: None)
    env: dict[str, str] = {}
    prepare_qt("QT5", env)
    assert env == {}


def test_fonts_in_a_subfolder_are_found(tmp_path: Path) -> None:
    (tmp_path / "noto").mkdir()
    (tmp_path / "noto" / "Noto.ttf").write_bytes(b"")
    assert system_font_dir((str(tmp_path / "none"),), str(tmp_path / "**" / "*.ttf")) == str(tmp_path / "noto")


def test_screen_size_is_none_without_a_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(screen.sys, "platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    assert screen.screen_size() is None

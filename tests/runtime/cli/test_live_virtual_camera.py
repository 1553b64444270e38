"""`stylecam live --virtual-camera` end to end with a fake pyvirtualcam: frames reach it, or one clear error."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from stylecam.cli import main
from stylecam.runtime.inference.stylizer import Stylizer
from stylecam.runtime.live import window
from tests.runtime.clips import decode_all, gradient, write_clip
from tests.runtime.live import fake_pyvirtualcam
from tests.runtime.live.test_window import Gui


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return write_clip(tmp_path / "clip.mp4", frames=8, fps=10, painter=gradient)


def test_the_painted_frames_reach_the_virtual_camera(
    clip: Path, invert_model: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    module = fake_pyvirtualcam.make()
    monkeypatch.setitem(sys.modules, "pyvirtualcam", module)
    argv = ["live", "--model", str(invert_model), "--source", str(clip), "--no-window", "--virtual-camera"]
    assert main([*argv, "--smooth", "none", "-q"]) == 0
    (camera,) = module.cameras
    source = decode_all(clip)
    assert (camera.width, camera.height, camera.fps) == (64, 48, 10.0) and camera.closed
    assert len(camera.sent) == len(source) == 8
    assert np.abs(camera.sent[0].astype(int) - (255 - source[0].astype(int))).mean() < 4  # stylized (inverted)


def test_with_the_window_the_keys_still_work_and_the_camera_gets_no_overlay(
    clip: Path, invert_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = fake_pyvirtualcam.make()
    monkeypatch.setitem(sys.modules, "pyvirtualcam", module)
    gui = Gui(["o", -1, -1, "q"])  # split view, then quit
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setattr(window, "default_gui", gui)
    argv = ["live", "--model", str(invert_model), "--source", str(clip), "--virtual-camera", "--smooth", "none"]
    assert main([*argv, "-q"]) == 0
    (camera,) = module.cameras
    assert len(camera.sent) == len(gui.shown) == 4 and camera.closed
    panel = (slice(0, 10), slice(0, 20))
    assert not np.array_equal(gui.shown[0][panel], camera.sent[0][panel])  # the overlay: window only
    source = decode_all(clip)
    left = (slice(None), slice(0, 28))
    assert np.abs(camera.sent[-1][left].astype(int) - source[3][left]).mean() < 4  # o: split view reached it


def test_no_backend_fails_before_the_model_loads_with_the_fix(
    clip: Path, invert_model: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "pyvirtualcam", fake_pyvirtualcam.make(backend=False))
    monkeypatch.setattr(Stylizer, "__init__", lambda *a, **k: pytest.fail("loaded a model"))
    argv = ["live", "--model", str(invert_model), "--source", str(clip), "--no-window", "--virtual-camera"]
    assert main(argv) == 6
    err = capsys.readouterr().err
    (line,) = [line for line in err.splitlines() if line.startswith("stylecam: error:")]
    assert "Traceback" not in err and "no virtual camera to send to" in line
    assert "sudo modprobe v4l2loopback devices=1" in line


def test_without_pyvirtualcam_the_error_names_the_extra(
    clip: Path, invert_model: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "pyvirtualcam", None)
    argv = ["live", "--model", str(invert_model), "--source", str(clip), "--no-window", "--virtual-camera"]
    assert main(argv) == 6
    assert "pip install 'stylecam[vcam]'" in capsys.readouterr().err

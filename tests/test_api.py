"""The public API: what ``stylecam`` exports, that it stays torch-free, and every example in docs/api.md."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

import stylecam
from tests.conftest import make_photo
from tests.runtime.clips import write_clip

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def _examples() -> dict[str, str]:
    """``## heading`` -> the python block under it."""
    text = DOC.read_text()
    found = {}
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        title, _, body = section.partition("\n")
        block = re.search(r"```python\n(.*?)```", body, flags=re.S)
        if block:
            found[title.strip()] = block.group(1)
    return found


EXAMPLES = _examples()


def test_the_page_has_the_examples_we_run() -> None:
    assert set(EXAMPLES) == {
        "Paint one picture",
        "Paint a video (audio kept)",
        "Paint a camera",
        "Training (needs the `[train]` extra)",
    }


def test_every_exported_name_resolves() -> None:
    from stylecam import api

    assert set(stylecam.__all__) == {"__version__", "StylecamError", *api.__all__}
    for name in stylecam.__all__:
        assert getattr(stylecam, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = stylecam.nothing_here


def test_the_runtime_api_never_imports_torch() -> None:
    code = (
        "import sys, stylecam\n"
        "assert 'onnxruntime' not in sys.modules, 'import stylecam must stay cheap'\n"
        "from stylecam import Stylizer, RuntimeConfig, load_model, stylize_video, camera_frames\n"
        "assert 'onnxruntime' in sys.modules\n"
        "assert 'torch' not in sys.modules, 'the runtime API imported torch'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_paint_one_picture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cv2.imwrite("photo.jpg", make_photo(45, 61))
    exec(EXAMPLES["Paint one picture"], {})
    painted = cv2.imread("photo_starry.jpg")
    assert painted is not None and painted.shape == (45, 61, 3)


def test_paint_a_video(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    write_clip(tmp_path / "clip.mp4", width=64, height=48, frames=6)
    exec(EXAMPLES["Paint a video (audio kept)"], {})
    assert re.match(r"6 frames at [\d.]+ fps", capsys.readouterr().out)
    out = cv2.VideoCapture("clip_starry.mp4")
    assert int(out.get(cv2.CAP_PROP_FRAME_COUNT)) == 6
    out.release()


def test_paint_a_camera(monkeypatch: pytest.MonkeyPatch) -> None:
    from stylecam.runtime.media import webcam
    from stylecam.runtime.media.synthetic import SyntheticCamera, SyntheticCameraBus

    camera = SyntheticCamera(width=40, height=30, fps=60)
    monkeypatch.setattr(webcam, "default_capture_factory", SyntheticCameraBus({0: camera}).open)
    shown: list[np.ndarray] = []
    monkeypatch.setattr(cv2, "imshow", lambda title, image: shown.append(image))
    monkeypatch.setattr(cv2, "waitKey", lambda delay: ord("q") if len(shown) >= 3 else -1)
    exec(EXAMPLES["Paint a camera"], {})
    assert len(shown) == 3
    assert all(image.shape == (30, 40, 3) and image.dtype == np.uint8 for image in shown)
    assert camera.opens == 1


@pytest.mark.slow
def test_training_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "photos").mkdir()
    for index in range(3):
        cv2.imwrite(str(tmp_path / "photos" / f"p{index}.jpg"), make_photo(40, 48, seed=index))
    code = EXAMPLES["Training (needs the `[train]` extra)"]
    # The page shows a real schedule; the test runs the same call for two steps on 32 px crops.
    tiny = code.replace('{"size": 128, "batch_size": 4, "steps": 2000}', TINY_SETTINGS)
    assert tiny != code, "the training example changed: update TINY_SETTINGS' replacement"
    exec(tiny, {})
    checkpoint, export = capsys.readouterr().out.split()
    assert Path(checkpoint).is_file() and Path(export).is_file()


TINY_SETTINGS = (
    '{"size": 32, "batch_size": 1, "steps": 2, "content_layers": ("relu2_1",), "style_layers": ("relu1_1",)}'
)

"""``stylecam learn`` end to end at tiny sizes on the CPU: interrupted in each of its three trainings,
resumed, then used by name.

The same code path as a real job (closest bundled style, the bundled CC0 photos and demo clip,
the reference training and the lite network's two stages in chunks, both exports through the
parity gate, card, thumbnail, preview), with crops of 32 px and a few steps. Ctrl-C is a real
SIGINT, sent from the step hook.
"""

from __future__ import annotations

import json
import os
import signal
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import pytest

from stylecam.cli import main
from stylecam.runtime.inference.models import USER_MODELS_ENV, resolve_model
from stylecam.train.learn import settings as learn_settings

from ...conftest import make_painting, make_photo

pytest.importorskip("torch")
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]


def _catalog(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "catalog.json").read_text())["models"][folder.name]


def _interrupt_at(name: str, step: int) -> Any:
    def hook(phase: str, state: Any, terms: Any, planned: int) -> None:
        if phase == name and state.step == step:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C: the trainer finishes this step and saves

    return hook


def test_learn_interrupted_resumed_and_used_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from stylecam.train.learn.job import Stopped, learn
    from stylecam.train.learn.settings import LearnRequest
    from stylecam.train.loop.checkpoint import load_checkpoint

    tiny = replace(
        learn_settings.QUALITIES["tiny"], calibration_steps=2, lite_calibration_steps=2, min_steps=3, max_steps=3
    )
    monkeypatch.setitem(learn_settings.QUALITIES, "tiny", tiny)
    root = tmp_path / "models"
    monkeypatch.setenv(USER_MODELS_ENV, str(root))
    painting = tmp_path / "swirl.png"
    cv2.imwrite(str(painting), make_painting(256, 256))
    folder = root / "swirl"
    request = LearnRequest(painting=painting, quality="tiny", progress=False)

    # 1. Ctrl-C while the reference network trains: its state so far becomes a usable model.
    with pytest.raises(Stopped, match="kept a usable model 'swirl' \\(reference at step 1\\)"):
        learn(request, on_step=_interrupt_at("reference", 1))
    entry = _catalog(folder)
    assert list(entry["variants"]) == ["reference"] and entry["variants"]["reference"]["complete"] is False
    assert entry["learned"]["complete"] is False and (folder / ".learn" / "state.json").is_file()
    assert resolve_model("swirl", gpu=False) == folder / "swirl.onnx"

    # 2. Again: it continues (no --overwrite needed), and Ctrl-C during the pixel distillation keeps both.
    steps: list[tuple[str, int]] = []

    def record_then_stop(name: str, step: int) -> Any:
        def hook(phase: str, state: Any, terms: Any, planned: int) -> None:
            steps.append((phase, state.step))
            _interrupt_at(name, step)(phase, state, terms, planned)

        return hook

    with pytest.raises(Stopped, match=r"reference at step 3, lite at step 1"):
        learn(request, on_step=record_then_stop("lite-pixel", 1))
    assert steps[0] == ("reference", 2) and ("reference", 3) in steps  # resumed at step 1, not from the start
    assert steps[-1] == ("lite-pixel", 1)
    assert resolve_model("swirl", gpu=False) == folder / "swirl.lite.onnx"  # CPU: the lite network, as bundled
    assert resolve_model("swirl", gpu=True) == folder / "swirl.onnx"
    assert _catalog(folder)["variants"]["lite"]["config"]["style_weight"] == 0  # the pixel stage's network

    # 3. Across the boundary of the lite network's stages: the pixel stage resumes and ends, the second
    # stage starts from its checkpoint with the painting's losses; Ctrl-C there keeps that network.
    steps.clear()
    with pytest.raises(Stopped, match=r"reference at step 3, lite at step 1"):
        learn(request, on_step=record_then_stop("lite-style", 1))
    assert steps == [("lite-pixel", 2), ("lite-pixel", 3), ("lite-style", 1)]
    work = folder / ".learn"
    first, second = (load_checkpoint(work / f"{name}.pt") for name in ("lite-pixel", "lite-style"))
    config = second["train_config"]
    assert Path(second["init"]["checkpoint"]) == work / "lite-pixel.pt"
    assert config["arch"] == "lite" and config["teacher_sha256"] == first["train_config"]["teacher_sha256"]
    assert first["train_config"]["style_weight"] == 0 and first["train_config"]["content_weight"] == 0
    assert config["style_weight"] == 3e5 and config["content_weight"] == 1.0 and config["distill_pixel_weight"] == 1200
    assert config["style_size"] == tiny.style_size and config["batch_size"] == tiny.lite_style_batch
    state = json.loads((work / "state.json").read_text())
    assert state["phases"]["lite-pixel"] == {"step": 3, "done": True}
    assert state["phases"]["lite-style"] == {"step": 1, "done": False}
    lite = _catalog(folder)["variants"]["lite"]
    assert lite["config"]["style_weight"] == 3e5 and lite["pixel_steps"] == 3 and lite["complete"] is False

    # 4. The command again (the saved quality is kept): it finishes the lite network and cleans up.
    assert main(["learn", str(painting), "-q"]) == 0
    out = capsys.readouterr().out
    assert "learned 'swirl'" in out and "stylecam --model swirl --source 0" in out
    entry = _catalog(folder)
    assert entry["learned"]["complete"] is True and entry["learned"]["quality"] == "tiny"
    assert [entry["variants"][arch]["step"] for arch in ("reference", "lite")] == [3, 3]
    assert all(v["gate"]["passed"] and v["complete"] for v in entry["variants"].values())
    assert not (folder / ".learn").exists()
    files = sorted(p.name for p in folder.iterdir())
    assert files == [
        "catalog.json", "swirl.jpg", "swirl.lite.onnx", "swirl.lite.parity.json", "swirl.md", "swirl.onnx",
        "swirl.parity.json", "swirl.preview.jpg",
    ]  # fmt: skip
    card = (folder / "swirl.md").read_text()
    assert entry["variants"]["lite"]["sha256"] in card and entry["learned"]["start"]["name"] in card
    assert "3 steps of L1 to its cached outputs (pixel stage)" in card and "(painting-losses stage)" in card

    # 5. Its name works where a bundled name does: stylecam image, stylecam styles.
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), make_photo(60, 90))
    assert main(["image", str(photo), "--model", "swirl", "-o", str(tmp_path / "painted.png"), "-q"]) == 0
    assert cv2.imread(str(tmp_path / "painted.png")).shape == (60, 90, 3)
    capsys.readouterr()
    assert main(["styles"]) == 0
    assert "your styles" in capsys.readouterr().out

    # 6. A finished style is not replaced by accident.
    assert main(["learn", str(painting), "-q"]) == 4
    assert "already exists" in capsys.readouterr().err

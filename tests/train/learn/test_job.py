"""The lite network's two stages in a learn job, without training: their settings, their share of the
time, the model card, and a job saved before there were two stages."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from stylecam.train.learn.card import render_card
from stylecam.train.learn.settings import LearnRequest, LearnSettings, quality_settings
from stylecam.train.learn.store import Layout

pytest.importorskip("torch")


def _job(tmp_path: Path, settings: LearnSettings, state: dict[str, Any]) -> Any:
    from stylecam.train.learn.job import _Job

    layout = Layout(tmp_path, "mine")
    layout.work.mkdir(parents=True)
    request = LearnRequest(painting=tmp_path / "mine.png", progress=False)
    painting: Any = SimpleNamespace(path=tmp_path / "mine.png")
    return _Job(request, settings, painting, layout, state, on_step=None)


def test_the_second_lite_stage_learns_the_painting_from_the_first(tmp_path: Path) -> None:
    from stylecam.train.learn.job import LITE_PIXEL, LITE_STYLE, REFERENCE

    job = _job(tmp_path, quality_settings("best"), {})
    reference, pixel, style = (job._phase(name) for name in (REFERENCE, LITE_PIXEL, LITE_STYLE))
    assert pixel.options.init is None and "style_weight" not in pixel.settings  # 0 with a teacher: no VGG19
    assert pixel.settings["batch_size"] == 8 and pixel.settings["temporal_weight"] == 0.02
    assert style.options.init == job.layout.checkpoint(LITE_PIXEL) and style.options.output != pixel.options.output
    assert style.options.teacher == pixel.options.teacher == job.layout.checkpoint(REFERENCE)
    assert style.options.teacher_cache == pixel.options.teacher_cache  # the teacher paints each photo once
    for key in ("content_weight", "style_weight", "style_size"):  # the painting's losses, as the reference's
        assert style.settings[key] == reference.settings[key]
    assert style.settings["style_weight"] == 3e5 and style.settings["size"] == pixel.settings["size"] == 192
    assert style.settings["distill_pixel_weight"] == 1200 and style.settings["learning_rate"] == 5e-4
    assert style.settings["batch_size"] == 4 and style.lr_decay == 0.3
    assert style.settings["temporal_weight"] == pytest.approx(24.0)  # the same ratio to the pixel term
    # Both lite stages end with batch-norm statistics of webcam-sized frames; the reference has none.
    assert pixel.settings["calibrate_norm"] == style.settings["calibrate_norm"] == 640
    assert "calibrate_norm" not in reference.settings


def test_the_lite_time_is_split_between_the_stages_and_kept_on_resume(tmp_path: Path) -> None:
    settings = replace(quality_settings("good"), minutes=15)
    state: dict[str, Any] = {"spent": 100.0, "export_seconds": {"reference": 40.0}}
    pixel_end, end = _job(tmp_path / "a", settings, state).lite_deadlines()
    assert end == pytest.approx(900 - 20 - 10)
    assert state["lite_started"] == pytest.approx(100.0, abs=1)
    assert pixel_end - state["lite_started"] == pytest.approx(0.35 * (end - state["lite_started"]))
    # Resumed later (more time spent): the split is still from where the lite network started.
    again = _job(tmp_path / "b", settings, {**state, "spent": 400.0}).lite_deadlines()
    assert again == (pixel_end, end)


def test_a_job_saved_before_the_two_stages_trains_its_lite_network_again(tmp_path: Path) -> None:
    from stylecam.train.learn.job import _upgrade

    layout = Layout(tmp_path, "mine")
    layout.logs("lite").mkdir(parents=True)
    layout.checkpoint("lite").write_bytes(b"old")
    layout.checkpoint("reference").write_bytes(b"kept")
    state = {
        "phases": {"reference": {"step": 40, "done": True}, "lite": {"step": 25, "done": False}},
        "exported": {"reference": 40, "lite": 25},
    }
    _upgrade(state, layout)
    assert state == {"phases": {"reference": {"step": 40, "done": True}}, "exported": {"reference": 40}}
    assert not layout.checkpoint("lite").exists() and not layout.logs("lite").exists()
    assert layout.checkpoint("reference").read_bytes() == b"kept"
    before = json.dumps(state)
    _upgrade(state, layout)  # a state of this stylecam: nothing to do
    assert json.dumps(state) == before


def test_the_card_says_how_the_lite_network_learned() -> None:
    def card(config: dict[str, Any], **extra: Any) -> str:
        variant = {"file": "mine.lite.onnx", "step": 30, "distilled": True, "config": config, **extra}
        return render_card("mine", {"variants": {"lite": variant}})

    both = card({"style_weight": 3e5, "distill_pixel_weight": 1200.0, "batch_size": 4}, pixel_steps=90)
    assert "90 steps of L1 to its cached outputs (pixel stage), then the painting's VGG19 content and Gram" in both
    assert "x1200 (painting-losses stage): 30 steps x batch 4" in both
    assert "pixel stage only" in card({"style_weight": 0.0, "batch_size": 8})

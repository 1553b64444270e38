"""Where the lite network of a learn job starts: the starting style's bundled lite network when it ships
one (rebuilt from its .onnx, as the reference network is), else from scratch; a lite file that does not
load is a warning, not a crash.

One step of the pixel stage, at 32 px, against a tiny teacher: the real shipped starry_night lite network
is the bundled one (copied into a test bundle, beside a contract model as the reference variant).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import cv2
import onnx
import pytest

from stylecam.runtime.inference.models import bundled_models, models_dir
from stylecam.train.learn.settings import LearnRequest, quality_settings
from stylecam.train.learn.store import Layout
from tests.conftest import make_painting
from tests.runtime.bundles import make_bundle
from tests.train.conftest import write_photos

torch = pytest.importorskip("torch")

SHIPPED_LITE = models_dir() / "starry_night.lite.onnx"


def _props(model: Path) -> dict[str, str]:
    return {prop.key: prop.value for prop in onnx.load(str(model), load_external_data=False).metadata_props}


def _bundle(folder: Path, lite: str | None) -> Path:
    """starry_night with a contract reference network and, unless ``lite`` is None, a lite variant:
    ``shipped`` (the real lite network), ``hybrid`` (a lite network with instance norm in its residual
    blocks), ``guided`` (the same with a full-resolution guide, ``--guide 8``), ``garbage`` (not an ONNX file)
    or ``other`` (a lite network of another architecture config)."""
    make_bundle(folder, {"starry_night": ("reference", "lite") if lite else ("reference",)})
    if lite == "shipped":
        shutil.copyfile(SHIPPED_LITE, folder / "starry_night.lite.onnx")
    elif lite in ("hybrid", "guided"):
        from stylecam.export.metadata import metadata_from_checkpoint
        from stylecam.export.onnx import export_onnx
        from stylecam.train.networks.compact import CompactNet
        from stylecam.train.networks.model import get_config

        with torch.random.fork_rng():
            torch.manual_seed(0)
            net = CompactNet(replace(get_config("lite"), norm="hybrid", guide=8 if lite == "guided" else 0)).eval()
        meta = metadata_from_checkpoint({"model_config": net.config.to_dict()}, style_license_override="CC0")
        export_onnx(net, folder / "starry_night.lite.onnx", metadata=meta)
    elif lite == "garbage":
        (folder / "starry_night.lite.onnx").write_bytes(b"not an onnx file")
    elif lite == "other":
        model = onnx.load(str(SHIPPED_LITE))
        for prop in model.metadata_props:
            if prop.key == "stylecam.model_config":
                config = {**json.loads(prop.value), "residual_blocks": 4}
                prop.value = json.dumps(config)
        onnx.save(model, str(folder / "starry_night.lite.onnx"))
    return folder


def _job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lite: str | None) -> Any:
    """A job whose reference network has trained (a tiny teacher) and whose start is starry_night."""
    from stylecam.train.learn import job as job_module
    from stylecam.train.loop.checkpoint import save_checkpoint
    from stylecam.train.networks.model import ModelConfig, build_model

    bundle = _bundle(tmp_path / "bundle", lite)
    monkeypatch.setattr(job_module, "bundled_models", lambda: bundled_models(bundle))
    assert SHIPPED_LITE.is_file()
    layout = Layout(tmp_path / "models", "mine")
    layout.work.mkdir(parents=True)
    write_photos(layout.photos, 4)
    cv2.imwrite(str(layout.work / "painting.png"), make_painting(64, 64))
    teacher = ModelConfig(channels=(4, 8, 8), residual_blocks=1)
    torch.manual_seed(0)
    net = build_model(teacher)
    save_checkpoint(layout.checkpoint("reference"), {"model": net.state_dict(), "model_config": teacher.to_dict()})
    settings = replace(quality_settings("tiny"), min_steps=1, max_steps=1)
    request = LearnRequest(painting=tmp_path / "mine.png", progress=False)
    painting: Any = SimpleNamespace(path=tmp_path / "mine.png", bgr=make_painting(64, 64))
    state = {"start": {"name": "starry_night"}, "phases": {"reference": {"step": 1, "done": True}}}
    return job_module._Job(request, settings, painting, layout, state, on_step=None)


def _pixel_stage(job: Any) -> dict[str, Any]:
    """Train the pixel stage (one step); its checkpoint."""
    from stylecam.train.learn.job import LITE_PIXEL
    from stylecam.train.loop.checkpoint import load_checkpoint

    job.train(LITE_PIXEL, job.clock.now() + 60)
    return load_checkpoint(job.layout.checkpoint(LITE_PIXEL))


def test_the_lite_network_starts_from_the_bundled_lite_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_thread: None
) -> None:
    from stylecam.train.learn.job import LITE_PIXEL, lite_start_text
    from stylecam.train.loop.checkpoint import load_checkpoint

    job = _job(tmp_path, monkeypatch, "shipped")
    checkpoint = _pixel_stage(job)
    init = checkpoint["init"]
    assert (init["checkpoint"], init["style"]) == (str(job.layout.lite_init), "starry_night")
    assert init["stages"][-1]["checkpoint"] == str(job.layout.lite_init)  # the card can show it
    assert init["stages"][-1]["origin"].startswith("the network of bundled model starry_night.lite.onnx (sha256 ")
    assert checkpoint["step"] == 1 and checkpoint["model_config"]["arch"] == "lite"
    start = job.state["lite_start"]
    shipped_norm = json.loads(_props(SHIPPED_LITE)["stylecam.model_config"])["norm"]  # batch or hybrid
    assert start == {"from": "bundled", "name": "starry_night", "file": "starry_night.lite.onnx", "norm": shipped_norm}
    assert checkpoint["model_config"]["norm"] == shipped_norm
    assert checkpoint["train_config"]["norm"] == (None if shipped_norm == "batch" else shipped_norm)
    assert lite_start_text(start) == "from the bundled starry_night lite network"
    assert json.loads(job.layout.state_file.read_text())["lite_start"] == start
    init = load_checkpoint(job.layout.lite_init)
    expected = r"the network of bundled model starry_night\.lite\.onnx \(sha256 [0-9a-f]{16}\), rebuilt from .*"
    assert re.fullmatch(expected, init["origin"])
    assert init["style"]["name"] == "starry_night"

    # Resumed: the stage continues its own checkpoint, the bundled network is not rebuilt again.
    job.layout.lite_init.unlink()
    job.phase_state(LITE_PIXEL)["done"] = False
    job.settings = replace(job.settings, max_steps=2)
    resumed = _pixel_stage(job)
    assert resumed["step"] == 2 and not job.layout.lite_init.exists()
    assert resumed["init"] == checkpoint["init"]  # a resumed run keeps the record of where it started
    assert job.state["lite_start"] == start


def test_a_hybrid_bundled_lite_network_is_trained_on_as_a_hybrid_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_thread: None
) -> None:
    from stylecam.train.learn.job import LITE_STYLE

    job = _job(tmp_path, monkeypatch, "hybrid")
    checkpoint = _pixel_stage(job)
    start = job.state["lite_start"]
    assert start == {"from": "bundled", "name": "starry_night", "file": "starry_night.lite.onnx", "norm": "hybrid"}
    assert checkpoint["init"]["checkpoint"] == str(job.layout.lite_init)  # started from it, not from scratch
    assert checkpoint["model_config"]["norm"] == checkpoint["train_config"]["norm"] == "hybrid"
    assert job._phase(LITE_STYLE).settings["norm"] == "hybrid"  # the second stage too


def test_a_guided_bundled_lite_network_is_trained_on_with_its_guide(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_thread: None
) -> None:
    job = _job(tmp_path, monkeypatch, "guided")
    checkpoint = _pixel_stage(job)
    assert job.state["lite_start"]["from"] == "bundled"
    assert checkpoint["init"]["checkpoint"] == str(job.layout.lite_init)
    assert checkpoint["model_config"]["guide"] == 8 and checkpoint["model_config"]["norm"] == "hybrid"


def test_without_a_bundled_lite_network_it_starts_from_scratch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_thread: None
) -> None:
    from stylecam.train.learn.job import LITE_PIXEL, lite_start_text

    job = _job(tmp_path, monkeypatch, None)
    checkpoint = _pixel_stage(job)
    assert checkpoint["init"] is None and checkpoint["step"] == 1
    assert job.state["lite_start"]["from"] == "scratch" and not job.layout.lite_init.exists()
    assert lite_start_text(job.state["lite_start"]) == "from scratch"
    assert job._phase(LITE_PIXEL).options.init is None


@pytest.mark.parametrize(("lite", "why"), [("garbage", "not a readable ONNX model"), ("other", "residual_blocks")])
def test_an_unusable_bundled_lite_network_is_a_warning_and_scratch(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    one_thread: None,
    lite: str,
    why: str,
) -> None:
    job = _job(tmp_path, monkeypatch, lite)
    with caplog.at_level(logging.WARNING, logger="stylecam.train.learn.job"):
        checkpoint = _pixel_stage(job)
    assert checkpoint["init"] is None and checkpoint["step"] == 1
    assert job.state["lite_start"]["from"] == "scratch" and not job.layout.lite_init.exists()
    warning = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "the bundled starry_night lite network cannot start the lite network" in warning
    assert "learns from scratch" in warning
    assert re.search(why, warning), warning


def test_the_card_says_where_the_lite_network_started() -> None:
    from stylecam.train.learn.card import render_card

    variant = {"file": "mine.lite.onnx", "step": 3, "distilled": True, "config": {"style_weight": 0.0}}
    bundled = render_card("mine", {"variants": {"lite": {**variant, "start": "from the bundled udnie lite network"}}})
    assert "* started from the bundled udnie lite network" in bundled
    scratch = render_card("mine", {"variants": {"lite": {**variant, "start": "from scratch"}}})
    assert "* started from scratch" in scratch

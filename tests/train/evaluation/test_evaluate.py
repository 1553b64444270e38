"""`stylecam eval`: smoothing modes compared on a flickering synthetic clip, losses, JSON, refusals."""

from __future__ import annotations

import json
import math
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from stylecam.cli import main
from stylecam.errors import UsageError
from stylecam.runtime.bench.model import PanningScene
from stylecam.runtime.config import SmoothingConfig
from stylecam.train.evaluation.evaluate import EvalConfig, evaluate_frames, parse_mode, resolve_style
from stylecam.train.evaluation.report import eval_record, render_eval_table, validate_record
from tests.conftest import HAS_TORCH, make_photo
from tests.runtime.clips import write_clip
from tests.runtime.onnx_builders import make_contract_model
from tests.runtime.synthetic_clip import clean_style, flicker, make_clip

MODES = {"none": SmoothingConfig(mode="none"), "ema": SmoothingConfig(mode="ema"), "flow": SmoothingConfig()}
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="the losses need torch")


@dataclass(frozen=True)
class _Losses:
    style: float
    content: float


class _CountingScorer:
    """Style loss = mean brightness of the frame, content loss = mean |frame - source|; counts calls."""

    def __init__(self) -> None:
        self.calls = 0

    def score(self, source: np.ndarray, stylized: list[np.ndarray]) -> list[_Losses]:
        self.calls += 1
        return [_Losses(float(f.mean()), float(np.abs(f.astype(int) - source).mean())) for f in stylized]


def _flickering_stylizer() -> object:
    count = {"n": 0}

    def stylize(frame: np.ndarray) -> np.ndarray:
        count["n"] += 1
        return flicker(clean_style(frame), count["n"])

    return stylize


def test_flow_smoothing_lowers_the_warping_error_of_a_flickering_model() -> None:
    clip = make_clip(96, 128, 10, pan=(2.0, 1.0), disc_speed=(-3.0, 0.0))
    scorer = _CountingScorer()
    result = evaluate_frames(
        [frame.source for frame in clip], _flickering_stylizer(), MODES, scorer=scorer, loss_every=3
    )
    rows = {row.label: row for row in result.modes}
    assert (result.frames, result.width, result.height) == (10, 128, 96)
    assert (result.pairs, result.cuts, result.unexplained) == (9, 0, 0)
    assert rows["flow"].warp_error < 0.6 * rows["none"].warp_error
    assert rows["ema"].warp_error < rows["none"].warp_error
    assert rows["none"].ratio > 3 * rows["flow"].ratio / 2 and rows["none"].ratio > 2.0
    assert rows["flow"].alpha == 0.4 and rows["none"].alpha == 1.0
    assert scorer.calls == result.loss_frames == 4  # frames 0, 3, 6, 9
    assert rows["none"].style_loss is not None and rows["none"].content_loss is not None
    assert 0 < result.coverage <= 1 and result.source_warp_error > 0


def test_a_stable_model_on_a_still_scene_scores_zero() -> None:
    still = [make_clip(64, 80, 1)[0].source] * 5
    result = evaluate_frames(still, clean_style, {"none": SmoothingConfig(mode="none")})
    assert result.source_warp_error == pytest.approx(0.0, abs=1e-9)
    assert result.modes[0].warp_error == pytest.approx(0.0, abs=1e-9) and result.modes[0].style_loss is None


def test_record_table_and_goals() -> None:
    clip = make_clip(96, 128, 6)
    result = evaluate_frames([f.source for f in clip], _flickering_stylizer(), MODES, scorer=_CountingScorer())
    record = eval_record(result, {"model": "m.onnx", "video": "v.mp4"}, host={"cpu": "x"}, settings={})
    validate_record(json.loads(json.dumps(record)))
    none, flow = record["rows"][0], record["rows"][2]
    assert none["style_change_pct"] == 0.0
    expected = 100 * (flow["style_loss"] - none["style_loss"]) / none["style_loss"]
    assert flow["style_change_pct"] == pytest.approx(expected, abs=0.01)
    assert record["goals"]["flow_row"] == "flow" and record["goals"]["ratio_met"] == (flow["ratio"] <= 3.0)
    table = render_eval_table(record).splitlines()
    assert table[0].split()[0] == "smoothing" and [line.split()[0] for line in table[2:]] == [
        "none",
        "ema",
        "flow",
        "source",
    ]
    assert f"{1000 * flow['warp_error']:.3f}" in table[4]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("flow", ("flow", 0.4)), ("flow:0.25", ("flow", 0.25)), ("ema", ("ema", 0.5)), ("none", ("none", 1.0))],
)
def test_parse_mode(text: str, expected: tuple[str, float]) -> None:
    label, config = parse_mode(text)
    assert label == text and (config.mode, config.alpha) == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"modes": ("flow:x",)}, "must be a number"),
        ({"modes": ("blur",)}, "choose one of: none, ema, flow"),
        ({"modes": ("flow", "flow")}, "twice"),
        ({"frames": 1}, "at least 2"),
        ({"loss_every": 0}, "--loss-every"),
    ],
)
def test_config_refusals(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        EvalConfig(model=Path("m.onnx"), video=Path("v.mp4"), **kwargs)  # type: ignore[arg-type]


def test_style_image_resolution(tmp_path: Path) -> None:
    assert resolve_style(None, "udnie", "m.onnx").name == "udnie.jpg"
    assert resolve_style(tmp_path / "mine.jpg", "udnie", "m.onnx") == tmp_path / "mine.jpg"
    with pytest.raises(UsageError, match="--style PATH"):
        resolve_style(None, "synthetic", "m.onnx")


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    scene = PanningScene(64, 48)
    return write_clip(tmp_path / "clip.mp4", frames=6, fps=10, painter=lambda height, width, index: scene.frame(index))


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return make_contract_model(tmp_path / "conv.onnx", op="conv")


def test_eval_without_torch_names_the_extra(
    clip: Path, model: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    assert main(["eval", "--model", str(model), "--video", str(clip)]) == 6
    err = capsys.readouterr().err
    assert "pip install 'stylecam[train]'" in err and "--no-losses" in err and "Traceback" not in err
    # the warping error alone needs no torch
    assert main(["eval", "--model", str(model), "--video", str(clip), "--no-losses", "-q"]) == 0
    out = capsys.readouterr().out
    assert "smoothing" in out and "not measured (--no-losses)" in out


@needs_torch
def test_eval_end_to_end_with_losses(
    clip: Path, model: Path, painting_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "eval.json"
    args = ["eval", "--model", str(model), "--video", str(clip), "--style", str(painting_file), "--loss-every", "2"]
    args += ["--style-size", "64", "--max-size", "32"]
    assert main([*args, "--json", str(out), "-q"]) == 0
    record = json.loads(out.read_text())
    validate_record(record)
    assert record["frames"] == 6 and record["size"] == "32x24" and record["loss_frames"] == 3
    assert [row["smoothing"] for row in record["rows"]] == ["none", "ema", "flow"]
    assert all(math.isfinite(row["style_loss"]) and row["style_loss"] > 0 for row in record["rows"])
    assert record["style"] == painting_file.name and "goals with flow" in capsys.readouterr().out


@needs_torch
def test_perceptual_losses_have_known_zeros() -> None:
    from stylecam.train.losses.perceptual import PerceptualScorer
    from tests.conftest import make_painting, make_photo

    painting = make_painting(96, 96)
    scorer = PerceptualScorer(painting, style_size=96)  # 96 px: the style image is used as it is
    photo = make_photo(96, 96)
    as_is, painted = scorer.score(photo, [photo, painting])
    assert as_is.content == 0.0 and painted.content > 0
    assert painted.style <= 1e-6 * as_is.style  # the painting itself carries its style exactly


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--frames", "1"], 2, "at least 2"),
        (["--smooth", "blur"], 2, "choose one of"),
        (["--video", "{tmp}/nope.mp4"], 3, "nope.mp4"),
        (["--json", "{tmp}/missing/out.json"], 4, "does not exist"),
    ],
)
def test_eval_refusals(
    clip: Path,
    model: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    code: int,
    message: str,
) -> None:
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    base = ["eval", "--model", str(model), "--video", str(clip), "--no-losses"]
    assert main([*base, *args]) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("stylecam: error:") == 1


def test_a_model_without_a_bundled_style_needs_style(
    clip: Path, model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not HAS_TORCH:
        pytest.skip("the style check comes after the torch check")
    assert main(["eval", "--model", str(model), "--video", str(clip), "-q"]) == 2
    assert "--style PATH" in capsys.readouterr().err


def test_synthetic_warps_need_no_video_and_sit_beside_the_clip(
    clip: Path, model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "synthetic.json"
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), make_photo(40, 56))
    assert (
        main(["eval", "--model", str(model), "--synthetic-warps", "2", "--photos", str(photo), "--json", str(out)]) == 0
    )
    printed = capsys.readouterr().out
    assert "synthetic warps (2 pairs on 1 photos, no smoothing)" in printed
    alone = json.loads(out.read_text())
    assert alone["command"].startswith("stylecam eval --model ") and alone["command"].endswith(f"--json {out}")
    synthetic = alone["synthetic"]
    assert synthetic["pairs"] == 2 and synthetic["photos"] == ["photo.png"]
    assert math.isfinite(synthetic["ratio"]) and synthetic["ratio"] > 0
    # with a clip, both: the clip's table and the synthetic figure in one record
    both = tmp_path / "both.json"
    args = ["eval", "--model", str(model), "--video", str(clip), "--no-losses", "--synthetic-warps", "1"]
    assert main([*args, "--photos", str(photo), "--json", str(both), "-q"]) == 0
    record = json.loads(both.read_text())
    validate_record(record)
    assert record["command"] == shlex.join(["stylecam", *args, "--photos", str(photo), "--json", str(both), "-q"])
    assert record["rows"] and record["synthetic"]["pairs"] == 1


def test_eval_with_nothing_to_measure_says_so(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--model", str(model), "--synthetic-warps", "0"]) == 2
    assert "nothing to measure" in capsys.readouterr().err

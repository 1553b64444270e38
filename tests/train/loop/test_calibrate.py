"""Batch-norm statistics recomputed at the scale of use when a run completes (--calibrate-norm)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from stylecam.train.loop.calibrate import calibrate_norm_statistics, norm_layers
from stylecam.train.networks.model import build_model
from tests.conftest import make_photo

CPU = torch.device("cpu")


def _photos(folder: Path, count: int, height: int = 48, width: int = 64) -> list[Path]:
    paths = []
    for i in range(count):
        path = folder / f"p{i}.png"
        cv2.imwrite(str(path), make_photo(height, width, seed=i))
        paths.append(path)
    return paths


class _Probe(nn.Module):
    """A convolution and a batch norm: its statistics can be computed by hand."""

    stride = 4

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 5, 3, padding=1)
        self.norm = nn.BatchNorm2d(5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.conv(x))


def _frame(path: Path, long_side: int) -> torch.Tensor:
    bgr = cv2.imread(str(path))
    scale = long_side / max(bgr.shape[:2])
    size = (round(bgr.shape[1] * scale), round(bgr.shape[0] * scale))
    resized = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    h, w = (resized.shape[0] // 4) * 4, (resized.shape[1] // 4) * 4
    rgb = np.ascontiguousarray(resized[:h, :w, ::-1]).astype(np.float32)
    return torch.from_numpy(rgb).permute(2, 0, 1).unsqueeze(0)


def test_statistics_are_the_mean_over_the_photos_at_the_size_of_use(tmp_path: Path) -> None:
    photos = _photos(tmp_path, 3)
    model = _Probe().train()
    weights = {k: v.clone() for k, v in model.state_dict().items() if "running" not in k and "tracked" not in k}
    used = calibrate_norm_statistics(model, photos, 128, device=CPU)
    assert used == 3
    with torch.no_grad():
        features = [model.conv(_frame(p, 128)) for p in photos]
    assert features[0].shape[-1] == 128  # the photos were painted at the size of use, not their own 64 px
    means = torch.stack([f.mean(dim=(0, 2, 3)) for f in features]).mean(0)
    variances = torch.stack([f.var(dim=(0, 2, 3), unbiased=True) for f in features]).mean(0)
    torch.testing.assert_close(model.norm.running_mean, means, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(model.norm.running_var, variances, rtol=1e-4, atol=1e-3)
    assert model.training and model.norm.training and model.norm.momentum == pytest.approx(0.1)
    for key, value in weights.items():
        assert torch.equal(model.state_dict()[key], value), f"{key} changed"


def test_a_limit_and_unreadable_photos(tmp_path: Path) -> None:
    photos = _photos(tmp_path, 4)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a picture")
    model = _Probe().eval()
    assert calibrate_norm_statistics(model, [broken, *photos], 64, device=CPU, limit=2) == 2
    assert not model.training


def test_no_readable_photo_keeps_the_old_statistics(tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a picture")
    model = _Probe()
    model.norm.running_mean.fill_(3.0)
    assert calibrate_norm_statistics(model, [broken], 64, device=CPU) == 0
    assert torch.equal(model.norm.running_mean, torch.full((5,), 3.0))
    assert torch.equal(model.norm.running_var, torch.ones(5))


def test_the_reference_network_has_no_batch_norm_to_calibrate(tmp_path: Path) -> None:
    model = build_model("reference")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert norm_layers(model) == []
    assert calibrate_norm_statistics(model, _photos(tmp_path, 1), 64, device=CPU) == 0
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def _small_lite():
    """A batch-norm network small enough for seconds of training (the lite class, narrow widths)."""
    from stylecam.train.networks.model import ModelConfig

    return ModelConfig(arch="lite", channels=(4, 8, 8), residual_blocks=1, norm="batch", padding="zeros")


FAST = {"content_layers": ("relu2_1",), "style_layers": ("relu1_1", "relu2_1")}


def _run(photo_dir: Path, painting: Path, out: Path, steps: int, resume: bool = False, **settings):
    from stylecam.train.config import RunOptions
    from stylecam.train.loop.runner import train

    if resume:
        options = RunOptions(resume=out, sample_every=0, save_every=0, progress=False)
        return train(options, {"steps": steps})
    options = RunOptions(style=str(painting), data=photo_dir, output=out, sample_every=0, save_every=0, progress=False)
    values = {"size": 32, "batch_size": 2, "steps": steps, "learning_rate": 1e-2, **FAST, **settings}
    return train(options, values, model_config=_small_lite())


def _running(path: Path) -> dict[str, torch.Tensor]:
    state = torch.load(path, weights_only=True)["model"]
    return {k: v for k, v in state.items() if k.endswith(("running_mean", "running_var"))}


def _calibrated_copy(path: Path, photo_dir: Path, size: int) -> dict[str, torch.Tensor]:
    """The running statistics that calibrating the checkpoint's own weights at ``size`` gives."""
    from stylecam.train.data import list_images
    from stylecam.train.loop.checkpoint import load_model

    model, _ = load_model(path)
    calibrate_norm_statistics(model, list_images(photo_dir), size, device=CPU, seed=0)
    return {k: v for k, v in model.state_dict().items() if k.endswith(("running_mean", "running_var"))}


def test_a_completed_run_ends_with_the_statistics_of_the_size_of_use(
    photo_dir: Path, painting: Path, tmp_path: Path, one_thread
) -> None:
    out = tmp_path / "calibrated.pt"
    _run(photo_dir, painting, out, 3, calibrate_norm=64)
    data = torch.load(out, weights_only=True)
    assert data["train_config"]["calibrate_norm"] == 64 and data["complete"] is True
    saved = _running(out)
    assert len(saved) > 0
    for key, value in _calibrated_copy(out, photo_dir, 64).items():  # recomputing again changes nothing
        torch.testing.assert_close(saved[key], value, msg=key)
    # Not what the crops gave, and not what another size gives: the flag did something.
    plain = tmp_path / "plain.pt"
    _run(photo_dir, painting, plain, 3)
    assert torch.load(plain, weights_only=True)["train_config"]["calibrate_norm"] == 0
    assert any(not torch.allclose(v, saved[k]) for k, v in _running(plain).items())
    assert any(not torch.allclose(v, saved[k]) for k, v in _calibrated_copy(out, photo_dir, 128).items())
    # Extended with --resume, the run trains on crops again and recalibrates when it completes.
    _run(photo_dir, painting, out, 5, resume=True)
    resumed = _running(out)
    for key, value in _calibrated_copy(out, photo_dir, 64).items():
        torch.testing.assert_close(resumed[key], value, msg=key)


def test_an_interrupted_run_keeps_the_crops_statistics(
    photo_dir: Path, painting: Path, tmp_path: Path, one_thread
) -> None:
    from stylecam.train.config import RunOptions
    from stylecam.train.loop.runner import train

    def stop_at_step_2(state, _terms) -> None:
        if state.step == 2:
            os.kill(os.getpid(), signal.SIGINT)

    out = tmp_path / "stopped.pt"
    options = RunOptions(style=str(painting), data=photo_dir, output=out, sample_every=0, save_every=0, progress=False)
    values = {"size": 32, "batch_size": 2, "steps": 5, "learning_rate": 1e-2, "calibrate_norm": 64, **FAST}
    with pytest.raises(KeyboardInterrupt):
        train(options, values, model_config=_small_lite(), on_step=stop_at_step_2)
    data = torch.load(out, weights_only=True)
    assert data["step"] == 2 and data["complete"] is False
    calibrated = _calibrated_copy(out, photo_dir, 64)
    assert any(not torch.allclose(v, calibrated[k]) for k, v in _running(out).items())


def test_the_flag_is_refused_for_a_network_without_batch_norm(
    photo_dir: Path, painting: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stylecam.cli import main

    argv = ["train", "--style", str(painting), "--data", str(photo_dir), "-o", str(tmp_path / "r.pt"),
            "--size", "32", "--batch", "2", "--steps", "1", "--calibrate-norm", "512", "-q"]  # fmt: skip
    assert main(argv) != 0
    err = capsys.readouterr().err
    assert "--calibrate-norm applies to networks with batch norm" in err and "Traceback" not in err
    assert not (tmp_path / "r.pt").exists()
    argv[argv.index("512")] = "8"
    assert main([*argv, "--arch", "lite"]) != 0
    assert "--calibrate-norm is the long side" in capsys.readouterr().err


@pytest.mark.parametrize(("norm", "accepted"), [("batch", True), ("hybrid", True), ("instance", False)])
def test_the_flag_follows_whether_the_network_has_batch_norm(
    photo_dir: Path, painting: Path, tmp_path: Path, norm: str, accepted: bool
) -> None:
    from dataclasses import replace

    from stylecam.errors import UsageError
    from stylecam.train.config import RunOptions
    from stylecam.train.loop.setup import plan_run

    options = RunOptions(style=str(painting), data=photo_dir, output=tmp_path / "n.pt", progress=False)
    settings = {"size": 32, "batch_size": 2, "steps": 1, "calibrate_norm": 64}
    config = replace(_small_lite(), norm=norm)
    if accepted:
        assert plan_run(options, settings, model_config=config).config.calibrate_norm == 64
    else:
        with pytest.raises(UsageError, match="--calibrate-norm applies to networks with batch norm"):
            plan_run(options, settings, model_config=config)

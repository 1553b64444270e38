"""Distillation (--teacher), the trained-in temporal term and the learning-rate schedule, end to end on tiny runs."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stylecam.cli import main  # noqa: E402
from stylecam.train.config import RunOptions  # noqa: E402
from stylecam.train.loop.distill import build_cache, target_paths  # noqa: E402
from stylecam.train.loop.engine import learning_rate_at  # noqa: E402
from stylecam.train.loop.runner import train  # noqa: E402
from tests.train.loop.test_run import FAST, TINY  # noqa: E402


def _options(photo_dir: Path, painting: Path, output: Path, **changes) -> RunOptions:
    values = {"style": str(painting), "data": photo_dir, "output": output, "sample_every": 0, "save_every": 0,
              "progress": False, **changes}  # fmt: skip
    return RunOptions(**values)


@pytest.fixture
def teacher(photo_dir: Path, painting: Path, tmp_path: Path, one_thread) -> Path:
    """A tiny trained network to distil from."""
    path = tmp_path / "teacher.pt"
    train(_options(photo_dir, painting, path), {"size": 32, "batch_size": 2, "steps": 2, **FAST}, model_config=TINY)
    return path


def test_the_teacher_paints_every_photo_once_at_full_size(teacher: Path, photo_dir: Path, tmp_path: Path) -> None:
    photos = sorted(photo_dir.rglob("*.jpg"))
    folder = tmp_path / "cache"
    targets = build_cache(teacher, photos, folder, device=torch.device("cpu"), progress=False)
    assert targets == target_paths(photos, folder)
    for photo, target in zip(photos, targets):
        assert cv2.imread(str(target)).shape == cv2.imread(str(photo)).shape
    stamps = [target.stat().st_mtime_ns for target in targets]
    targets[0].unlink()
    build_cache(teacher, photos, folder, device=torch.device("cpu"), progress=False)  # only the missing one
    assert [target.stat().st_mtime_ns for target in targets[1:]] == stamps[1:] and targets[0].is_file()


def test_distilled_run_learns_the_teacher_without_the_painting_losses(
    teacher: Path, photo_dir: Path, painting: Path, tmp_path: Path
) -> None:
    out = tmp_path / "student.pt"
    settings = {"size": 32, "batch_size": 2, "steps": 6, "learning_rate": 0.01, "temporal_weight": 0.05, **FAST}
    result = train(_options(photo_dir, painting, out, teacher=teacher), settings, model_config=TINY)
    data = torch.load(out, weights_only=True)
    config = data["train_config"]
    assert config["teacher_sha256"] and config["content_weight"] == 0 and config["style_weight"] == 0
    assert data["teacher"]["name"] == "teacher.pt" and data["teacher"]["sha256"] == config["teacher_sha256"]
    assert set(result.losses) == {"content", "style", "tv", "total", "distill", "temporal"}
    assert result.losses["style"] == 0 and result.losses["distill"] > 0 and result.losses["temporal"] > 0
    cache = out.with_name("student_teacher") / config["teacher_sha256"][:16]
    assert len(list(cache.glob("*.png"))) == 6


def test_gram_distillation_runs_without_the_painting_losses_and_is_recorded(
    teacher: Path, photo_dir: Path, painting: Path, tmp_path: Path
) -> None:
    out = tmp_path / "student.pt"
    settings = {"size": 32, "batch_size": 2, "steps": 2, "distill_pixel_weight": 0, "distill_gram_weight": 1e3, **FAST}
    result = train(_options(photo_dir, painting, out, teacher=teacher), settings, model_config=TINY)
    config = torch.load(out, weights_only=True)["train_config"]
    assert config["distill_gram_weight"] == 1e3 and config["style_weight"] == 0 and config["distill_pixel_weight"] == 0
    assert result.losses["distill"] > 0 and result.losses["style"] == 0
    assert result.losses["total"] == pytest.approx(result.losses["distill"], rel=1e-6)


def test_distillation_resumes_with_the_same_teacher_and_refuses_another(
    teacher: Path, photo_dir: Path, painting: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "student.pt"
    settings = {"size": 32, "batch_size": 2, "steps": 2, **FAST}
    train(_options(photo_dir, painting, out, teacher=teacher), settings, model_config=TINY)
    # the teacher's path is in the checkpoint: --resume alone finds it
    train(_options(photo_dir, painting, None, resume=out), {"steps": 3})
    assert torch.load(out, weights_only=True)["step"] == 3
    other = tmp_path / "other.pt"
    other.write_bytes(teacher.read_bytes() + b"\0")
    argv = ["train", "--resume", str(out), "--teacher", str(other), "--steps", "4", "-q"]
    assert main(argv) == 2
    assert "is not the network the resumed run was distilled from" in capsys.readouterr().err


def test_resume_reuses_the_teacher_cache_the_run_named(
    teacher: Path, photo_dir: Path, painting: Path, tmp_path: Path
) -> None:
    """--teacher-cache is remembered: --resume alone does not paint the photos again elsewhere."""
    out, shared = tmp_path / "student.pt", tmp_path / "shared_cache"
    settings = {"size": 32, "batch_size": 2, "steps": 2, **FAST}
    train(_options(photo_dir, painting, out, teacher=teacher, teacher_cache=shared), settings, model_config=TINY)
    assert torch.load(out, weights_only=True)["teacher"]["cache"] == str(shared.resolve())
    painted = sorted(shared.rglob("*.png"))
    stamps = [path.stat().st_mtime_ns for path in painted]
    train(_options(photo_dir, painting, None, resume=out), {"steps": 3})
    assert torch.load(out, weights_only=True)["step"] == 3
    assert not out.with_name("student_teacher").exists()  # not painted again beside the output
    assert [path.stat().st_mtime_ns for path in painted] == stamps


@pytest.mark.parametrize(
    ("flags", "code", "message"),
    [
        (["--teacher", "missing.pt"], 3, "does not exist"),
        (["--teacher", "{painting}"], 2, "expected a checkpoint (.pt) or an exported model (.onnx)"),
        (["--teacher", "{teacher}", "--distill-pixel-weight", "0"], 2, "learns nothing from it"),
        (["--distill-gram-weight", "10"], 2, "--distill-gram-weight needs --teacher"),
        (["--teacher", "{teacher}", "--distill-gram-weight", "-1"], 2, "must be >= 0"),
        (["--temporal-weight", "-1"], 2, "must be >= 0"),
        (["--lr-decay", "1.5"], 2, "--lr-decay is the fraction"),
        (["--warp-grid", "0"], 2, "--warp-grid 1-64"),
    ],
)
def test_bad_distillation_options_are_one_line_errors(
    flags: list[str], code: int, message: str, teacher: Path, photo_dir: Path, painting: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    flags = [flag.format(painting=painting, teacher=teacher) for flag in flags]
    argv = ["train", "--style", str(painting), "--data", str(photo_dir), "-o", str(tmp_path / "x.pt"), "-q", *flags]
    assert main(argv) == code
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_temporal_weight_reaches_help_checkpoint_card_and_onnx_metadata(
    photo_dir: Path, painting: Path, tmp_path: Path, one_thread, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "--temporal-weight" in capsys.readouterr().out
    out = tmp_path / "stable.pt"
    argv = ["train", "--style", str(painting), "--data", str(photo_dir), "-o", str(out), "--size", "32",
            "--batch", "2", "--steps", "2", "--temporal-weight", "0.25", "-q", *FAST_FLAGS]  # fmt: skip
    assert main(argv) == 0
    assert torch.load(out, weights_only=True)["train_config"]["temporal_weight"] == 0.25
    onnx_path = tmp_path / "stable.onnx"
    assert main(["export", str(out), "-o", str(onnx_path), "--smooth-strength", "0.3", "-q"]) == 0
    import onnx

    meta = {p.key: p.value for p in onnx.load(str(onnx_path)).metadata_props}
    assert meta["stylecam.temporal_weight"] == "0.25"
    assert meta["stylecam.recommended_smooth_strength"] == "0.3"  # the runtime's default for this model
    from stylecam.export.bundle.record import train_command

    assert "--temporal-weight 0.25" in train_command(torch.load(out, weights_only=True), output="stable.pt")


FAST_FLAGS = ["--content-layers", "relu2_1", "--style-layers", "relu1_1,relu2_1"]


def test_learning_rate_schedule_is_constant_then_a_cosine_to_one_percent() -> None:
    assert learning_rate_at(0, 100, 1e-3, 0.0) == 1e-3
    assert learning_rate_at(79, 100, 1e-3, 0.2) == 1e-3
    assert learning_rate_at(80, 100, 1e-3, 0.2) == pytest.approx(1e-3)
    assert learning_rate_at(90, 100, 1e-3, 0.2) == pytest.approx(1e-3 * (0.01 + 0.99 * 0.5))
    assert learning_rate_at(100, 100, 1e-3, 0.2) == pytest.approx(1e-5)
    values = [learning_rate_at(step, 100, 1.0, 0.5) for step in range(50, 101)]
    assert all(a >= b for a, b in itertools.pairwise(values)) and not math.isclose(values[0], values[-1])


def test_a_decaying_run_ends_at_the_low_rate(photo_dir: Path, painting: Path, tmp_path: Path, one_thread) -> None:
    out = tmp_path / "decay.pt"
    settings = {"size": 32, "batch_size": 2, "steps": 4, "lr_decay": 0.5, "learning_rate": 0.01, **FAST}
    train(_options(photo_dir, painting, out), settings, model_config=TINY)
    groups = torch.load(out, weights_only=True)["optimizer"]["param_groups"]
    # the last step ran at step index 3 of 4: halfway through the decay window
    assert groups[0]["lr"] == pytest.approx(learning_rate_at(3, 4, 0.01, 0.5))
    assert np.isclose(groups[0]["base_lr"], 0.01)

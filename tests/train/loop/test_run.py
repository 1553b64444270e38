"""End-to-end training runs on tiny synthetic photos: checkpoint contents, Ctrl-C + exact resume, --init."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import cv2
import pytest

torch = pytest.importorskip("torch")

from stylecam.cli import main  # noqa: E402
from stylecam.train.config import RunOptions  # noqa: E402
from stylecam.train.loop.checkpoint import load_model  # noqa: E402
from stylecam.train.loop.runner import train  # noqa: E402
from stylecam.train.networks.model import ModelConfig  # noqa: E402

TINY = ModelConfig(arch="tiny-test", channels=(4, 8, 8), residual_blocks=1)
# VGG up to relu2_1 only: the tests check the plumbing, not the painting.
FAST = {"content_layers": ("relu2_1",), "style_layers": ("relu1_1", "relu2_1")}
FAST_FLAGS = ["--content-layers", "relu2_1", "--style-layers", "relu1_1,relu2_1"]
CHECKPOINT_KEYS = {
    "schema", "schema_version", "stylecam_version", "model", "model_config", "arch", "train_config",
    "train_config_digest", "optimizer", "scaler", "step", "images_seen", "style", "vgg", "data", "world_size",
    "init", "losses", "complete", "rng", "cadence",
}  # fmt: skip


def _options(photo_dir: Path, painting: Path, output: Path, **changes) -> RunOptions:
    values = {"style": str(painting), "data": photo_dir, "output": output, "sample_every": 0, "save_every": 0,
              "progress": False, **changes}  # fmt: skip
    return RunOptions(**values)


def test_tiny_cli_run_writes_a_complete_weights_only_checkpoint(
    photo_dir: Path, painting: Path, tmp_path: Path, one_thread, capsys: pytest.CaptureFixture[str]
) -> None:
    (photo_dir / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    out = tmp_path / "run" / "tiny.pt"
    out.parent.mkdir()
    # 7 files, batch 2, one epoch -> 4 steps
    argv = ["train", "--style", str(painting), "--data", str(photo_dir), "-o", str(out), "--size", "64",
            "--batch", "2", "--epochs", "1", "--sample-every", "2", "-q", *FAST_FLAGS]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out} (4 steps, 8 images" in printed and "skipped 1 unreadable photo" in printed

    data = torch.load(out, weights_only=True)  # plain data only: no pickled classes
    assert set(data) >= CHECKPOINT_KEYS
    assert data["step"] == 4 and data["images_seen"] == 8 and data["complete"] is True
    assert data["arch"] == "reference" and data["train_config"]["size"] == 64
    assert data["train_config"]["steps"] == 4 and data["train_config"]["epochs"] == 1.0
    assert data["style"]["name"] == "painting" and len(data["style"]["sha256"]) == 64
    assert len(data["vgg"]["sha256"]) == 64 and len(data["train_config_digest"]) == 64
    assert data["data"]["skipped"] == [str(photo_dir / "broken.jpg")] and data["data"]["images"] == 7
    assert set(data["losses"]) == {"content", "style", "tv", "total"}
    model, _ = load_model(out)
    assert model(torch.rand(1, 3, 32, 32) * 255).shape == (1, 3, 32, 32)

    sample = cv2.imread(str(out.with_name("tiny_sample.png")))
    assert sample is not None and sample.shape[0] > 2 * 256 and sample.shape[1] > 4 * 256
    logs = out.with_name("tiny_logs")
    assert (logs / "samples" / "step_0000002.png").is_file()
    assert len(list(logs.glob("events.out.tfevents.*"))) == 1


def _state(path: Path) -> dict:
    return torch.load(path, weights_only=True)


def test_ctrl_c_saves_and_resume_equals_an_uninterrupted_run(
    photo_dir: Path, painting: Path, tmp_path: Path, one_thread
) -> None:
    settings = {"size": 32, "batch_size": 2, "steps": 5, **FAST}
    straight = tmp_path / "straight.pt"
    train(_options(photo_dir, painting, straight), settings, model_config=TINY)

    def interrupt_at_step_2(state, _terms) -> None:
        if state.step == 2:
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C does; the step in flight completes

    stopped = tmp_path / "stopped.pt"
    with pytest.raises(KeyboardInterrupt):
        train(_options(photo_dir, painting, stopped, workers=1), settings, model_config=TINY,
              on_step=interrupt_at_step_2)  # fmt: skip
    partial = _state(stopped)
    assert partial["step"] == 2 and partial["complete"] is False

    # Resume needs nothing but the checkpoint: style, data and output come from it.
    result = train(RunOptions(resume=stopped, progress=False, sample_every=0, save_every=0))
    assert result.steps == 5
    a, b = _state(straight), _state(stopped)
    assert b["step"] == 5 and b["complete"] is True and b["images_seen"] == a["images_seen"] == 10
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key
    for index, slot in a["optimizer"]["state"].items():
        assert torch.equal(slot["exp_avg_sq"], b["optimizer"]["state"][index]["exp_avg_sq"])
    assert a["train_config_digest"] == b["train_config_digest"]


def test_resume_keeps_the_runs_save_cadence_and_log_folder_unless_told(
    photo_dir: Path, painting: Path, tmp_path: Path, one_thread
) -> None:
    settings = {"size": 32, "batch_size": 2, "steps": 3, **FAST}
    logs = tmp_path / "curves"
    first = tmp_path / "run.pt"
    train(_options(photo_dir, painting, first, save_every=2, log_dir=logs), settings, model_config=TINY)
    assert _state(first)["cadence"] == {"save_every": 2, "sample_every": 0, "log_dir": str(logs.resolve())}

    def on_disk(at: dict[int, int]):
        def hook(state, _terms) -> None:  # train() writes a step's checkpoint before this hook runs
            at[state.step] = _state(first)["step"]

        return hook

    # Nothing typed: every 2 steps as before (the default, 1000, would write nothing until the end).
    seen: dict[int, int] = {}
    train(RunOptions(resume=first, progress=False), {"steps": 6}, on_step=on_disk(seen))
    assert seen == {4: 4, 5: 4, 6: 4}  # with the default (1000) it would stay at 3 until the end
    assert _state(first)["step"] == 6 and _state(first)["cadence"]["save_every"] == 2
    assert len(list(logs.glob("events.out.tfevents.*"))) == 2  # the curves went on in the run's own folder
    assert not first.with_name("run_logs").exists()

    # A typed flag wins, and is what the next --resume keeps.
    seen.clear()
    train(RunOptions(resume=first, progress=False, save_every=0), {"steps": 9}, on_step=on_disk(seen))
    assert seen == {7: 6, 8: 6, 9: 6} and _state(first)["cadence"]["save_every"] == 0


def test_resume_of_a_checkpoint_without_a_cadence_uses_the_defaults(
    photo_dir: Path, painting: Path, tmp_path: Path, one_thread
) -> None:
    first = tmp_path / "old.pt"
    train(_options(photo_dir, painting, first), {"size": 32, "batch_size": 2, "steps": 2, **FAST}, model_config=TINY)
    data = _state(first)
    del data["cadence"]  # as written by stylecam before the cadence was kept
    torch.save(data, first)
    train(RunOptions(resume=first, progress=False), {"steps": 3})
    assert _state(first)["cadence"]["save_every"] == 1000 and _state(first)["cadence"]["sample_every"] == 500


def test_init_starts_from_another_network_with_a_frozen_encoder(
    photo_dir: Path, painting: Path, tmp_path: Path, one_thread
) -> None:
    first = tmp_path / "first.pt"
    train(_options(photo_dir, painting, first), {"size": 32, "batch_size": 2, "steps": 2, **FAST}, model_config=TINY)
    other_style = tmp_path / "other.png"
    cv2.imwrite(str(other_style), 255 - cv2.imread(str(painting)))
    second = tmp_path / "second.pt"
    settings = {"size": 32, "batch_size": 2, "steps": 3, "freeze_encoder_steps": 3, **FAST}
    train(_options(photo_dir, other_style, second, init=first), settings)  # network from --init

    before, after = _state(first), _state(second)
    assert after["model_config"] == TINY.to_dict() and after["step"] == 3 and after["optimizer"]["state"]
    assert (after["init"]["checkpoint"], after["init"]["style"]) == (str(first), "painting")
    assert [stage["checkpoint"] for stage in after["init"]["stages"]] == [str(first)]  # the run it started from
    assert after["style"]["name"] == "other"
    encoder = ("conv1.", "in1.", "conv2.", "in2.", "conv3.", "in3.")
    for key, value in before["model"].items():
        frozen = key.startswith(encoder)
        assert torch.equal(value, after["model"][key]) == frozen, key


@pytest.mark.slow
def test_export_at_the_end_writes_a_checked_onnx_with_the_training_digest(
    photo_dir: Path, painting: Path, tmp_path: Path, one_thread
) -> None:
    pytest.importorskip("onnxruntime")
    from stylecam.export.onnx import metadata_from_file

    ckpt, onnx_path = tmp_path / "tiny.pt", tmp_path / "tiny.onnx"
    options = _options(photo_dir, painting, ckpt, export=onnx_path, style_license="CC0 (synthetic test image)")
    result = train(options, {"size": 32, "batch_size": 2, "steps": 1, **FAST}, model_config=TINY)
    assert result.export == onnx_path and onnx_path.is_file()
    metadata = metadata_from_file(onnx_path)
    data = _state(ckpt)
    assert metadata.train_config_digest == data["train_config_digest"]
    assert (metadata.style_name, metadata.style_sha256) == ("painting", data["style"]["sha256"])
    assert metadata.style_license == "CC0 (synthetic test image)" and metadata.arch == "tiny-test"

"""stylecam train --norm: a compact network with per-frame statistics, from scratch or from a batch-norm one."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from stylecam.cli import main  # noqa: E402

FAST = ["--content-layers", "relu2_1", "--style-layers", "relu1_1,relu2_1", "--sample-every", "0", "-q"]


def _argv(painting: Path, photo_dir: Path, out: Path, *extra: str) -> list[str]:
    return ["train", "--style", str(painting), "--data", str(photo_dir), "-o", str(out),
            "--size", "32", "--batch", "2", *FAST, *extra]  # fmt: skip


def _norm_layers(state: dict[str, torch.Tensor]) -> set[str]:
    return {key.rsplit(".", 1)[0] for key in state if key.endswith("running_mean")}


def test_a_hybrid_lite_network_trains_records_its_norm_and_exports(
    photo_dir: Path, painting: Path, tmp_path: Path, one_thread
) -> None:
    out = tmp_path / "hybrid.pt"
    assert main(_argv(painting, photo_dir, out, "--arch", "lite", "--norm", "hybrid", "--steps", "2")) == 0
    data = torch.load(out, weights_only=True)
    assert data["model_config"]["norm"] == "hybrid" and data["train_config"]["norm"] == "hybrid"
    batch_norms = _norm_layers(data["model"])
    assert batch_norms and not any(name.startswith("residuals.") for name in batch_norms)
    from stylecam.export.bundle.record import train_command

    assert "--arch lite --norm hybrid" in train_command(data, output="hybrid.pt")
    onnx_path = tmp_path / "hybrid.onnx"
    assert main(["export", str(out), "-o", str(onnx_path), "-q"]) == 0 and onnx_path.stat().st_size > 0


def test_init_from_a_batch_norm_network_carries_its_weights_over(
    photo_dir: Path, painting: Path, tmp_path: Path, one_thread
) -> None:
    first = tmp_path / "batch.pt"
    assert main(_argv(painting, photo_dir, first, "--arch", "lite", "--steps", "2")) == 0
    second = tmp_path / "instance.pt"
    argv = _argv(painting, photo_dir, second, "--init", str(first), "--norm", "instance", "--steps", "1")
    argv += ["--lr", "1e-12"]
    assert main(argv) == 0
    before = torch.load(first, weights_only=True)["model"]
    after = torch.load(second, weights_only=True)
    assert after["model_config"]["norm"] == "instance" and not _norm_layers(after["model"])
    shared = [key for key in after["model"] if key in before]
    new = [key for key in after["model"] if key not in before]
    # every weight came from --init, but the biases the convolutions gain before instance norm: zero
    assert shared and new and all(key.endswith(".conv.bias") for key in new)
    for key in shared:
        torch.testing.assert_close(after["model"][key], before[key], msg=key, atol=1e-6, rtol=0)
    for key in new:
        assert after["model"][key].abs().max() < 1e-6, key
    # and back: batch norm again, its running statistics starting from the defaults
    third = tmp_path / "batch_again.pt"
    assert main(_argv(painting, photo_dir, third, "--init", str(second), "--norm", "batch", "--steps", "1")) == 0
    assert _norm_layers(torch.load(third, weights_only=True)["model"]) == _norm_layers(before)


def test_norm_is_refused_for_the_reference_network(
    photo_dir: Path, painting: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.pt"
    assert main(_argv(painting, photo_dir, out, "--norm", "hybrid", "--steps", "1")) == 2
    err = capsys.readouterr().err.strip()
    assert "--norm applies to the compact networks" in err and len(err.splitlines()) == 1
    assert not out.exists()
    with pytest.raises(SystemExit):
        main(_argv(painting, photo_dir, out, "--arch", "lite", "--norm", "group"))
    assert "invalid choice" in capsys.readouterr().err

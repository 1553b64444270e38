"""stylecam train --guide: a compact network whose output the photo's own detail guides at full resolution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stylecam.cli import main  # noqa: E402
from stylecam.errors import UsageError  # noqa: E402
from stylecam.train.networks.model import ModelConfig, build_model  # noqa: E402

FAST = ["--content-layers", "relu2_1", "--style-layers", "relu1_1,relu2_1", "--sample-every", "0", "-q"]
LITE = {"arch": "lite", "channels": (16, 32, 64), "residual_blocks": 5, "norm": "hybrid", "padding": "zeros"}


def _argv(painting: Path, photo_dir: Path, out: Path, *extra: str) -> list[str]:
    return ["train", "--style", str(painting), "--data", str(photo_dir), "-o", str(out),
            "--size", "32", "--batch", "2", *FAST, *extra]  # fmt: skip


def test_a_new_guide_computes_what_the_network_did_until_it_trains() -> None:
    torch.manual_seed(0)
    plain = build_model(ModelConfig(**LITE)).eval()
    guided = build_model(ModelConfig(**LITE, guide=8)).eval()
    missing, unexpected = guided.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and missing and all(key.startswith(("guide.", "skip_scale")) for key in missing)
    images = torch.rand(1, 3, 48, 64) * 255
    with torch.no_grad():
        torch.testing.assert_close(guided(images), plain(images))
        # a trained guide changes the output, and its photo input matters
        guided.guide.out.weight.normal_(0, 0.1)
        guided.skip_scale.fill_(0.5)
        changed = guided(images)
    assert (changed - plain(images)).abs().max() > 1.0


def test_baking_the_guide_keeps_the_output() -> None:
    torch.manual_seed(1)
    net = build_model(ModelConfig(**LITE, guide=4)).eval()
    with torch.no_grad():
        net.guide.out.weight.normal_(0, 0.2)
        net.guide.out.bias.normal_(0, 0.2)
        images = torch.rand(2, 3, 32, 40) * 255
        before = net(images)
        net.guide.bake_gain()
        net.guide.bake_gain()  # twice is once
        torch.testing.assert_close(net(images), before, atol=1e-3, rtol=1e-4)


def test_guide_is_only_for_compact_networks_and_bounded() -> None:
    with pytest.raises(UsageError, match="compact networks"):
        build_model(ModelConfig(guide=8))
    with pytest.raises(UsageError, match="0-64"):
        ModelConfig(**LITE, guide=-1)
    # a network without a guide keeps the config (and so the ONNX metadata) it always had
    assert "guide" not in ModelConfig(**LITE).to_dict()
    assert ModelConfig.from_dict(ModelConfig(**LITE, guide=8).to_dict()).guide == 8


def test_a_lite_network_gains_a_guide_with_init_trains_and_exports(
    photo_dir: Path, painting: Path, tmp_path: Path, one_thread
) -> None:
    first = tmp_path / "plain.pt"
    assert main(_argv(painting, photo_dir, first, "--arch", "lite", "--norm", "hybrid", "--steps", "2")) == 0
    second = tmp_path / "guided.pt"
    argv = _argv(painting, photo_dir, second, "--init", str(first), "--guide", "8", "--steps", "2")
    assert main(argv) == 0
    before = torch.load(first, weights_only=True)
    after = torch.load(second, weights_only=True)
    assert after["model_config"]["guide"] == 8 and after["train_config"]["guide"] == 8
    assert {key for key in after["model"] if key not in before["model"]} == {
        "guide.mix.weight", "guide.mix.bias", "guide.out.weight", "guide.out.bias", "skip_scale"
    }  # fmt: skip
    # two steps moved the guide off zero: it learns
    assert after["model"]["guide.out.weight"].abs().max() > 0
    from stylecam.export.bundle.record import train_command

    assert "--guide 8" in train_command(after, output="guided.pt")
    onnx_path = tmp_path / "guided.onnx"
    assert main(["export", str(second), "-o", str(onnx_path), "-q"]) == 0

    # the exported file rebuilds into the network it came from (a shipped model works as --init)
    import onnx

    from stylecam.export.rebuild import network_from_onnx
    from stylecam.onnxfile import metadata_of

    proto = onnx.load(str(onnx_path))
    assert metadata_of(proto, source="guided").model_config["guide"] == 8
    rebuilt = network_from_onnx(proto, source="guided").eval()
    trained = build_model(ModelConfig.from_dict(after["model_config"]))
    trained.load_state_dict(after["model"])
    trained.eval()
    images = torch.from_numpy(np.random.default_rng(0).uniform(0, 255, (1, 3, 40, 48)).astype(np.float32))
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(images), trained(images), atol=0.05, rtol=1e-4)


def test_guide_is_refused_for_the_reference_network(
    photo_dir: Path, painting: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.pt"
    assert main(_argv(painting, photo_dir, out, "--guide", "8", "--steps", "1")) == 2
    err = capsys.readouterr().err.strip()
    assert "--guide applies to the compact networks" in err and len(err.splitlines()) == 1
    assert not out.exists()

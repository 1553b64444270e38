"""Export fixtures: a tiny trained-looking network, its checkpoint, and exports shared per session.

Exports take seconds each on the CI machine, so each distinct export is made once per session
and the tests read the files (never modify them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from stylecam.cli import main  # noqa: E402
from stylecam.train.loop.checkpoint import save_checkpoint  # noqa: E402
from stylecam.train.networks.model import ModelConfig, TransformerNet, build_model  # noqa: E402

TINY = ModelConfig(channels=(8, 16, 16), residual_blocks=1)
# Fewer sizes than the default gate where a test only needs the mechanism; still odd and tiny ones.
QUICK_SIZES = ((1, 77, 101), (1, 3, 5))


def tiny_net(seed: int = 0) -> TransformerNet:
    """A tiny network whose outputs span 0..255 like a trained one (fresh init gives a flat grey)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():  # deterministic init without touching the global RNG
        torch.manual_seed(seed)
        net = build_model(TINY)
    with torch.no_grad():
        for name, param in net.named_parameters():
            if name.startswith("in"):
                param.add_(torch.randn(param.shape, generator=generator) * 0.3)
        net.deconv3.conv2d.weight.mul_(40.0)
        net.deconv3.conv2d.bias.fill_(128.0)
    return net.eval()


def write_checkpoint(path: Path, net: TransformerNet) -> Path:
    payload = {
        "model": net.state_dict(),
        "model_config": net.config.to_dict(),
        "step": 123,
        "train_config": {"size": 64, "style_weight": 1.0},
        "style": {"name": "stripes", "sha256": "0" * 64, "license": "CC0"},
    }
    return save_checkpoint(path, payload)


@dataclass(frozen=True)
class Exported:
    checkpoint: Path
    model: Path
    triton: Path


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.pt", tiny_net())


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory, tiny_checkpoint: Path) -> Exported:
    """`stylecam export` run once through the CLI: fp32, opset 17, full default parity gate, Triton."""
    folder = tmp_path_factory.mktemp("export")
    model, triton = folder / "tiny.onnx", folder / "triton"
    code = main(["export", str(tiny_checkpoint), "-o", str(model), "--triton", str(triton), "-q"])
    assert code == 0
    return Exported(tiny_checkpoint, model, triton)


@dataclass(frozen=True)
class ExportedFp16:
    path: Path
    report: object  # ParityReport


@pytest.fixture(scope="session")
def exported_fp16(tmp_path_factory: pytest.TempPathFactory, exported: Exported) -> ExportedFp16:
    """fp16 export gated against the session's fp32 export of the same weights (saves one export)."""
    from stylecam.export.metadata import metadata_from_checkpoint
    from stylecam.export.onnx import export_onnx
    from stylecam.export.verify import verify_parity

    net = tiny_net()
    meta = metadata_from_checkpoint({"model_config": net.config.to_dict()})
    path = export_onnx(net, tmp_path_factory.mktemp("fp16") / "tiny_fp16.onnx", metadata=meta, fp16=True)
    return ExportedFp16(path, verify_parity(path, net, fp32_model=exported.model, sizes=QUICK_SIZES))


@pytest.fixture(scope="session")
def exported_trt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from stylecam.export.metadata import metadata_from_checkpoint
    from stylecam.export.onnx import export_onnx

    net = tiny_net()
    meta = metadata_from_checkpoint({"model_config": net.config.to_dict()})
    return export_onnx(net, tmp_path_factory.mktemp("trt") / "tiny_trt.onnx", metadata=meta, trt_friendly=True)

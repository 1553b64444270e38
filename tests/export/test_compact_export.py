"""The compact networks through the export package: folded graph, parity gate, rebuild, runtime."""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from stylecam.export.metadata import (  # noqa: E402
    K_BORDER,
    K_FOLDED_NORMS,
    K_PARAM_ALIASES,
    ZEROS_ALIAS,
    metadata_from_checkpoint,
)
from stylecam.export.onnx import export_onnx  # noqa: E402
from stylecam.export.rebuild import network_from_onnx, verify_onnx_model  # noqa: E402
from stylecam.export.variants import fold_batch_norms, fold_for_export  # noqa: E402
from stylecam.export.verify import verify_parity  # noqa: E402
from stylecam.export.wrapper import ExportWrapper, pad_axis, reflect_indices  # noqa: E402
from stylecam.onnxfile import metadata_of  # noqa: E402
from stylecam.runtime.config import RuntimeConfig  # noqa: E402
from stylecam.runtime.inference.stylizer import Stylizer  # noqa: E402
from stylecam.train.networks.compact import CompactNet  # noqa: E402
from stylecam.train.networks.model import get_config  # noqa: E402
from stylecam.trtcheck import tensorrt_problems  # noqa: E402
from tests.conftest import make_photo  # noqa: E402
from tests.export.conftest import QUICK_SIZES  # noqa: E402


def tiny_compact(arch: str, *, trained: bool = True, seed: int = 0) -> CompactNet:
    """A small lite/fast network; ``trained``: batch-norm statistics and affine terms far from their init."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = CompactNet(replace(get_config(arch), channels=(8, 16, 32), residual_blocks=1))
        if trained:
            with torch.no_grad():
                for module in net.modules():
                    if isinstance(module, nn.BatchNorm2d):
                        module.running_mean.uniform_(-1.0, 1.0)
                        module.running_var.uniform_(0.5, 2.0)
                        module.weight.uniform_(0.5, 1.5)
                        module.bias.uniform_(-0.5, 0.5)
    return net.eval()


def _ops(path: Path) -> Counter[str]:
    return Counter(node.op_type for node in onnx.load(str(path)).graph.node)


@pytest.fixture(scope="module")
def lite_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[CompactNet, Path]:
    net = tiny_compact("lite")
    meta = metadata_from_checkpoint({"model_config": net.config.to_dict()}, style_license_override="CC0")
    return net, export_onnx(net, tmp_path_factory.mktemp("lite") / "lite.onnx", metadata=meta)


@pytest.mark.parametrize("arch", ["lite", "fast"])
def test_folding_keeps_the_output(arch: str) -> None:
    net = tiny_compact(arch)
    x = torch.rand(2, 3, 24, 40) * 255
    folded = fold_for_export(copy.deepcopy(net))
    with torch.no_grad():
        assert torch.allclose(folded(x), net(x), atol=1e-2)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert net.head.gain != 1.0 and folded.head.gain == 1.0  # the original is untouched


def test_a_batch_norm_without_a_conv_is_refused() -> None:
    with pytest.raises(ValueError, match="does not follow a conv"):
        fold_batch_norms(nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)).eval())


def test_lite_export_is_folded_gated_and_runs(lite_model: tuple[CompactNet, Path]) -> None:
    net, path = lite_model
    ops = _ops(path)
    assert ops["Conv"] + ops["ConvTranspose"] == sum(
        isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) for m in net.modules()
    )
    assert not {"BatchNormalization", "InstanceNormalization", "Pad"} & set(ops)
    meta = metadata_of(onnx.load(str(path)))
    batch_norms = sum(isinstance(m, nn.BatchNorm2d) for m in net.modules())
    assert (meta.arch, meta.stride, meta.extra[K_BORDER], meta.extra[K_FOLDED_NORMS]) == (
        "lite",
        8,
        "8",
        str(batch_norms),
    )
    assert tensorrt_problems(onnx.load(str(path))) == []
    assert verify_parity(path, net, sizes=QUICK_SIZES).passed
    assert verify_onnx_model(path, sizes=QUICK_SIZES, write=False).passed  # rebuilt from the file alone
    frame = make_photo(37, 53)
    with Stylizer(path, RuntimeConfig(provider="cpu")) as stylizer:
        out = stylizer(frame)
    assert out.shape == frame.shape and out.dtype == np.uint8 and np.abs(out.astype(int) - frame).mean() > 5


def test_hybrid_lite_folds_its_batch_norms_and_keeps_the_instance_norms(tmp_path: Path) -> None:
    with torch.random.fork_rng():
        torch.manual_seed(0)
        net = CompactNet(replace(get_config("lite"), channels=(8, 16, 32), residual_blocks=2, norm="hybrid")).eval()
    meta = metadata_from_checkpoint({"model_config": net.config.to_dict()}, style_license_override="CC0")
    path = export_onnx(net, tmp_path / "hybrid.onnx", metadata=meta)
    ops = _ops(path)
    assert "BatchNormalization" not in ops
    assert ops["InstanceNormalization"] == sum(isinstance(m, nn.InstanceNorm2d) for m in net.modules()) > 0
    assert verify_parity(path, net, sizes=QUICK_SIZES).passed
    assert verify_onnx_model(path, sizes=QUICK_SIZES, write=False).passed  # rebuilt from the file alone


def test_fast_exports_in_fp16_with_zero_biases(tmp_path: Path) -> None:
    # Fresh batch norms fold into all-zero conv biases, which the exporter drops from the graph:
    # the file records them as zeros and the rebuilt network still matches.
    net = tiny_compact("fast", trained=False)
    meta = metadata_from_checkpoint({"model_config": net.config.to_dict()}, style_license_override="CC0")
    fp32 = export_onnx(net, tmp_path / "fast.onnx", metadata=meta)
    fp16 = export_onnx(net, tmp_path / "fast16.onnx", metadata=meta, fp16=True)
    aliases = metadata_of(onnx.load(str(fp32))).extra[K_PARAM_ALIASES]
    assert ZEROS_ALIAS in aliases
    rebuilt = network_from_onnx(onnx.load(str(fp32)))
    x = torch.rand(1, 3, 16, 24) * 255
    with torch.no_grad():
        assert torch.allclose(rebuilt(x), net(x), atol=1e-2)
    report = verify_parity(fp16, net, fp32_model=fp32, sizes=QUICK_SIZES)
    assert report.passed and report.precision == "fp16"
    assert tensorrt_problems(onnx.load(str(fp16))) == []


class _Identity(nn.Module):
    stride, min_side, border = 8, 8, 8

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


@pytest.mark.parametrize(("height", "width"), [(1, 1), (3, 5), (8, 8), (13, 21), (40, 33)])
def test_border_is_cropped_off_again(height: int, width: int) -> None:
    frames = torch.from_numpy(make_photo(height, width)[None])
    wrapper = ExportWrapper(_Identity())
    assert (wrapper.stride, wrapper.min_side, wrapper.border) == (8, 8, 8)
    with torch.no_grad():
        assert torch.equal(wrapper(frames), frames)


@pytest.mark.parametrize(("size", "before", "target"), [(9, 0, 12), (9, 3, 16), (2, 3, 8), (1, 2, 8), (16, 8, 32)])
def test_pad_axis_reflects_then_repeats_the_edge(size: int, before: int, target: int) -> None:
    x = torch.arange(size, dtype=torch.float32).reshape(1, 1, 1, size)
    padded = pad_axis(x, 3, before, target)[0, 0, 0].tolist()
    assert len(padded) == target
    assert padded[before : before + size] == list(range(size))
    assert padded[before + size :] == reflect_indices(size, target - before, x.device)[size:].tolist()
    assert padded[:before] == [min(k, size - 1) for k in range(before, 0, -1)]

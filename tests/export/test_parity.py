"""The parity gate: PSNR bars, NaN/Inf detection, fp16 vs fp32, and models checked without checkpoints."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from stylecam.errors import VerificationError
from stylecam.export.rebuild import network_from_onnx, verify_onnx_model
from stylecam.export.verify import FP16_VS_FP32_DB, ORT_VS_TORCH_DB, psnr, report_path_for
from stylecam.onnxfile import load_onnx_safely, metadata_of
from tests.export.conftest import QUICK_SIZES, Exported

MODELS = sorted((Path(__file__).resolve().parents[2] / "stylecam" / "assets" / "models").glob("*.onnx"))


@pytest.mark.parametrize(
    ("delta", "expected"),
    [(0, math.inf), (1, 10 * math.log10(255**2 / 1)), (16, 10 * math.log10(255**2 / 256))],
)
def test_psnr(delta: int, expected: float) -> None:
    a = np.full((4, 5, 3), 100, dtype=np.uint8)
    assert psnr(a + np.uint8(delta), a) == pytest.approx(expected)


def test_rebuilt_network_has_the_exported_weights(exported: Exported) -> None:
    import torch

    from tests.export.conftest import tiny_net

    rebuilt = network_from_onnx(load_onnx_safely(exported.model))
    original = tiny_net().state_dict()
    for key, value in rebuilt.state_dict().items():
        assert torch.equal(value, original[key]), key


def test_gate_passes_without_the_checkpoint(exported: Exported, tmp_path: Path) -> None:
    copy = tmp_path / "copy.onnx"
    copy.write_bytes(exported.model.read_bytes())
    report = verify_onnx_model(copy, sizes=QUICK_SIZES)
    assert report.passed and report.precision == "fp32"
    assert min(report.min_psnr().values()) >= ORT_VS_TORCH_DB
    assert json.loads(report_path_for(copy).read_text())["passed"] is True


@pytest.mark.parametrize(("poison", "value"), [("nan", float("nan")), ("inf", 1e38)])
def test_nan_or_inf_fails_the_gate(exported: Exported, tmp_path: Path, poison: str, value: float) -> None:
    model = onnx.load(str(exported.model))
    for init in model.graph.initializer:
        if init.name == "net.conv2.conv2d.weight":
            array = numpy_helper.to_array(init).copy()
            array.flat[0] = value
            init.CopyFrom(numpy_helper.from_array(array, init.name))
    path = tmp_path / f"{poison}.onnx"
    onnx.save(model, str(path))
    report = verify_onnx_model(path, sizes=QUICK_SIZES)
    assert not report.passed
    assert any(not c.finite for c in report.comparisons)
    with pytest.raises(VerificationError, match="NaN/Inf"):
        report.raise_if_failed(report_path_for(path))
    assert json.loads(report_path_for(path).read_text())["passed"] is False


def test_fp16_export_meets_its_bars(exported_fp16) -> None:
    meta = metadata_of(load_onnx_safely(exported_fp16.path))
    assert meta.precision == "fp16" and meta.extra["stylecam.norm_precision"] == "fp32"
    lows = exported_fp16.report.min_psnr()
    assert lows["fp32 onnxruntime vs torch"] >= ORT_VS_TORCH_DB
    assert lows["fp16 vs fp32 onnxruntime"] >= FP16_VS_FP32_DB
    model = onnx.load(str(exported_fp16.path))
    types = {init.name: init.data_type for init in model.graph.initializer}
    assert types["net.conv1.conv2d.weight"] == onnx.TensorProto.FLOAT16
    assert types["net.in1.weight"] == onnx.TensorProto.FLOAT  # instance norm stays fp32


def test_fp16_weights_take_about_half_the_bytes(exported: Exported, exported_fp16) -> None:
    def weight_bytes(path: Path) -> int:
        return sum(numpy_helper.to_array(i).nbytes for i in onnx.load(str(path)).graph.initializer)

    assert weight_bytes(exported_fp16.path) < 0.6 * weight_bytes(exported.model)


@pytest.mark.parametrize("model", MODELS, ids=[m.name for m in MODELS])
def test_shipped_model_passes_the_gate(model: Path, tmp_path: Path) -> None:
    # Starts checking as soon as a model lands in stylecam/assets/models/ (none ship yet).
    copy = tmp_path / model.name
    copy.write_bytes(model.read_bytes())
    report = verify_onnx_model(copy)
    report.raise_if_failed(report_path_for(copy))
    bar = ORT_VS_TORCH_DB if report.precision == "fp32" else FP16_VS_FP32_DB
    assert min(report.min_psnr().values()) >= bar


@pytest.mark.gpu
def test_gate_also_runs_on_cuda(exported: Exported, tmp_path: Path) -> None:
    copy = tmp_path / "gpu.onnx"
    copy.write_bytes(exported.model.read_bytes())
    report = verify_onnx_model(copy, sizes=QUICK_SIZES)
    assert report.providers[0] == "CUDAExecutionProvider" and report.passed
    assert {c.provider for c in report.comparisons} == {"CUDAExecutionProvider", "CPUExecutionProvider"}

"""TensorRT readiness, checked on the ONNX side (TensorRT itself is not installed here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from stylecam.contract import INPUT_NAME
from stylecam.export.verify import psnr
from stylecam.trtcheck import TENSORRT_OPS, graph_ops, tensorrt_problems
from tests.conftest import make_photo
from tests.export.conftest import Exported


def test_standard_graph_uses_only_tensorrt_ops(exported: Exported) -> None:
    model = onnx.load(str(exported.model))
    ops = graph_ops(model)
    assert set(ops) <= set(TENSORRT_OPS)
    assert ops["InstanceNormalization"] == 7 and ops["Pad"] == 8 and ops["Resize"] == 2  # tiny net: 1 res block
    assert tensorrt_problems(model) == []


def test_trt_friendly_graph_has_no_norm_or_pad_ops(exported_trt: Path) -> None:
    model = onnx.load(str(exported_trt))
    ops = graph_ops(model)
    assert "InstanceNormalization" not in ops and "Pad" not in ops
    assert ops["ReduceMean"] == 2 * 7 and ops["Sqrt"] == 7 and ops["Concat"] > 0
    assert tensorrt_problems(model) == []
    onnx.checker.check_model(model, full_check=True)
    assert next(op.version for op in model.opset_import if op.domain == "") == 17  # ReduceMean axes as attribute


@pytest.mark.parametrize(("height", "width"), [(77, 101), (64, 64), (130, 90), (3, 5)])
def test_trt_friendly_graph_gives_the_same_frames(
    exported: Exported, exported_trt: Path, height: int, width: int
) -> None:
    frames = make_photo(height, width, seed=height)[None]
    outs = [
        ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]).run(None, {INPUT_NAME: frames})[0]
        for p in (exported.model, exported_trt)
    ]
    assert outs[1].shape == frames.shape
    assert np.abs(outs[0].astype(int) - outs[1].astype(int)).max() <= 1 and psnr(outs[1], outs[0]) >= 45.0


def _node_model(node: onnx.NodeProto, inputs: list[str]) -> onnx.ModelProto:
    graph = helper.make_graph(
        [
            helper.make_node("Cast", [INPUT_NAME], ["x"], to=TensorProto.FLOAT),
            node,
            helper.make_node("Cast", ["y"], ["stylized"], to=TensorProto.UINT8),
        ],
        "g",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.UINT8, [1, 3, 4, 4])],
        [helper.make_tensor_value_info("stylized", TensorProto.UINT8, None)],
    )
    return helper.make_model(graph)


@pytest.mark.parametrize(
    ("node", "problem"),
    [
        (helper.make_node("Pad", ["x", "p"], ["y"], mode="wrap"), "mode"),
        (helper.make_node("Resize", ["x", "", "s"], ["y"], mode="cubic"), "mode"),
        (
            helper.make_node("Resize", ["x", "", "s"], ["y"], coordinate_transformation_mode="tf_crop_and_resize"),
            "coordinate",
        ),
        (helper.make_node("NonZero", ["x"], ["y"]), "not in TensorRT"),
        (helper.make_node("Relu", ["x"], ["y"]), None),
    ],
)
def test_problems_are_named(node: onnx.NodeProto, problem: str | None) -> None:
    found = tensorrt_problems(_node_model(node, []))
    assert (found == []) if problem is None else any(problem in p for p in found)


def test_uint8_inside_the_graph_is_a_problem() -> None:
    graph = helper.make_graph(
        [helper.make_node("Transpose", [INPUT_NAME], ["stylized"], perm=[0, 2, 1, 3])],
        "g",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.UINT8, [1, 3, 4, 4])],
        [helper.make_tensor_value_info("stylized", TensorProto.UINT8, None)],
    )
    assert len(tensorrt_problems(helper.make_model(graph))) == 2

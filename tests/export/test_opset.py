"""Opset 18 -> 17 rewrite: adapters for the operators that changed, refusal for the rest."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from stylecam.errors import UsageError
from stylecam.export.opset import downgrade_to_opset17


def _model(nodes: list[onnx.NodeProto], inits: list[onnx.TensorProto], opset: int = 18) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", "c", "h", "w"])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


AXES = numpy_helper.from_array(np.array([2, 3], dtype=np.int64), "axes")
PADS = numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], dtype=np.int64), "pads")
SCALES = numpy_helper.from_array(np.array([1, 1, 2, 2], dtype=np.float32), "scales")


@pytest.mark.parametrize(
    ("nodes", "inits"),
    [
        ([helper.make_node("ReduceMean", ["x", "axes"], ["y"], keepdims=1)], [AXES]),
        ([helper.make_node("Pad", ["x", "pads"], ["y"], mode="reflect")], [PADS]),
        ([helper.make_node("Resize", ["x", "", "scales"], ["y"], mode="nearest", antialias=0)], [SCALES]),
    ],
)
def test_rewritten_model_is_valid_and_computes_the_same(nodes: list[onnx.NodeProto], inits: list) -> None:
    model = _model(nodes, inits)
    x = np.random.default_rng(0).normal(size=(1, 2, 4, 4)).astype(np.float32)
    expected = _run(model, x)
    downgraded = downgrade_to_opset17(model)
    assert downgraded.opset_import[0].version == 17
    onnx.checker.check_model(downgraded, full_check=True)
    np.testing.assert_allclose(_run(downgraded, x), expected)


@pytest.mark.parametrize(
    ("node", "inits", "message"),
    [
        (helper.make_node("Pad", ["x", "pads", "", "axes"], ["y"]), [PADS, AXES], "pads selected axes"),
        (helper.make_node("Resize", ["x", "", "scales"], ["y"], antialias=1), [SCALES], "antialias"),
        (helper.make_node("ReduceMean", ["x", "dyn"], ["y"]), [], "run time"),
        (helper.make_node("Split", ["x"], ["y", "z"], axis=1, num_outputs=2), [], "changed at opset 18"),
    ],
)
def test_operators_that_cannot_be_rewritten_are_refused(node, inits: list, message: str) -> None:
    model = _model([node], inits)
    if "dyn" in node.input:
        model.graph.input.append(helper.make_tensor_value_info("dyn", TensorProto.INT64, [2]))
    with pytest.raises(UsageError, match=message) as exc:
        downgrade_to_opset17(model)
    assert "--opset 18" in str(exc.value)


def test_only_opset_18_models_are_rewritten() -> None:
    with pytest.raises(UsageError, match="opset 19"):
        downgrade_to_opset17(_model([helper.make_node("Relu", ["x"], ["y"])], [], opset=19))

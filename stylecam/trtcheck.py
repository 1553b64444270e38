"""Static TensorRT readiness of an exported graph: every op, attribute mode and dtype it needs.

TensorRT cannot be installed here, so this checks the ONNX side against the ONNX-TensorRT
parser's published support matrix (onnx-tensorrt ``docs/operators.md`` for TensorRT 10, and its
changelog for the versions that added reflect padding and native instance norm). It was not run
against TensorRT itself. Torch-free.
"""

from __future__ import annotations

from collections import Counter

import onnx
from onnx import helper

# op -> note on what TensorRT needs (empty: supported without conditions relevant here).
TENSORRT_OPS: dict[str, str] = {
    "Add": "",
    "Cast": "",
    "Clip": "",
    "Concat": "",
    "Constant": "",
    "ConstantOfShape": "",
    "Conv": "weights must be initializers",
    "ConvTranspose": "weights must be initializers",
    "DepthToSpace": "",
    "Div": "",
    "Equal": "",
    "Expand": "",
    "Gather": "",
    "Greater": "",
    "Identity": "",
    "InstanceNormalization": "native layer from TensorRT 10 (plugin before); scale/bias of the input's dtype",
    "Less": "",
    "Max": "",
    "Min": "",
    "Mul": "",
    "Neg": "",
    "Pad": "reflect/edge modes from TensorRT 8.2",
    "Range": "",
    "ReduceMean": "axes must be constant",
    "Relu": "",
    "Reshape": "",
    "Resize": "nearest/linear; asymmetric, half_pixel, pytorch_half_pixel or align_corners",
    "Round": "",
    "Shape": "",
    "Slice": "axes must be constant",
    "SpaceToDepth": "",
    "Sqrt": "",
    "Squeeze": "axes must be constant",
    "Sub": "",
    "Transpose": "",
    "Unsqueeze": "axes must be constant",
    "Where": "",
}
_PAD_MODES = {b"constant", b"reflect", b"edge"}
_RESIZE_MODES = {b"nearest", b"linear"}
_RESIZE_COORDS = {b"asymmetric", b"half_pixel", b"pytorch_half_pixel", b"align_corners", b"tf_half_pixel_for_nn"}


def graph_ops(model: onnx.ModelProto) -> Counter[str]:
    """How many nodes of each op type the main graph has."""
    return Counter(node.op_type for node in model.graph.node)


def _attr(node: onnx.NodeProto, name: str, default: object) -> object:
    for attr in node.attribute:
        if attr.name == name:
            return helper.get_attribute_value(attr)
    return default


def tensorrt_problems(model: onnx.ModelProto) -> list[str]:
    """What would keep the ONNX-TensorRT parser from taking the whole graph (empty: nothing found)."""
    problems = [f"op {op} is not in TensorRT's ONNX support list" for op in graph_ops(model) if op not in TENSORRT_OPS]
    for node in model.graph.node:
        if node.op_type == "Pad" and _attr(node, "mode", b"constant") not in _PAD_MODES:
            problems.append(f"Pad {node.name} uses mode {_attr(node, 'mode', b'')!r}")
        if node.op_type == "Resize":
            if _attr(node, "mode", b"nearest") not in _RESIZE_MODES:
                problems.append(f"Resize {node.name} uses mode {_attr(node, 'mode', b'')!r}")
            if _attr(node, "coordinate_transformation_mode", b"half_pixel") not in _RESIZE_COORDS:
                problems.append(f"Resize {node.name} uses an unsupported coordinate transformation")
            if _attr(node, "antialias", 0):
                problems.append(f"Resize {node.name} uses antialiasing")
    # uint8 is accepted only as a network input or output: each one may only feed / come from a Cast.
    uint8 = onnx.TensorProto.UINT8
    for value in model.graph.input:
        users = {n.op_type for n in model.graph.node if value.name in n.input}
        if value.type.tensor_type.elem_type == uint8 and users - {"Cast"}:
            problems.append(f"uint8 input {value.name} feeds {sorted(users)}; TensorRT takes uint8 only into a Cast")
    for value in model.graph.output:
        makers = {n.op_type for n in model.graph.node if value.name in n.output}
        if value.type.tensor_type.elem_type == uint8 and makers - {"Cast"}:
            problems.append(f"uint8 output {value.name} comes from {sorted(makers)}; it must come from a Cast")
    return problems

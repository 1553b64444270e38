"""Opset 17 from the dynamo exporter, which writes opset 18 and up.

Opset 17 is what TensorRT 8.6 (JetPack 5/6, many deployed servers) reads, so it is our default.
torch's exporter emits opset >= 18, and ``onnx.version_converter`` has no 18 -> 17 adapter for
``Pad``. Opset 18 changed few operators, and only by adding optional inputs/attributes; for the
handful a style network uses, an opset-17 node means the same when the new ones are unused. So
each node whose schema changed at 18 gets a specific adapter below, every other changed operator
is refused with the fix (``--opset 18``), and ``onnx.checker`` full check validates the result.
"""

from __future__ import annotations

from collections.abc import Callable

import onnx
from onnx import defs, helper, numpy_helper

from stylecam.errors import UsageError

_REDUCE_OPS = {
    "ReduceL1",
    "ReduceL2",
    "ReduceLogSum",
    "ReduceLogSumExp",
    "ReduceMax",
    "ReduceMean",
    "ReduceMin",
    "ReduceProd",
    "ReduceSumSquare",
}


def _constant_values(graph: onnx.GraphProto, name: str) -> list[int] | None:
    for init in graph.initializer:
        if init.name == name:
            return [int(v) for v in numpy_helper.to_array(init).reshape(-1)]
    for node in graph.node:
        if node.op_type == "Constant" and name in node.output:
            return [int(v) for v in numpy_helper.to_array(node.attribute[0].t).reshape(-1)]
    return None


def _refuse(node: onnx.NodeProto, why: str) -> UsageError:
    return UsageError(f"cannot write {node.op_type} node {node.name!r} at opset 17 ({why}); use --opset 18")


def _pad(node: onnx.NodeProto, graph: onnx.GraphProto) -> None:
    # Pad-18 added the optional `axes` input; without it the node is a Pad-13.
    if len(node.input) > 3 and node.input[3]:
        raise _refuse(node, "it pads selected axes")


def _resize(node: onnx.NodeProto, graph: onnx.GraphProto) -> None:
    # Resize-18 added antialias, axes and keep_aspect_ratio_policy; their defaults mean Resize-13.
    defaults = {"antialias": 0, "keep_aspect_ratio_policy": b"stretch"}
    for attr in list(node.attribute):
        if attr.name == "axes" or (attr.name in defaults and helper.get_attribute_value(attr) != defaults[attr.name]):
            raise _refuse(node, f"it uses {attr.name}")
        if attr.name in defaults:
            node.attribute.remove(attr)


def _reduce(node: onnx.NodeProto, graph: onnx.GraphProto) -> None:
    # Reduce*-18 take `axes` as an input; opset 13 had it as an attribute.
    for attr in node.attribute:
        if attr.name == "noop_with_empty_axes" and attr.i:
            raise _refuse(node, "noop_with_empty_axes is set")
    kept = [a for a in node.attribute if a.name != "noop_with_empty_axes"]
    del node.attribute[:]
    node.attribute.extend(kept)
    if len(node.input) > 1 and node.input[1]:
        axes = _constant_values(graph, node.input[1])
        if axes is None:
            raise _refuse(node, "its axes are computed at run time")
        node.attribute.append(helper.make_attribute("axes", axes))
        del node.input[1:]


_ADAPTERS: dict[str, Callable[[onnx.NodeProto, onnx.GraphProto], None]] = {
    "Pad": _pad,
    "Resize": _resize,
    **dict.fromkeys(_REDUCE_OPS, _reduce),
}


def downgrade_to_opset17(model: onnx.ModelProto) -> onnx.ModelProto:
    """Rewrite an opset-18 model as opset 17 in place (UsageError when an operator cannot be)."""
    current = next(op.version for op in model.opset_import if op.domain in ("", "ai.onnx"))
    if current != 18:
        raise UsageError(f"opset 17 is written from the exporter's opset 18, got opset {current}")
    graph = model.graph
    for node in graph.node:
        if node.domain not in ("", "ai.onnx"):
            continue
        if any(attr.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for attr in node.attribute):
            raise _refuse(node, "it has a subgraph")
        if defs.get_schema(node.op_type, 18, "").since_version < 18:
            continue
        adapter = _ADAPTERS.get(node.op_type)
        if adapter is None:
            raise _refuse(node, "its meaning changed at opset 18")
        adapter(node, graph)
    for op in model.opset_import:
        if op.domain in ("", "ai.onnx"):
            op.version = 17
    _drop_unused_initializers(graph)
    return model


def _drop_unused_initializers(graph: onnx.GraphProto) -> None:
    # Reduce axes moved into attributes; their initializers would make ORT log a warning per load.
    used = {name for node in graph.node for name in node.input}
    kept = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)

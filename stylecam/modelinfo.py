"""What an exported model is: I/O, opset, size, parameters, ops, metadata. Torch-free (``stylecam info``)."""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import onnx
from onnx.external_data_helper import uses_external_data

from stylecam.contract import ModelMetadata
from stylecam.errors import StylecamError
from stylecam.onnxfile import load_onnx_safely, metadata_of, props_of, proto_text

# Written by stylecam export (stylecam.export.metadata); read here without importing the export side.
K_PARAMETERS = "stylecam.parameters"
K_PARAM_ALIASES = "stylecam.param_aliases"


@dataclass(frozen=True)
class TensorInfo:
    """A graph input or output: name, element type and shape (names for symbolic dims)."""

    name: str
    dtype: str
    shape: tuple[int | str, ...]


@dataclass(frozen=True)
class ModelInfo:
    """Everything ``stylecam info`` shows about a model."""

    path: Path
    size_bytes: int
    sha256: str
    ir_version: int
    opset: int
    producer: str
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    parameters: int
    ops: dict[str, int]
    external_data: bool
    props: dict[str, str] = field(default_factory=dict)
    metadata: ModelMetadata | None = None
    metadata_problem: str = ""
    tensorrt_problems: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k not in ("metadata",)}
        data["path"] = str(self.path)
        data["inputs"] = [t.__dict__ for t in self.inputs]
        data["outputs"] = [t.__dict__ for t in self.outputs]
        return data


def _tensor_info(value: onnx.ValueInfoProto) -> TensorInfo:
    tensor = value.type.tensor_type
    dims = tuple(d.dim_param or (d.dim_value if d.HasField("dim_value") else "?") for d in tensor.shape.dim)
    try:
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type).name if tensor.elem_type else "?"
    except (KeyError, ValueError):  # a type number no ONNX version defines (found by fuzzing)
        dtype = f"unknown type {tensor.elem_type}"
    dims = tuple(proto_text(d) if isinstance(d, bytes) else d for d in dims)
    return TensorInfo(proto_text(value.name), dtype, dims)


# Ops whose float inputs are sizes/scales, not learned weights (e.g. Resize's scales).
_SHAPE_OPS = {"Resize", "Upsample", "Pad", "Slice", "Reshape", "Expand", "Tile", "Range", "ConstantOfShape", "Clip"}


def count_weights(model: onnx.ModelProto, aliases: dict[str, str] | None = None) -> int:
    """Elements in the floating-point initializers that feed compute ops (the network's weights).

    ``aliases`` (parameter -> initializer) counts parameters that the exporter merged into an
    identical initializer once more each.
    """
    floats = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16, onnx.TensorProto.DOUBLE}
    users: dict[str, set[str]] = {}
    for node in model.graph.node:
        for name in node.input:
            users.setdefault(name, set()).add(node.op_type)
    sizes = {
        init.name: math.prod(init.dims)
        for init in model.graph.initializer
        if init.data_type in floats and init.dims and not users.get(init.name, set()) <= _SHAPE_OPS
    }
    return sum(sizes.values()) + sum(sizes.get(target, 0) for target in (aliases or {}).values())


def describe_model(path: str | os.PathLike[str]) -> ModelInfo:
    """Read a model's graph (external data is checked, not loaded) and describe it."""
    from stylecam.trtcheck import tensorrt_problems  # onnx-only module; no torch

    file = Path(path)
    model = load_onnx_safely(file, load_external_data=False)
    props = props_of(model)
    metadata, problem = None, ""
    try:
        metadata = metadata_of(model, source=file.name)
    except StylecamError as exc:
        problem = str(exc)
    try:
        aliases = json.loads(props.get(K_PARAM_ALIASES, "{}"))
    except ValueError:
        aliases = {}
    parameters = count_weights(model, aliases if isinstance(aliases, dict) else {})
    if props.get(K_PARAMETERS, "").isdigit():
        parameters = int(props[K_PARAMETERS])
    return ModelInfo(
        path=file,
        size_bytes=file.stat().st_size,
        sha256=hashlib.sha256(file.read_bytes()).hexdigest(),
        ir_version=model.ir_version,
        opset=next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0),
        producer=f"{proto_text(model.producer_name)} {proto_text(model.producer_version)}".strip(),
        inputs=tuple(_tensor_info(v) for v in model.graph.input),
        outputs=tuple(_tensor_info(v) for v in model.graph.output),
        parameters=parameters,
        ops=dict(Counter(proto_text(node.op_type) for node in model.graph.node).most_common()),
        external_data=any(uses_external_data(t) for t in model.graph.initializer),
        props=props,
        metadata=metadata,
        metadata_problem=problem,
        tensorrt_problems=tuple(tensorrt_problems(model)),
    )

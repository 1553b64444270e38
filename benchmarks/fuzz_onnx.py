"""Structure-level mutations of an ONNX model for the fuzz run, and the model they start from.

Parse the protobuf, break one thing that still serialises (huge or negative dims, wrong element
types, initializers whose dims lie, bogus external-data locations, a cycle, duplicate or unknown
ops, absurd attributes, petabyte upsampling, wrong opset/IR stamps, hostile metadata), write it
back. Byte-level mutations (:mod:`fuzz_mutate`) are mixed in too.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np
import onnx
from fuzz_mutate import BYTE_MUTATIONS, Mutation
from onnx import TensorProto, helper, numpy_helper

from stylecam.contract import INPUT_NAME, OUTPUT_NAME, ModelMetadata

# ------------------------------------------------------------------------------------ seeds


def seed_model() -> bytes:
    """A small stylecam-contract network shaped like the real one (pad, conv, norm, relu, upsample)."""
    rng = np.random.default_rng(7)
    weights = {
        "w1": rng.normal(0, 0.1, (8, 3, 3, 3)),
        "w2": rng.normal(0, 0.1, (3, 8, 3, 3)),
        "scale": np.ones(8),
        "bias": np.zeros(8),
    }
    inits = [numpy_helper.from_array(v.astype(np.float32), k) for k, v in weights.items()]
    inits += [
        numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "pads"),
        numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "up"),
        numpy_helper.from_array(np.array(0, np.float32), "lo"),
        numpy_helper.from_array(np.array(255, np.float32), "hi"),
    ]
    node = helper.make_node
    nodes = [
        node("Cast", [INPUT_NAME], ["x"], to=TensorProto.FLOAT),
        node("Transpose", ["x"], ["nchw"], perm=[0, 3, 1, 2]),
        node("Pad", ["nchw", "pads"], ["padded"], mode="reflect"),
        node("Conv", ["padded", "w1"], ["c1"], strides=[2, 2]),
        node("InstanceNormalization", ["c1", "scale", "bias"], ["n1"]),
        node("Relu", ["n1"], ["r1"]),
        node("Resize", ["r1", "", "up"], ["u1"], mode="nearest"),
        node("Pad", ["u1", "pads"], ["p2"], mode="reflect"),
        node("Conv", ["p2", "w2"], ["c2"]),
        node("Transpose", ["c2"], ["nhwc"], perm=[0, 2, 3, 1]),
        node("Clip", ["nhwc", "lo", "hi"], ["clipped"]),
        node("Cast", ["clipped"], [OUTPUT_NAME], to=TensorProto.UINT8),
    ]
    shape = ["N", "H", "W", 3]
    graph = helper.make_graph(
        nodes,
        "fuzz_seed",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.UINT8, shape)],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.UINT8, shape)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="stylecam-fuzz")
    model.ir_version = 8
    helper.set_model_props(model, ModelMetadata(arch="fuzz", stride=2, precision="fp32", opset=17).to_props())
    return model.SerializeToString()


# ------------------------------------------------------------------------------ ONNX structure


def _structural(edit: Callable[[onnx.ModelProto, random.Random], None]) -> Mutation:
    def mutation(data: bytes, rng: random.Random) -> bytes:
        model = onnx.ModelProto()
        model.ParseFromString(data)
        edit(model, rng)
        return model.SerializeToString()

    return mutation


def _any_dim(model: onnx.ModelProto, rng: random.Random) -> onnx.TensorShapeProto.Dimension:
    value = rng.choice([*model.graph.input, *model.graph.output])
    return rng.choice(value.type.tensor_type.shape.dim)


def huge_dims(model: onnx.ModelProto, rng: random.Random) -> None:
    _any_dim(model, rng).dim_value = rng.choice([2**31, 2**40, 2**62, 10**9])


def odd_dims(model: onnx.ModelProto, rng: random.Random) -> None:
    _any_dim(model, rng).dim_value = rng.choice([0, -1, -(2**40), 1, 7])


def wrong_elem_type(model: onnx.ModelProto, rng: random.Random) -> None:
    value = rng.choice([*model.graph.input, *model.graph.output])
    value.type.tensor_type.elem_type = rng.choice([0, 3, 7, 11, 16, 99, 1000])


def initializer_lies(model: onnx.ModelProto, rng: random.Random) -> None:
    """Dims that disagree with the stored bytes (too many, zero, negative, astronomically many)."""
    tensor = rng.choice(list(model.graph.initializer))
    if tensor.dims:
        tensor.dims[rng.randrange(len(tensor.dims))] = rng.choice([0, -3, 10**6, 2**40])
    else:
        tensor.dims.append(rng.choice([2, 10**9]))


def bogus_external_data(model: onnx.ModelProto, rng: random.Random) -> None:
    tensor = rng.choice(list(model.graph.initializer))
    tensor.ClearField("raw_data")
    tensor.ClearField("float_data")
    tensor.ClearField("int64_data")
    tensor.data_location = TensorProto.EXTERNAL
    location = rng.choice(["../../../etc/passwd", "/etc/shadow", "/dev/zero", "missing.bin", "", "a/../../b", "."])
    entries = {"location": location, "offset": str(rng.choice([0, 2**40])), "length": str(rng.choice([4, 2**40]))}
    for key, value in entries.items():
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value


def make_cycle(model: onnx.ModelProto, rng: random.Random) -> None:
    """Feed a later node's output back into an earlier node (a graph that never ends)."""
    nodes = model.graph.node
    early, late = sorted(rng.sample(range(len(nodes)), 2))
    if nodes[early].input:
        nodes[early].input[0] = nodes[late].output[0]


def duplicate_output_name(model: onnx.ModelProto, rng: random.Random) -> None:
    nodes = model.graph.node
    a, b = rng.sample(range(len(nodes)), 2)
    nodes[a].output[0] = nodes[b].output[0]


def unknown_op(model: onnx.ModelProto, rng: random.Random) -> None:
    node = rng.choice(list(model.graph.node))
    node.op_type = rng.choice(["Foo", "ConvTranspose", "Loop", "Scan", "If", "Gemm", "TopK", ""])


def absurd_attribute(model: onnx.ModelProto, rng: random.Random) -> None:
    conv = [n for n in model.graph.node if n.op_type in ("Conv", "Transpose", "Pad", "Cast", "Resize")]
    node = rng.choice(conv)
    node.ClearField("attribute")
    name, value = rng.choice(
        [
            ("strides", [0, 0]),
            ("strides", [2**31, 1]),
            ("pads", [-5, -5, -5, -5]),
            ("dilations", [10**6, 1]),
            ("kernel_shape", [10**5, 10**5]),
            ("perm", [0, 0, 0, 0]),
            ("perm", [9, 1, 2, 3]),
            ("to", 999),
            ("group", 0),
            ("mode", "warp"),
        ]
    )
    node.attribute.append(helper.make_attribute(name, value))


def huge_upsample(model: onnx.ModelProto, rng: random.Random) -> None:
    """Resize scales that ask for an output of petabytes."""
    scales = next(t for t in model.graph.initializer if t.name == "up")
    factor = rng.choice([1e3, 1e6, 1e9, -2.0, 0.0, float("nan"), float("inf")])
    scales.CopyFrom(numpy_helper.from_array(np.array([1, 1, factor, factor], np.float32), "up"))


def wrong_versions(model: onnx.ModelProto, rng: random.Random) -> None:
    if rng.random() < 0.5:
        model.opset_import[0].version = rng.choice([0, 1, 6, 99, 10**6])
    else:
        model.ir_version = rng.choice([0, 1, 2, 3, 15, 99, 2**40])


def hostile_metadata(model: onnx.ModelProto, rng: random.Random) -> None:
    key, value = rng.choice(
        [
            ("stylecam.pixel_contract", "{"),
            ("stylecam.pixel_contract", "[1, 2]"),
            ("stylecam.stride", "-4"),
            ("stylecam.stride", "1e400"),
            ("stylecam.contract_version", "999"),
            ("stylecam.contract_version", "one"),
            ("stylecam.input", "images"),
            ("stylecam.precision", "int4"),
            ("stylecam.model_config", '"a string"'),
            ("stylecam.model_config", "[" * 5000 + "]" * 5000),
        ]
    )
    for entry in model.metadata_props:
        if entry.key == key:
            entry.value = value


def drop_node(model: onnx.ModelProto, rng: random.Random) -> None:
    del model.graph.node[rng.randrange(len(model.graph.node))]


ONNX_MUTATIONS: dict[str, Mutation] = {
    **BYTE_MUTATIONS,
    "huge_dims": _structural(huge_dims),
    "odd_dims": _structural(odd_dims),
    "wrong_elem_type": _structural(wrong_elem_type),
    "initializer_lies": _structural(initializer_lies),
    "bogus_external_data": _structural(bogus_external_data),
    "make_cycle": _structural(make_cycle),
    "duplicate_output_name": _structural(duplicate_output_name),
    "unknown_op": _structural(unknown_op),
    "absurd_attribute": _structural(absurd_attribute),
    "huge_upsample": _structural(huge_upsample),
    "wrong_versions": _structural(wrong_versions),
    "hostile_metadata": _structural(hostile_metadata),
    "drop_node": _structural(drop_node),
}

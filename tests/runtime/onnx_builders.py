"""Tiny ONNX graphs for runtime tests, built with ``onnx.helper`` (no torch needed).

Every builder writes a file and returns its path. The contract models follow
:mod:`stylecam.contract` (uint8 NHWC BGR ``frames`` in, uint8 NHWC BGR ``stylized`` out, any N/H/W);
the legacy model follows the pytorch/examples convention (float32 NCHW RGB 0-255, unclamped). The
broken variants each break exactly one thing, for the reliability tests. The pipeline tests of
``stylecam run`` import these too.

Expected outputs, for asserting without a hard-coded table:

* ``op="identity"``: the input.
* ``op="invert"``: ``255 - input``.
* ``op="conv"``: :func:`conv_reference` (a 3x3 colour-mixing blur with reflect padding).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from stylecam.contract import INPUT_NAME, OUTPUT_NAME, ModelMetadata

DEFAULT_OPSET = 17
_FLOAT = {"fp32": (TensorProto.FLOAT, np.float32), "fp16": (TensorProto.FLOAT16, np.float16)}


def test_metadata(*, precision: str = "fp32", opset: int = DEFAULT_OPSET, arch: str = "test") -> ModelMetadata:
    """Stylecam metadata as ``stylecam export`` would write it, for a test graph."""
    return ModelMetadata(arch=arch, stride=1, precision=precision, opset=opset, style_name="synthetic")


test_metadata.__test__ = False  # type: ignore[attr-defined]  # not a pytest test despite the name


def conv_weights() -> np.ndarray:
    """The fixed (3, 3, 3, 3) kernel of the ``conv`` model: mixes channels, blurs, non-symmetric."""
    rng = np.random.default_rng(1234)
    weights = rng.uniform(0.0, 1.0, size=(3, 3, 3, 3)).astype(np.float32)
    return weights / weights.sum(axis=(1, 2, 3), keepdims=True)


def conv_reference(frames: np.ndarray) -> np.ndarray:
    """What the ``conv`` contract model computes, in numpy (float64 then round/clip to uint8)."""
    batch = frames.astype(np.float64)
    padded = np.pad(batch, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect")
    height, width = frames.shape[1:3]
    out = np.zeros(frames.shape, np.float64)
    weights = conv_weights().astype(np.float64)  # (out, in, kh, kw), channels in BGR order here
    for dy in range(3):
        for dx in range(3):
            window = padded[:, dy : dy + height, dx : dx + width, :]
            out += np.einsum("nhwi,oi->nhwo", window, weights[:, :, dy, dx])
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def _io(name: str, elem: int, shape: Sequence[int | str]) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem, list(shape))


def _save(
    path: Path,
    graph: onnx.GraphProto,
    *,
    opset: int,
    metadata: ModelMetadata | None,
    ir_version: int | None = None,
    extra_opsets: Sequence[tuple[str, int]] = (),
) -> Path:
    opsets = [helper.make_opsetid("", opset), *(helper.make_opsetid(d, v) for d, v in extra_opsets)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="stylecam-tests")
    model.ir_version = ir_version if ir_version is not None else min(model.ir_version, 8)
    if metadata is not None:
        helper.set_model_props(model, metadata.to_props())
    path = Path(path)
    onnx.save(model, str(path))
    return path


def _contract_nodes(op: str, float_type: int) -> tuple[list[onnx.NodeProto], list[onnx.TensorProto]]:
    """uint8 NHWC -> (float) -> op -> uint8 NHWC, the same shape as the exporter's wrapper."""
    if op == "identity":
        return [helper.make_node("Identity", [INPUT_NAME], [OUTPUT_NAME])], []
    np_float = {TensorProto.FLOAT: np.float32, TensorProto.FLOAT16: np.float16}[float_type]
    nodes = [helper.make_node("Cast", [INPUT_NAME], ["x"], to=float_type)]
    inits = [
        numpy_helper.from_array(np.array(0, np_float), "lo"),
        numpy_helper.from_array(np.array(255, np_float), "hi"),
    ]
    if op == "invert":
        nodes.append(helper.make_node("Sub", ["hi", "x"], ["y"]))
    elif op == "conv":
        inits.append(numpy_helper.from_array(conv_weights().astype(np_float), "w"))
        inits.append(numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "pads"))
        nodes += [
            helper.make_node("Transpose", ["x"], ["nchw"], perm=[0, 3, 1, 2]),
            helper.make_node("Pad", ["nchw", "pads"], ["padded"], mode="reflect"),
            helper.make_node("Conv", ["padded", "w"], ["conv"]),
            helper.make_node("Transpose", ["conv"], ["y"], perm=[0, 2, 3, 1]),
        ]
    else:
        raise ValueError(f"op {op!r}: choose identity, invert or conv")
    nodes += [
        helper.make_node("Clip", ["y", "lo", "hi"], ["clipped"]),
        helper.make_node("Round", ["clipped"], ["rounded"]),
        helper.make_node("Cast", ["rounded"], [OUTPUT_NAME], to=TensorProto.UINT8),
    ]
    return nodes, inits


def make_contract_model(
    path: Path,
    *,
    op: str = "invert",
    precision: str = "fp32",
    metadata: bool = True,
    opset: int = DEFAULT_OPSET,
    ir_version: int | None = None,
    shape: Sequence[int | str] = ("N", "H", "W", 3),
) -> Path:
    """A stylecam-contract model: uint8 NHWC BGR ``frames`` -> uint8 NHWC BGR ``stylized``.

    Args:
        path: where to write the ``.onnx`` file.
        op: ``identity``, ``invert`` (255 - x) or ``conv`` (see :func:`conv_reference`).
        precision: ``fp32`` or ``fp16`` arithmetic inside the graph (I/O stays uint8).
        metadata: write stylecam ``metadata_props`` (False: a bare graph, contract inferred).
        opset: default-domain opset to stamp (set it very high to test "newer than ORT").
        ir_version: IR version to stamp (default: 8, which every supported ORT reads).
        shape: the declared input/output shape (ints for static dims).
    """
    float_type = _FLOAT[precision][0]
    nodes, inits = _contract_nodes(op, float_type)
    graph = helper.make_graph(
        nodes,
        f"stylecam_test_{op}",
        [_io(INPUT_NAME, TensorProto.UINT8, shape)],
        [_io(OUTPUT_NAME, TensorProto.UINT8, shape)],
        inits,
    )
    meta = test_metadata(precision=precision, opset=opset, arch=f"test-{op}") if metadata else None
    return _save(path, graph, opset=opset, metadata=meta, ir_version=ir_version)


def make_legacy_float_model(
    path: Path,
    *,
    gains: tuple[float, float, float] = (1.0, 0.5, 0.25),
    offsets: tuple[float, float, float] = (0.0, 0.0, 0.0),
    shape: Sequence[int | str] = (1, 3, "H", "W"),
    input_name: str = "input1",
) -> Path:
    """A pytorch/examples-style model: float32 NCHW **RGB** 0-255 in, ``x * gain + offset`` out (unclamped).

    Per-channel gains (R, G, B) make a channel-order mistake visible; offsets outside 0-255 check clamping.
    """
    gain = numpy_helper.from_array(np.array(gains, np.float32).reshape(1, 3, 1, 1), "gain")
    offset = numpy_helper.from_array(np.array(offsets, np.float32).reshape(1, 3, 1, 1), "offset")
    nodes = [
        helper.make_node("Mul", [input_name, "gain"], ["scaled"]),
        helper.make_node("Add", ["scaled", "offset"], ["output1"]),
    ]
    graph = helper.make_graph(
        nodes,
        "legacy_rgb_float",
        [_io(input_name, TensorProto.FLOAT, shape)],
        [_io("output1", TensorProto.FLOAT, shape)],
        [gain, offset],
    )
    return _save(path, graph, opset=DEFAULT_OPSET, metadata=None)


def legacy_reference(frame_bgr: np.ndarray, gains: Sequence[float], offsets: Sequence[float]) -> np.ndarray:
    """Expected Stylizer output for :func:`make_legacy_float_model` (BGR frame in and out)."""
    rgb = frame_bgr[..., ::-1].astype(np.float64)
    out = rgb * np.asarray(gains) + np.asarray(offsets)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)[..., ::-1]


def make_signature_model(path: Path, *, elem: int, shape: Sequence[int | str], name: str = "x") -> Path:
    """An Identity model with an arbitrary input signature (wrong dtype / layout / channels)."""
    graph = helper.make_graph(
        [helper.make_node("Identity", [name], ["y"])],
        "odd_signature",
        [_io(name, elem, shape)],
        [_io("y", elem, shape)],
    )
    return _save(path, graph, opset=DEFAULT_OPSET, metadata=None)


def make_two_input_model(path: Path) -> Path:
    """A model with two inputs (not a style network)."""
    shape = ["N", "H", "W", 3]
    graph = helper.make_graph(
        [helper.make_node("Max", ["a", "b"], ["y"])],
        "two_inputs",
        [_io("a", TensorProto.UINT8, shape), _io("b", TensorProto.UINT8, shape)],
        [_io("y", TensorProto.UINT8, shape)],
    )
    return _save(path, graph, opset=DEFAULT_OPSET, metadata=None)


def make_custom_domain_model(path: Path) -> Path:
    """A contract-shaped model whose only node comes from an unregistered custom-op domain."""
    shape = ["N", "H", "W", 3]
    node = helper.make_node("Stylize", [INPUT_NAME], [OUTPUT_NAME], domain="evil.ops")
    graph = helper.make_graph(
        [node], "custom", [_io(INPUT_NAME, TensorProto.UINT8, shape)], [_io(OUTPUT_NAME, TensorProto.UINT8, shape)]
    )
    return _save(path, graph, opset=DEFAULT_OPSET, metadata=test_metadata(), extra_opsets=[("evil.ops", 1)])


def make_external_data_model(path: Path, *, location: str, write_data: bool = True) -> Path:
    """A contract ``conv`` model whose weights live in an external file at ``location`` (relative or not)."""
    model = onnx.load(str(make_contract_model(path, op="conv")))
    weights = next(t for t in model.graph.initializer if t.name == "w")
    data = weights.raw_data or numpy_helper.to_array(weights).tobytes()
    if write_data:
        target = Path(location) if Path(location).is_absolute() else Path(path).parent / location
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    weights.ClearField("raw_data")
    weights.ClearField("float_data")
    weights.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", str(len(data)))):
        entry = weights.external_data.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))
    return Path(path)


def write_truncated(path: Path, source: Path, *, keep: float = 0.5) -> Path:
    """Copy the first ``keep`` fraction of ``source`` to ``path`` (a download cut off midway)."""
    data = Path(source).read_bytes()
    Path(path).write_bytes(data[: max(1, int(len(data) * keep))])
    return Path(path)


def write_random_bytes(path: Path, size: int = 4096, seed: int = 0) -> Path:
    """Random bytes with an ``.onnx`` name."""
    Path(path).write_bytes(np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes())
    return Path(path)

"""Classify a session's input/output signature into a pixel contract the Stylizer can drive.

Two contracts are runnable:

* ``stylecam``: uint8 ``[N, H, W, 3]`` BGR in and out (:mod:`stylecam.contract`); everything else
  happens inside the graph;
* ``legacy``: float32/float16 ``[N, 3, H, W]`` RGB 0-255 in and out, unclamped: pytorch/examples
  ``fast_neural_style`` and the ONNX model zoo style models. The Stylizer converts in numpy.

Anything else is refused with the expected and the actual signature side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from stylecam.contract import ModelMetadata
from stylecam.errors import ModelLoadError

STYLECAM = "stylecam"
LEGACY = "legacy"
EXPECTED = (
    "expected uint8 [N, H, W, 3] BGR (stylecam contract: stylecam export) or float32 [N, 3, H, W] RGB 0-255 "
    "(pytorch/examples style)"
)
_TYPES = {"tensor(uint8)": np.uint8, "tensor(float)": np.float32, "tensor(float16)": np.float16}
# A fixed batch or frame size is fed as declared (frames are padded or resized to it), so an
# absurd declaration (a damaged or crafted file) would allocate terabytes: refuse it up front.
MAX_FIXED_BATCH = 256
MAX_FIXED_SIDE = 16384


class NodeArgLike(Protocol):
    name: str
    type: str
    shape: Sequence[Any]


@dataclass(frozen=True)
class ModelIO:
    """What the Stylizer feeds and reads: names, the contract, fixed dims (None when dynamic)."""

    contract: str
    input_name: str
    output_name: str
    dtype: type[np.generic]
    batch: int | None = None
    height: int | None = None
    width: int | None = None

    @property
    def fixed_hw(self) -> tuple[int, int] | None:
        return (self.height, self.width) if self.height and self.width else None


def describe(arg: NodeArgLike) -> str:
    dims = ", ".join(str(dim) if isinstance(dim, int) else (dim or "?") for dim in arg.shape)
    kind = arg.type.removeprefix("tensor(").removesuffix(")")
    kind = {"float": "float32", "double": "float64"}.get(kind, kind)
    return f"{arg.name!r} {kind} [{dims}]"


def _dim(value: Any) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


def inspect_io(
    inputs: Sequence[NodeArgLike],
    outputs: Sequence[NodeArgLike],
    *,
    metadata: ModelMetadata | None,
    source: str,
) -> ModelIO:
    """Return the runnable contract of a graph, or ModelLoadError naming expected vs actual."""
    if len(inputs) != 1:
        listed = "; ".join(describe(arg) for arg in inputs)
        raise ModelLoadError(
            f"{source} has {len(inputs)} inputs ({listed}); a style model has one image input, {EXPECTED}"
        )
    arg = inputs[0]
    shape = list(arg.shape)
    dtype = _TYPES.get(arg.type)
    if len(shape) != 4 or dtype is None:
        raise ModelLoadError(f"{source} has input {describe(arg)}; {EXPECTED}")
    last, second = _dim(shape[3]), _dim(shape[1])
    if dtype is np.uint8 and last in (3, None) and second != 3:
        contract = STYLECAM
    elif dtype is not np.uint8 and second == 3 and last != 3:
        contract = LEGACY
    else:
        layout = "NCHW" if second == 3 else "NHWC" if last == 3 else "unknown layout"
        raise ModelLoadError(f"{source} has input {describe(arg)} ({layout}); {EXPECTED}")
    if metadata is not None and (contract != STYLECAM or arg.name != metadata.input_name):
        raise ModelLoadError(
            f"{source}: its stylecam metadata declares input {metadata.input_name!r} uint8 [N, H, W, 3] but the graph "
            f"has {describe(arg)}; the file was edited or mis-exported, re-export it"
        )
    output = _pick_output(outputs, metadata, contract, source)
    height, width = (shape[1], shape[2]) if contract == STYLECAM else (shape[2], shape[3])
    io = ModelIO(contract, arg.name, output.name, dtype, _dim(shape[0]), _dim(height), _dim(width))
    if (io.batch or 0) > MAX_FIXED_BATCH or max(io.height or 0, io.width or 0) > MAX_FIXED_SIDE:
        raise ModelLoadError(
            f"{source} has input {describe(arg)}: a fixed batch above {MAX_FIXED_BATCH} or a fixed side above "
            f"{MAX_FIXED_SIDE} px is not a usable style model (the file is damaged or crafted); re-export it"
        )
    return io


def _pick_output(
    outputs: Sequence[NodeArgLike], metadata: ModelMetadata | None, contract: str, source: str
) -> NodeArgLike:
    if metadata is not None:
        named = [arg for arg in outputs if arg.name == metadata.output_name]
        if not named:
            listed = ", ".join(repr(arg.name) for arg in outputs)
            raise ModelLoadError(
                f"{source}: its metadata names output {metadata.output_name!r} but the graph has {listed}; re-export it"
            )
        output = named[0]
    elif outputs:
        output = outputs[0]
    else:
        raise ModelLoadError(f"{source} has no outputs; it is not a style model")
    want = "tensor(uint8)" if contract == STYLECAM else ("tensor(float)", "tensor(float16)")
    shape = list(output.shape)
    channel = shape[3] if contract == STYLECAM else shape[1] if len(shape) == 4 else None
    if output.type not in want or len(shape) != 4 or _dim(channel) not in (3, None):
        expected = "uint8 [N, H, W, 3]" if contract == STYLECAM else "float32 [N, 3, H, W]"
        raise ModelLoadError(f"{source} has output {describe(output)}; expected {expected} for its input layout")
    return output

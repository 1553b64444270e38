"""Read and vet an ``.onnx`` file before ONNX Runtime sees it.

Threat model, and why each check is here: an ONNX file is a protobuf, not a pickle, so *parsing*
it cannot run code (unlike a torch checkpoint). What remains is native code in ONNX Runtime:

* custom-op domains would need a shared library we never register, so they are refused up front
  with a clear message instead of an opaque ORT error;
* external-data paths could point outside the model's folder (``../../home/me/.ssh/id_rsa``) and
  make ORT read arbitrary files as weights: :func:`stylecam.onnxfile.load_onnx_safely` (shared
  with ``stylecam info``) refuses them, and truncated or corrupt protobufs, before anything else;
* an opset or IR version newer than the installed ORT is found by asking ORT itself about a tiny
  stand-in graph with the same stamps (ORT has no API that lists what it supports), so the user
  gets "re-export or upgrade" instead of a C++ message;
* ``onnx.checker`` catches malformed graphs before ORT's graph construction (where crafted models
  have crashed ORT in the past). A crash that slips through is contained by :mod:`.probe`.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import onnx
import onnxruntime as ort
from onnx import helper

from stylecam.errors import ModelLoadError
from stylecam.onnxfile import load_onnx_safely
from stylecam.paths import check_input_file

log = logging.getLogger(__name__)

# Domains ORT implements natively; anything else needs a custom-op library we never load.
BUILTIN_DOMAINS = frozenset({"", "ai.onnx", "com.microsoft"})
_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_MAGIC = b"\x80"
_MAX_OPSET = re.compile(r"till opset (\d+)")
_MAX_IR = re.compile(r"max supported IR version: (\d+)")


@dataclass(frozen=True)
class GraphArg:
    """A graph input or output as the proto declares it, spelled like ORT's NodeArg."""

    name: str
    type: str  # "tensor(uint8)", "tensor(float)", ...
    shape: tuple[int | str | None, ...]


@dataclass(frozen=True)
class ModelFile:
    """A vetted ONNX file: where it is and what it declares (the graph itself stays on disk).

    ``inputs``/``outputs`` are empty when the graph declares a non-tensor value (left to ORT).
    """

    path: Path
    ir_version: int
    opsets: dict[str, int]
    metadata_props: dict[str, str]
    producer: str
    sha256: str
    inputs: tuple[GraphArg, ...] = ()
    outputs: tuple[GraphArg, ...] = ()

    @property
    def opset(self) -> int:
        return self.opsets.get("", self.opsets.get("ai.onnx", 0))


def load_model_file(path: str | Path) -> ModelFile:
    """Run every pre-session check on ``path``; ModelLoadError (naming the file and the fix) on failure."""
    file = check_input_file(path, what="model")
    _refuse_other_formats(file)
    # Parses without reading external data, after checking every reference stays in the folder.
    proto = load_onnx_safely(file, load_external_data=False)
    _check_graph(proto, file)
    check_runtime_supports(proto, source=file.name)
    check_domains(proto, source=file.name)
    _run_checker(file)
    inputs, outputs = graph_signature(proto)
    return ModelFile(
        path=file,
        ir_version=proto.ir_version,
        opsets={o.domain: o.version for o in proto.opset_import},
        metadata_props={_text(p.key): _text(p.value) for p in proto.metadata_props},
        producer=f"{_text(proto.producer_name)} {_text(proto.producer_version)}".strip(),
        sha256=file_sha256(file),
        inputs=inputs,
        outputs=outputs,
    )


def _text(value: str | bytes) -> str:
    """protobuf hands back a string field that is not valid UTF-8 as bytes (a damaged file, found by fuzzing)."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _graph_arg(value: onnx.ValueInfoProto) -> GraphArg | None:
    if not value.type.HasField("tensor_type"):
        return None
    tensor = value.type.tensor_type
    try:
        kind = onnx.TensorProto.DataType.Name(tensor.elem_type).lower()
    except ValueError:  # a number no ONNX version defines (a damaged or crafted file)
        kind = f"unknown type {tensor.elem_type}"
    dims = tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in tensor.shape.dim)
    return GraphArg(_text(value.name), f"tensor({kind})", tuple(_text(d) if isinstance(d, bytes) else d for d in dims))


def graph_signature(proto: onnx.ModelProto) -> tuple[tuple[GraphArg, ...], tuple[GraphArg, ...]]:
    """The graph's real inputs (initializers excluded, as ORT lists them) and outputs; empty if untyped."""
    weights = {tensor.name for tensor in proto.graph.initializer}
    inputs = [_graph_arg(v) for v in proto.graph.input if v.name not in weights]
    outputs = [_graph_arg(v) for v in proto.graph.output]
    if any(arg is None for arg in [*inputs, *outputs]):
        return (), ()
    return tuple(inputs), tuple(outputs)  # type: ignore[arg-type]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _refuse_other_formats(file: Path) -> None:
    with open(file, "rb") as handle:
        head = handle.read(4)
    if head.startswith(_ZIP_MAGIC) or head.startswith(_PICKLE_MAGIC):
        # never suggest exporting a file onto itself: a checkpoint named .onnx is renamed first
        checkpoint = f"{file.stem}.pt" if file.suffix.lower() == ".onnx" else file.name
        rename = f"rename it to {checkpoint} and " if checkpoint != file.name else ""
        raise ModelLoadError(
            f"{file} looks like a PyTorch checkpoint, not an ONNX model; "
            f"{rename}export it first: stylecam export {checkpoint} -o {file.stem}.onnx"
        )


def _check_graph(proto: onnx.ModelProto, file: Path) -> None:
    if proto.ir_version <= 0 or not proto.graph.node or not proto.graph.input:
        raise ModelLoadError(f"{file} parses but holds no ONNX graph (empty or another format); export it again")


def check_runtime_supports(proto: onnx.ModelProto, *, source: str) -> None:
    """ModelLoadError "re-export or upgrade" when the model's IR/opset is newer than this ORT runs."""
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)
    problem = _unsupported_stamp(proto.ir_version, opset)
    if problem is None:
        return
    raise ModelLoadError(
        f"{source} was exported for ONNX IR version {proto.ir_version}, opset {opset}: {problem}; "
        "re-export it with an older --opset (stylecam export ... --opset 17) or upgrade onnxruntime "
        "(pip install -U onnxruntime)"
    )


@functools.lru_cache(maxsize=32)
def _unsupported_stamp(ir_version: int, opset: int) -> str | None:
    """Ask ORT whether it loads a one-node graph stamped like the model; None when it does."""
    value = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "stamp", [value], [value])
    graph.output[0].name = "y"
    stand_in = helper.make_model(graph, opset_imports=[helper.make_opsetid("", max(opset, 1))])
    stand_in.ir_version = ir_version
    try:
        ort.InferenceSession(stand_in.SerializeToString(), providers=["CPUExecutionProvider"])
    except Exception as exc:  # ORT raises its own Fail/InvalidGraph types; we classify by text
        text = str(exc)
        version = ort.__version__
        if match := _MAX_IR.search(text):
            return f"onnxruntime {version} reads IR versions up to {match.group(1)}"
        if match := _MAX_OPSET.search(text):
            return f"onnxruntime {version} supports opsets up to {match.group(1)}"
        if "opset" in text.lower() or "ir version" in text.lower():
            return f"onnxruntime {version} refuses it ({text.splitlines()[-1].strip()[:200]})"
        log.debug("version stand-in failed for another reason: %s", text)
    return None


def check_domains(proto: onnx.ModelProto, *, source: str) -> None:
    """Refuse nodes from custom-op domains (they need native libraries stylecam never loads)."""
    local = {(f.domain, f.name) for f in proto.functions}
    domains = {_text(node.domain) for node in _nodes(proto.graph)}
    foreign = sorted(domains - BUILTIN_DOMAINS - {_text(domain) for domain, _ in local})
    if foreign:
        raise ModelLoadError(
            f"{source} uses custom operators from {', '.join(map(repr, foreign))}, which need native plug-in libraries "
            "stylecam does not load; export the model with standard ONNX operators only"
        )


def _nodes(graph: onnx.GraphProto) -> Iterator[onnx.NodeProto]:
    for node in graph.node:
        yield node
        for attr in node.attribute:
            subgraphs = [attr.g] if attr.HasField("g") else []
            for sub in [*subgraphs, *attr.graphs]:
                yield from _nodes(sub)


def _run_checker(file: Path) -> None:
    try:
        onnx.checker.check_model(str(file))
    except onnx.checker.ValidationError as exc:
        first = str(exc).strip().splitlines()[0][:300]
        if "higher than the checker" in first:
            raise ModelLoadError(
                f"{file} is newer than the installed onnx package can check ({first}); upgrade it: pip install -U onnx"
            ) from exc
        raise ModelLoadError(f"{file} fails the ONNX checker ({first}); the file is damaged, re-export it") from exc
    except UnicodeDecodeError as exc:  # the checker's own message quotes a name that is not UTF-8
        raise ModelLoadError(
            f"{file} fails the ONNX checker (a name in it is not valid UTF-8); the file is damaged, re-export it"
        ) from exc

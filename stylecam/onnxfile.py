"""Loading ONNX files that may be untrusted, without torch.

A ``.onnx`` file is a protobuf that can point at *external data* files by relative path. A hostile
model could name ``../../etc/passwd`` or an absolute path and have a loader read it into a tensor,
or declare offsets past the end of a file. :func:`load_onnx_safely` reads the graph first, checks
every external reference (relative, inside the model's own folder after resolving links, an
existing regular file, offset and length inside it) and only then loads the data. Truncated or
corrupt files become a :class:`ModelLoadError` that says what to do.

Both ``stylecam info`` and the runtime use this module; it never imports torch.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import onnx
from google.protobuf.message import DecodeError
from onnx.external_data_helper import ExternalDataInfo, load_external_data_for_model, uses_external_data

from stylecam.contract import ModelMetadata
from stylecam.errors import ModelLoadError
from stylecam.paths import check_input_file

__all__ = ["iter_tensors", "load_onnx_safely", "metadata_of", "props_of", "proto_text"]


def _graph_tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                yield attr.t
            yield from attr.tensors
            if attr.HasField("g"):
                yield from _graph_tensors(attr.g)
            for sub in attr.graphs:
                yield from _graph_tensors(sub)


def iter_tensors(model: onnx.ModelProto) -> Iterator[onnx.TensorProto]:
    """Every tensor of a model: initializers, sparse ones, node attributes, subgraphs, functions."""
    yield from _graph_tensors(model.graph)
    for function in model.functions:
        for node in function.node:
            for attr in node.attribute:
                if attr.HasField("t"):
                    yield attr.t
                yield from attr.tensors


def _check_external_reference(tensor: onnx.TensorProto, folder: Path, source: Path) -> None:
    info = ExternalDataInfo(tensor)
    location = info.location or ""
    where = f"{source}: tensor {tensor.name!r} points at external data {location!r}"
    if not location or os.path.isabs(location) or Path(location).is_absolute() or ".." in Path(location).parts:
        raise ModelLoadError(
            f"{where}, outside the model's folder; refusing to read it (a model may only use data files "
            "next to it: re-export it, or move its .data file beside the .onnx and fix the reference)"
        )
    target = (folder / location).resolve()
    if not target.is_relative_to(folder.resolve()):
        raise ModelLoadError(f"{where}, which resolves outside the model's folder (a link?); refusing to read it")
    if not target.is_file():
        raise ModelLoadError(f"{where}, which does not exist; copy the data file next to the model")
    size = target.stat().st_size
    offset = int(info.offset or 0)
    length = int(info.length) if info.length is not None else size - offset
    if offset < 0 or length < 0 or offset + length > size:
        raise ModelLoadError(
            f"{where} at bytes {offset}..{offset + length}, but that file has {size} bytes; it is truncated or "
            "corrupt: re-download or re-export the model"
        )


def load_onnx_safely(path: str | os.PathLike[str], *, load_external_data: bool = True) -> onnx.ModelProto:
    """Load an ONNX model, refusing external data outside its folder; corrupt files -> ModelLoadError.

    Args:
        path: the ``.onnx`` file.
        load_external_data: read external tensors into the model (after checking every reference).
            With False the references are still checked, but only the graph is read (for ``info``).

    Raises:
        InputError: the path is missing, a folder, unreadable or empty.
        ModelLoadError: not an ONNX protobuf, truncated, or external data that escapes the folder.
    """
    file = check_input_file(path, what="model")
    try:
        model = onnx.load(str(file), load_external_data=False)
    except (DecodeError, ValueError, RuntimeError, OSError, UnicodeDecodeError) as exc:
        raise ModelLoadError(
            f"{file} is not a readable ONNX model ({type(exc).__name__}); it is truncated or corrupt: "
            "re-download it or export it again with `stylecam export`"
        ) from exc
    if not model.HasField("graph") or not model.opset_import:
        raise ModelLoadError(
            f"{file} is not an ONNX model (no graph or opset; truncated or another file type?); "
            "export one with `stylecam export CKPT -o MODEL.onnx`"
        )
    folder = file.parent
    external = [tensor for tensor in iter_tensors(model) if uses_external_data(tensor)]
    for tensor in external:
        _check_external_reference(tensor, folder, file)
    if external and load_external_data:
        try:
            load_external_data_for_model(model, str(folder))
        except (OSError, ValueError, onnx.checker.ValidationError) as exc:
            raise ModelLoadError(f"{file}: its external data could not be read ({exc}); re-export the model") from exc
    return model


def proto_text(value: str | bytes) -> str:
    """A protobuf string field as text: one that is not valid UTF-8 comes back as bytes (a damaged file)."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def props_of(model: onnx.ModelProto) -> dict[str, str]:
    """The model's ``metadata_props`` as a dict (text even where the file holds invalid UTF-8)."""
    return {proto_text(prop.key): proto_text(prop.value) for prop in model.metadata_props}


def metadata_of(model: onnx.ModelProto, *, source: str = "model") -> ModelMetadata:
    """Parse the stylecam metadata of a loaded model (ModelLoadError names what is missing)."""
    return ModelMetadata.from_props(props_of(model), source=source)

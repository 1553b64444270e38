"""Untrusted ONNX files: external data confined to the model's folder, corrupt files refused clearly."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from stylecam.errors import InputError, ModelLoadError
from stylecam.onnxfile import load_onnx_safely, metadata_of


def _model() -> onnx.ModelProto:
    weight = numpy_helper.from_array(np.arange(64, dtype=np.float32), name="w")
    node = helper.make_node("Add", ["x", "w"], ["y"])
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [64])],
        [weight],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _save_external(folder: Path) -> Path:
    path = folder / "model.onnx"
    onnx.save(_model(), str(path), save_as_external_data=True, location="model.data", size_threshold=0)
    return path


def _set_location(path: Path, location: str, **extra: str) -> None:
    model = onnx.load(str(path), load_external_data=False)
    entries = {e.key: e.value for e in model.graph.initializer[0].external_data}
    entries.update(location=location, **extra)
    del model.graph.initializer[0].external_data[:]
    for key, value in entries.items():
        model.graph.initializer[0].external_data.add(key=key, value=value)
    onnx.save(model, str(path))


def test_external_data_beside_the_model_loads(tmp_path: Path) -> None:
    model = load_onnx_safely(_save_external(tmp_path))
    assert numpy_helper.to_array(model.graph.initializer[0])[5] == 5.0


def test_graph_only_load_checks_references_without_reading(tmp_path: Path) -> None:
    model = load_onnx_safely(_save_external(tmp_path), load_external_data=False)
    assert not model.graph.initializer[0].raw_data


def _escape_parent(folder: Path) -> str:
    (folder.parent / "secret.bin").write_bytes(b"\0" * 256)
    return "../secret.bin"


def _absolute(folder: Path) -> str:
    (folder.parent / "abs.bin").write_bytes(b"\0" * 256)
    return str(folder.parent / "abs.bin")


def _link_out(folder: Path) -> str:
    (folder.parent / "outside.bin").write_bytes(b"\0" * 256)
    os.symlink(folder.parent / "outside.bin", folder / "link.bin")
    return "link.bin"


def _missing(folder: Path) -> str:
    return "nowhere.data"


@pytest.mark.parametrize(
    ("make_location", "message"),
    [
        (_escape_parent, "outside the model's folder"),
        (_absolute, "outside the model's folder"),
        (_link_out, "resolves outside"),
        (_missing, "does not exist"),
    ],
)
def test_hostile_external_references_are_refused(
    tmp_path: Path, make_location: Callable[[Path], str], message: str
) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    path = _save_external(folder)
    _set_location(path, make_location(folder))
    for load_data in (True, False):
        with pytest.raises(ModelLoadError, match=message):
            load_onnx_safely(path, load_external_data=load_data)


def test_external_range_past_the_end_is_refused(tmp_path: Path) -> None:
    path = _save_external(tmp_path)
    _set_location(path, "model.data", offset="0", length=str(10**9))
    with pytest.raises(ModelLoadError, match="truncated or corrupt"):
        load_onnx_safely(path)


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"\x08\x07\x12\x05hello" + os.urandom(300), ModelLoadError),  # protobuf-looking garbage
        (os.urandom(512), ModelLoadError),
        (b"", InputError),
    ],
)
def test_garbage_files_give_clear_errors(tmp_path: Path, content: bytes, error: type[Exception]) -> None:
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    with pytest.raises(error) as exc:
        load_onnx_safely(path)
    assert str(path) in str(exc.value)


def test_truncated_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cut.onnx"
    onnx.save(_model(), str(path))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelLoadError, match=r"truncated or corrupt|not an ONNX model"):
        load_onnx_safely(path)


def test_missing_model_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_onnx_safely(tmp_path / "nope.onnx")


def test_model_without_stylecam_metadata_says_how_to_export(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="stylecam export"):
        metadata_of(_model(), source="plain.onnx")

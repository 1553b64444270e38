"""Model-file reliability: corrupt, truncated, foreign, too new, hostile, or the wrong signature."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto

from stylecam.errors import InputError, ModelLoadError
from stylecam.runtime.config import RuntimeConfig
from stylecam.runtime.inference import stylizer as stylizer_module
from stylecam.runtime.inference.modelfile import load_model_file
from stylecam.runtime.inference.stylizer import Stylizer
from tests.runtime.conftest import FAST
from tests.runtime.onnx_builders import (
    make_contract_model,
    make_custom_domain_model,
    make_external_data_model,
    make_signature_model,
    make_two_input_model,
    write_random_bytes,
    write_truncated,
)


def _torch_checkpoint(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:  # torch.save writes a zip archive
        archive.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    return path


def _empty_graph(path: Path) -> Path:
    path.write_bytes(onnx.ModelProto(ir_version=8).SerializeToString())
    return path


def _nodeless_graph(path: Path) -> Path:
    model = onnx.helper.make_model(onnx.helper.make_graph([], "empty", [], []))
    onnx.save(model, str(path))
    return path


def _checker_failure(path: Path) -> Path:
    model = onnx.load(str(make_contract_model(path, op="invert")))
    model.graph.node[0].input[0] = "not_defined_anywhere"  # dangling edge: checker rejects it
    onnx.save(model, str(path))
    return path


def _unknown_element_type(path: Path) -> Path:
    model = onnx.load(str(make_contract_model(path, op="invert")))
    model.graph.input[0].type.tensor_type.elem_type = 1000  # no ONNX version defines it (found by fuzzing)
    onnx.save(model, str(path))
    return path


def _name_not_utf8(path: Path) -> Path:
    """A tensor name that is not UTF-8 (found by fuzzing: the checker raised UnicodeDecodeError)."""
    data = make_contract_model(path, op="invert").read_bytes()
    second = data.index(b"clipped", data.index(b"clipped") + 1)  # the Round node's input: now dangling
    path.write_bytes(data[:second] + b"clip\xf3\x28d" + data[second + 7 :])
    return path


BROKEN: dict[str, tuple[Callable[[Path], Path], type[Exception], str]] = {
    "missing": (lambda p: p, InputError, "does not exist"),
    "empty": (lambda p: (p.write_bytes(b""), p)[1], InputError, "empty"),
    "random bytes": (write_random_bytes, ModelLoadError, "not a readable ONNX model"),
    "truncated": (
        lambda p: write_truncated(p, make_contract_model(p.with_name("full.onnx"), op="conv"), keep=0.6),
        ModelLoadError,
        "truncated or corrupt",
    ),
    "torch checkpoint": (
        _torch_checkpoint,
        ModelLoadError,
        r"rename it to model\.pt and export it first: stylecam export model\.pt -o model\.onnx",
    ),
    "empty graph": (_empty_graph, ModelLoadError, r"not an ONNX model \(no graph"),
    "graph without nodes": (_nodeless_graph, ModelLoadError, "holds no ONNX graph"),
    "name not UTF-8": (_name_not_utf8, ModelLoadError, r"fails the ONNX checker \(a name in it is not valid UTF-8\)"),
    "unknown element type": (_unknown_element_type, ModelLoadError, r"'frames' unknown type 1000 \[N, H, W, 3\]"),
    "opset too new": (
        lambda p: make_contract_model(p, opset=99),
        ModelLoadError,
        r"opset 99.*supports opsets up to \d+.*older --opset.*upgrade onnxruntime",
    ),
    "IR too new": (
        lambda p: make_contract_model(p, ir_version=99),
        ModelLoadError,
        r"IR version 99.*reads IR versions up to \d+.*re-export.*upgrade onnxruntime",
    ),
    "custom op domain": (make_custom_domain_model, ModelLoadError, "evil.ops.*standard ONNX operators"),
    "external data escapes": (
        lambda p: make_external_data_model(p, location="../outside/weights.bin"),
        ModelLoadError,
        "outside the model's folder",
    ),
    "external data absolute": (
        lambda p: make_external_data_model(p, location="/etc/hostname", write_data=False),
        ModelLoadError,
        "outside the model's folder",
    ),
    "external data missing": (
        lambda p: make_external_data_model(p, location="weights.bin", write_data=False),
        ModelLoadError,
        "does not exist; copy the data file next to the model",
    ),
    "checker failure": (_checker_failure, ModelLoadError, "fails the ONNX checker"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_model_files_fail_with_a_named_fix(tmp_path: Path, case: str) -> None:
    build, error, message = BROKEN[case]
    path = tmp_path / "sub" / "model.onnx"
    path.parent.mkdir()
    build(path)
    with pytest.raises(error, match=message) as caught:
        Stylizer(path, FAST)
    assert "\n" not in str(caught.value)


def test_external_data_inside_the_folder_loads(tmp_path: Path) -> None:
    path = make_external_data_model(tmp_path / "ext.onnx", location="weights/w.bin")
    assert load_model_file(path).opset == 17


def test_model_file_reports_what_it_declares(conv_model: Path) -> None:
    model = load_model_file(conv_model)
    assert model.ir_version == 8 and model.opsets == {"": 17}
    assert model.metadata_props["stylecam.arch"] == "test-conv" and len(model.sha256) == 64


WRONG_SIGNATURES = {
    "float NHWC": ({"elem": TensorProto.FLOAT, "shape": [1, "H", "W", 3]}, r"'x' float32 \[1, H, W, 3\] \(NHWC\)"),
    "uint8 NCHW": ({"elem": TensorProto.UINT8, "shape": ["N", 3, "H", "W"]}, r"uint8 \[N, 3, H, W\] \(NCHW\)"),
    "grey input": ({"elem": TensorProto.FLOAT, "shape": [1, 1, "H", "W"]}, r"float32 \[1, 1, H, W\]"),
    "rank 3": ({"elem": TensorProto.UINT8, "shape": ["H", "W", 3]}, r"uint8 \[H, W, 3\]"),
    "int64": ({"elem": TensorProto.INT64, "shape": [1, 3, "H", "W"]}, r"int64 \[1, 3, H, W\]"),
}
# fixed sizes the Stylizer would pad or resize every frame to (found by fuzzing: 10 TiB for a batch)
ABSURD_SIGNATURES = {
    "batch 2**31": ({"elem": TensorProto.UINT8, "shape": [2**31 - 1, "H", "W", 3]}, r"\[2147483647, H, W, 3\]"),
    "side 10**6": ({"elem": TensorProto.FLOAT, "shape": [1, 3, 10**6, 512]}, r"\[1, 3, 1000000, 512\]"),
}


@pytest.mark.parametrize("case", sorted(ABSURD_SIGNATURES))
def test_absurd_fixed_sizes_are_refused(tmp_path: Path, case: str) -> None:
    kwargs, actual = ABSURD_SIGNATURES[case]
    with pytest.raises(ModelLoadError, match=actual + r".*not a usable style model .*re-export it"):
        Stylizer(make_signature_model(tmp_path / "absurd.onnx", **kwargs), FAST)


@pytest.mark.parametrize("case", sorted(WRONG_SIGNATURES))
def test_wrong_signature_names_expected_and_actual(tmp_path: Path, case: str) -> None:
    kwargs, actual = WRONG_SIGNATURES[case]
    path = make_signature_model(tmp_path / "odd.onnx", **kwargs)
    with pytest.raises(ModelLoadError, match=actual) as caught:
        Stylizer(path, FAST)
    assert "expected uint8 [N, H, W, 3] BGR" in str(caught.value) and "float32 [N, 3, H, W] RGB" in str(caught.value)


def test_wrong_signature_is_refused_before_probe_and_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_signature_model(tmp_path / "f64.onnx", elem=TensorProto.DOUBLE, shape=["N", "H", "W", 3])

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model refused from its own file needs no probe and no session")

    monkeypatch.setattr(stylizer_module, "create_session", forbidden)
    monkeypatch.setattr(stylizer_module, "probe_model", forbidden)
    with pytest.raises(ModelLoadError, match=r"'x' float64 \[N, H, W, 3\]; expected uint8"):
        Stylizer(path, RuntimeConfig(probe="auto"))


def _initializer_listed_as_input(path: Path) -> Path:
    model = onnx.load(str(make_contract_model(path, op="conv")))
    weights = next(t for t in model.graph.initializer if t.name == "w")
    model.graph.input.append(onnx.helper.make_tensor_value_info("w", weights.data_type, list(weights.dims)))
    onnx.save(model, str(path))
    return path


def test_file_signature_is_what_onnxruntime_reports(tmp_path: Path, conv_model: Path, legacy_model: Path) -> None:
    for path in (conv_model, legacy_model, _initializer_listed_as_input(tmp_path / "old_style.onnx")):
        model = load_model_file(path)
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        for declared, reported in ((model.inputs, session.get_inputs()), (model.outputs, session.get_outputs())):
            assert [(a.name, a.type, list(a.shape)) for a in declared] == [(a.name, a.type, a.shape) for a in reported]


def test_two_inputs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"2 inputs \('a' uint8"):
        Stylizer(make_two_input_model(tmp_path / "two.onnx"), FAST)


def test_metadata_that_contradicts_the_graph_is_refused(tmp_path: Path) -> None:
    path = make_contract_model(tmp_path / "renamed.onnx", op="invert")
    model = onnx.load(str(path))
    for entry in model.metadata_props:
        if entry.key == "stylecam.input":
            entry.value = "images"
    onnx.save(model, str(path))
    with pytest.raises(ModelLoadError, match="metadata declares input 'images'"):
        Stylizer(path, FAST)


def test_metadata_that_is_not_utf8_is_read_safely(tmp_path: Path) -> None:
    """protobuf hands such a string back as bytes and ORT's metadata map raises (found by fuzzing)."""
    path = make_contract_model(tmp_path / "odd_meta.onnx", op="invert")
    data = path.read_bytes()
    assert data.count(b"synthetic") == 1
    path.write_bytes(data.replace(b"synthetic", b"synth\xe5tic"))
    with Stylizer(path, FAST) as stylizer:
        assert stylizer.metadata.style_name == "synth\ufffdtic"
        assert stylizer(np.full((8, 8, 3), 10, np.uint8))[0, 0, 0] == 245


def _byte_edit(path: Path, old: bytes, new: bytes) -> Path:
    data = path.read_bytes()
    assert len(old) == len(new) and data.count(old) >= 1
    path.write_bytes(data.replace(old, new))
    return path


def _empty_batch_model(path: Path) -> Path:
    """A contract-shaped graph that returns no frames at all: Slice(frames, 0:0) on the batch axis."""
    shape = ["N", "H", "W", 3]
    consts = [onnx.numpy_helper.from_array(np.array([0], np.int64), name) for name in ("zero", "axis")]
    graph = onnx.helper.make_graph(
        [onnx.helper.make_node("Slice", ["frames", "zero", "zero", "axis"], ["stylized"])],
        "empty_batch",
        [onnx.helper.make_tensor_value_info("frames", TensorProto.UINT8, shape)],
        [onnx.helper.make_tensor_value_info("stylized", TensorProto.UINT8, shape)],
        consts,
    )
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


# Each was an IndexError / TypeError / UnicodeDecodeError out of the Stylizer before (found by fuzzing).
DAMAGED_TEXT_AND_OUTPUTS = {
    "custom domain not UTF-8": (
        lambda p: _byte_edit(make_custom_domain_model(p), b"evil.ops", b"evil\xe5ops"),
        r"custom operators from 'evil\ufffdops'",
    ),
    "dimension name not UTF-8": (
        lambda p: _byte_edit(make_contract_model(p, shape=("batchdim", "H", "W", 3)), b"batchdim", b"batc\xe5dim"),
        "name or dimension is not valid text; the file is damaged, re-export it",
    ),
    "no frames out": (
        _empty_batch_model,
        r"returned an output of shape \(0, 48, 64, 3\) for an input of shape \(1, 48, 64, 3\)",
    ),
}


@pytest.mark.parametrize("case", sorted(DAMAGED_TEXT_AND_OUTPUTS))
def test_damaged_names_and_broken_outputs_are_model_errors(tmp_path: Path, case: str) -> None:
    build, message = DAMAGED_TEXT_AND_OUTPUTS[case]
    path = build(tmp_path / "damaged.onnx")
    with pytest.raises(ModelLoadError, match=message), Stylizer(path, FAST) as stylizer:
        stylizer(np.zeros((48, 64, 3), np.uint8))

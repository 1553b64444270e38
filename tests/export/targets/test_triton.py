"""The Triton model repository: layout, and a config.pbtxt that parses back to what we meant."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from stylecam.errors import OutputError, UsageError
from stylecam.export.targets.triton import check_triton_target, triton_config, write_triton_repository
from tests.export.conftest import Exported

_TOKEN = re.compile(r'\s*(?:#[^\n]*\n)?\s*("(?:[^"\\]|\\.)*"|[{}\[\]:,]|[-\w.]+)')


def parse_pbtxt(text: str) -> dict[str, Any]:
    """A small protobuf-text parser (messages, repeated fields, lists, strings, numbers, enums)."""
    tokens = [t for t in _TOKEN.findall(text) if t]
    pos = 0

    def value() -> Any:
        nonlocal pos
        token = tokens[pos]
        pos += 1
        if token == "{":
            return message("}")
        if token == "[":
            items = []
            while tokens[pos] != "]":
                items.append(value())
                if tokens[pos] == ",":
                    pos += 1
            pos += 1
            return items
        if token.startswith('"'):
            return token[1:-1]
        return int(token) if re.fullmatch(r"-?\d+", token) else token

    def message(end: str | None) -> dict[str, Any]:
        nonlocal pos
        fields: dict[str, Any] = {}
        while pos < len(tokens) and tokens[pos] != end:
            name = tokens[pos]
            pos += 1
            if tokens[pos] == ":":
                pos += 1
            fields.setdefault(name, []).append(value())
        pos += 1
        return fields

    return message(None)


def test_repository_layout_and_config(exported: Exported) -> None:
    model_dir = exported.triton / "tiny"
    assert sorted(str(p.relative_to(model_dir)) for p in model_dir.rglob("*")) == ["1", "1/model.onnx", "config.pbtxt"]
    assert (model_dir / "1" / "model.onnx").read_bytes() == exported.model.read_bytes()
    config = parse_pbtxt((model_dir / "config.pbtxt").read_text())
    assert config["name"] == ["tiny"] and config["backend"] == ["onnxruntime"] and config["max_batch_size"] == [8]
    (inputs,), (outputs,) = config["input"], config["output"]
    assert inputs[0] == {"name": ["frames"], "data_type": ["TYPE_UINT8"], "dims": [[-1, -1, 3]]}
    assert outputs[0] == {"name": ["stylized"], "data_type": ["TYPE_UINT8"], "dims": [[-1, -1, 3]]}
    assert config["instance_group"] == [[{"count": [1], "kind": ["KIND_GPU"]}]]
    (accel,) = config["optimization"][0]["execution_accelerators"][0]["gpu_execution_accelerator"][0]
    assert accel["name"] == ["tensorrt"]
    params = {p["key"][0]: p["value"][0] for p in accel["parameters"]}
    assert params["precision_mode"] == "FP16" and params["trt_engine_cache_enable"] == "1"
    assert "trt_engine_cache_path" in params
    assert config["dynamic_batching"][0]["max_queue_delay_microseconds"][0] > 0


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"max_batch_size": 0}, UsageError), ({"instances": 0}, UsageError), ({"precision": "INT4"}, UsageError)],
)
def test_bad_config_values_are_refused(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        triton_config("m", **kwargs)


def test_config_options_land_in_the_text() -> None:
    config = parse_pbtxt(triton_config("m", max_batch_size=2, instances=3, precision="FP32"))
    assert config["max_batch_size"] == [2] and config["instance_group"][0][0]["count"] == [3]
    assert "FP32" in str(config["optimization"])


@pytest.mark.parametrize(
    ("name", "make_root", "error"),
    [
        ("bad name", lambda d: d, UsageError),
        ("../up", lambda d: d, UsageError),
        ("ok", lambda d: d / "a" / "b", OutputError),
        ("ok", lambda d: (d / "file").write_text("x") and d / "file", OutputError),
    ],
)
def test_bad_targets_are_refused(tmp_path: Path, name: str, make_root, error: type[Exception]) -> None:
    with pytest.raises(error):
        check_triton_target(make_root(tmp_path), name)


def test_write_repository_creates_a_missing_root(tmp_path: Path) -> None:
    model = tmp_path / "m.onnx"
    model.write_bytes(b"onnx bytes")
    model_dir = write_triton_repository(model, tmp_path / "repo", name="style_a", max_batch_size=4)
    assert (model_dir / "1" / "model.onnx").read_bytes() == b"onnx bytes"
    assert parse_pbtxt((model_dir / "config.pbtxt").read_text())["max_batch_size"] == [4]

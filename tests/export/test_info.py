"""`stylecam info`: what it prints, that it never imports torch, and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import onnx
import pytest

from stylecam.cli import main
from stylecam.modelinfo import describe_model
from stylecam.train.networks.model import count_parameters
from tests.export.conftest import Exported, tiny_net
from tests.runtime.onnx_builders import make_contract_model


def test_info_text(exported: Exported, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(exported.model)]) == 0
    out = capsys.readouterr().out
    assert "input       frames  uint8  [batch, height, width, 3]" in out
    assert "output      stylized  uint8  [batch, height, width, 3]" in out
    assert "opset 17" in out and f"parameters  {count_parameters(tiny_net()):,}" in out
    assert "stylecam.style_name" in out and "stripes" in out and ("kB," in out or "MB," in out)


def test_info_json(exported: Exported, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(exported.model), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["size_bytes"] == exported.model.stat().st_size and data["opset"] == 17
    assert data["props"]["stylecam.precision"] == "fp32" and data["ops"]["Conv"] == 8
    assert data["tensorrt_problems"] == []


def test_parameter_count_without_metadata_counts_weights(exported: Exported, tmp_path: Path) -> None:
    import onnx

    model = onnx.load(str(exported.model))
    kept = [p for p in model.metadata_props if p.key != "stylecam.parameters"]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    expected = count_parameters(tiny_net())
    assert describe_model(path).parameters == expected


def test_info_never_imports_torch(exported: Exported) -> None:
    code = (
        "import sys\nfrom stylecam.cli import main\n"
        f"assert main(['info', {str(exported.model)!r}, '-q']) == 0\nprint('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"


@pytest.mark.parametrize(("content", "code"), [(b"\x00garbage" * 40, 5), (b"", 3)])
def test_info_on_bad_files(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, code: int) -> None:
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    assert main(["info", str(path)]) == code
    assert capsys.readouterr().err.count("\n") == 1


def _damaged_but_parsable(path: Path) -> Path:
    """A model with a type number no ONNX defines and metadata that is not UTF-8 (both found by fuzzing)."""
    model = onnx.load(str(make_contract_model(path, op="invert")))
    model.graph.input[0].type.tensor_type.elem_type = 1000
    onnx.save(model, str(path))
    data = path.read_bytes().replace(b"synthetic", b"synth\xe5tic")
    path.write_bytes(data.replace(b'"\x03Sub', b'"\x03S\xe1b'))  # the op type of the one Sub node
    return path


def test_info_describes_a_damaged_model_instead_of_crashing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _damaged_but_parsable(tmp_path / "damaged.onnx")
    assert main(["info", str(path), "--json"]) == 0
    described = json.loads(capsys.readouterr().out)
    assert described["inputs"][0]["dtype"] == "unknown type 1000"
    assert described["props"]["stylecam.style_name"] == "synth\ufffdtic"
    assert "S\ufffdb" in described["ops"]

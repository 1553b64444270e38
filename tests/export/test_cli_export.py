"""`stylecam export` refuses bad input before any slow work, in one line with the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from stylecam.cli import main


@pytest.mark.parametrize(
    ("make_args", "code", "message"),
    [
        (lambda d, c: [str(d / "missing.pt"), "-o", str(d / "m.onnx")], 3, "does not exist"),
        (lambda d, c: [str(c), "-o", str(d / "no" / "m.onnx")], 4, "does not exist"),
        (lambda d, c: [str(c), "-o", str(c)], 4, "is the input"),
        (lambda d, c: [str(c), "-o", str(d / "m.onnx"), "--opset", "13"], 2, "choose 17..21"),
        (lambda d, c: [str(c), "-o", str(d / "m.onnx"), "--triton", str(d / "x" / "y")], 4, "does not exist"),
        (lambda d, c: [str(d / "other.pt"), "-o", str(d / "m.onnx")], 5, "not a stylecam checkpoint"),
    ],
)
def test_bad_input_is_one_line_with_exit_code(
    tmp_path: Path, tiny_checkpoint: Path, capsys: pytest.CaptureFixture[str], make_args, code: int, message: str
) -> None:
    import torch

    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    assert main(["export", *make_args(tmp_path, tiny_checkpoint)]) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not (tmp_path / "m.onnx").exists()


def test_failed_gate_leaves_no_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_checkpoint: Path) -> None:
    from stylecam.export import onnx as export_onnx_module
    from stylecam.export.verify import Comparison, ParityReport

    def failing_gate(*args, **kwargs) -> ParityReport:
        bad = Comparison("fp32 onnxruntime vs torch", "CPUExecutionProvider", (1, 8, 8, 3), 12.0, 90, 45.0, True, False)
        return ParityReport("m.onnx", "0", "fp32", 17, ("CPUExecutionProvider",), (bad,))

    def quick_export(model, path, **kwargs) -> Path:
        Path(path).write_bytes(b"a model that will fail its gate")
        return Path(path)

    monkeypatch.setattr(export_onnx_module, "export_onnx", quick_export)
    monkeypatch.setattr(export_onnx_module, "verify_parity", failing_gate)
    target = tmp_path / "m.onnx"
    assert main(["export", str(tiny_checkpoint), "-o", str(target), "-q"]) == 7
    assert not target.exists() and (tmp_path / "m.parity.json").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["m.parity.json"]  # no temp files left behind

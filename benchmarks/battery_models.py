"""Battery cases, models and packaging (rows 20-28): wrong signatures, hostile files, too new, GPU, checkpoints."""

from __future__ import annotations

from pathlib import Path

import battery_inputs as make
from battery_build import BAD_MODEL, FIX_MODEL, Case, checkpoint_case, clip, info_refused, model_refused, run_args
from battery_checks import Expect, Invocation
from onnx import TensorProto

SIGNATURE = r"expected uint8 \[N, H, W, 3\]"


def two_ort_packages(folder: Path) -> Invocation:
    make.fake_distribution(folder / "site", "onnxruntime-gpu", "1.32.0")
    source = clip(folder, frames=3)
    expect = Expect(0, notice=r"several ONNX Runtime packages.*pip uninstall", new_files=("out.mp4",))
    return Invocation(run_args(folder, source, "out.mp4"), expect, env={"PYTHONPATH": str(folder / "site")})


def hostile_onnx(folder: Path) -> Invocation:
    marker = folder.parent / f"{folder.name}-RAN"
    make.write_raw_pickle_trap(folder / "evil.onnx", marker)
    source = clip(folder, frames=3)
    args = ["run", "--model", "evil.onnx", "--source", source, "-o", "out.mp4"]
    return Invocation(args, Expect(BAD_MODEL, r"PyTorch checkpoint, not an ONNX", FIX_MODEL), marker=marker)


def _foreign(path: Path, _marker: Path) -> None:
    make.write_torch_checkpoint(path, {"weights": make.zeros_tensor(), "epoch": 3})


def _future(path: Path, _marker: Path) -> None:
    payload = {"schema": "stylecam-checkpoint", "schema_version": 99, "model": {}, "model_config": {}}
    make.write_torch_checkpoint(path, payload)


CASES: tuple[Case, ...] = (
    Case(
        "info-text-named-onnx",
        2,
        "stylecam info on a text file renamed .onnx",
        info_refused(lambda p: p.write_text("not a model\n" * 50), r"not a (readable|valid) ONNX"),
        quick=True,
    ),
    Case(
        "model-float64-input",
        20,
        "ONNX with a float64 input",
        model_refused(
            lambda p: make.write_signature_model(p, elem=TensorProto.DOUBLE, shape=["N", "H", "W", 3]),
            r"float64.*" + SIGNATURE,
        ),
        quick=True,
    ),
    Case(
        "model-nchw-uint8",
        20,
        "uint8 model with NCHW layout",
        model_refused(
            lambda p: make.write_signature_model(p, elem=TensorProto.UINT8, shape=["N", 3, "H", "W"]),
            r"NCHW.*" + SIGNATURE,
        ),
    ),
    Case(
        "model-one-channel",
        20,
        "uint8 model with 1 channel",
        model_refused(
            lambda p: make.write_signature_model(p, elem=TensorProto.UINT8, shape=["N", "H", "W", 1]), SIGNATURE
        ),
    ),
    Case("pickle-named-onnx", 21, "code-running pickle renamed .onnx", hostile_onnx, quick=True),
    Case(
        "onnx-external-data-escape",
        21,
        "ONNX weights at ../../../etc/passwd",
        model_refused(
            lambda p: make.write_external_data_model(p, "../../../etc/passwd"), r"outside the model's folder"
        ),
    ),
    Case(
        "onnx-custom-op",
        21,
        "ONNX needing a native custom-op library",
        model_refused(make.write_custom_op_model, r"custom operators"),
    ),
    Case(
        "onnx-truncated",
        21,
        "ONNX cut in half",
        model_refused(
            lambda p: p.write_bytes(make.style_model_proto().SerializeToString()[:300]),
            r"not a readable ONNX model|fails the ONNX checker|holds no ONNX graph",
        ),
    ),
    Case(
        "checkpoint-pickle-trap",
        21,
        "torch checkpoint carrying a code-running object",
        checkpoint_case(make.write_torch_trap, r"pickled Python objects"),
        torch=True,
    ),
    Case(
        "raw-pickle-trap",
        21,
        "plain pickle that runs code, as .pt",
        checkpoint_case(make.write_raw_pickle_trap, r"pickled Python objects|not a PyTorch file"),
        torch=True,
    ),
    Case(
        "opset-99",
        22,
        "ONNX stamped opset 99",
        model_refused(lambda p: make.write_style_model(p, opset=99), r"opset 99.*supports opsets up to \d+"),
        quick=True,
    ),
    Case(
        "ir-version-99",
        22,
        "ONNX stamped IR version 99",
        model_refused(lambda p: make.write_style_model(p, ir_version=99), r"IR version 99"),
    ),
    Case(
        "require-gpu-without-gpu",
        23,
        "--require-gpu where no GPU provider exists",
        lambda f: Invocation(
            run_args(f, clip(f, frames=3), "out.mp4", "--require-gpu"), Expect(6, r"GPU|CUDA", r"pip (un)?install")
        ),
    ),
    Case("two-ort-packages", 24, "onnxruntime and onnxruntime-gpu both installed", two_ort_packages),
    Case(
        "foreign-checkpoint",
        27,
        "a torch file that is not a stylecam checkpoint",
        checkpoint_case(_foreign, r"not a stylecam checkpoint"),
        torch=True,
    ),
    Case(
        "future-checkpoint",
        27,
        "checkpoint schema version 99",
        checkpoint_case(_future, r"schema version 99"),
        torch=True,
    ),
    Case(
        "info-external-data-escape",
        21,
        "stylecam info on ONNX weights at ../../../etc/passwd",
        info_refused(lambda p: make.write_external_data_model(p, "../../../etc/passwd"), r"outside the model's folder"),
        quick=True,
    ),
    Case(
        "export-pickle-trap",
        21,
        "stylecam export of a checkpoint carrying a code-running object",
        checkpoint_case(make.write_torch_trap, r"pickled Python objects", command="export"),
        torch=True,
    ),
    Case(
        "export-future-checkpoint",
        27,
        "stylecam export of a checkpoint with schema version 99",
        checkpoint_case(_future, r"schema version 99", command="export"),
        torch=True,
    ),
)

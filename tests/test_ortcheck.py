from __future__ import annotations

from stylecam.ortcheck import installed_ort_distributions, ort_conflict_message


def test_single_package_is_fine() -> None:
    assert ort_conflict_message({"onnxruntime": "1.32.0"}) is None
    assert ort_conflict_message({}) is None


def test_cpu_and_gpu_pair_names_the_package_to_uninstall() -> None:
    message = ort_conflict_message({"onnxruntime": "1.32.0", "onnxruntime-gpu": "1.31.1"})
    assert message is not None
    assert "onnxruntime 1.32.0" in message and "onnxruntime-gpu 1.31.1" in message
    assert "pip uninstall -y onnxruntime onnxruntime-gpu && pip install onnxruntime-gpu" in message


def test_two_accelerated_builds() -> None:
    message = ort_conflict_message({"onnxruntime-gpu": "1.31.1", "onnxruntime-directml": "1.20.0"})
    assert message is not None and "pip uninstall -y" in message


def test_this_environment_is_reported() -> None:
    found = installed_ort_distributions()
    assert found, "an ONNX Runtime build must be installed"

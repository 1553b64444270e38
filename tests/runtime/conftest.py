"""Runtime test fixtures: tiny ONNX models built with onnx.helper (no torch), made once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from stylecam.runtime.config import RuntimeConfig
from tests.runtime.onnx_builders import make_contract_model, make_legacy_float_model

# No subprocess probe in ordinary tests (it costs ~0.5 s a model); test_probe.py covers it.
FAST = RuntimeConfig(probe="never")


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def conv_model(model_dir: Path) -> Path:
    return make_contract_model(model_dir / "conv.onnx", op="conv")


@pytest.fixture(scope="session")
def invert_model(model_dir: Path) -> Path:
    return make_contract_model(model_dir / "invert.onnx", op="invert")


@pytest.fixture(scope="session")
def legacy_model(model_dir: Path) -> Path:
    return make_legacy_float_model(model_dir / "legacy.onnx", offsets=(300.0, 0.0, -50.0))

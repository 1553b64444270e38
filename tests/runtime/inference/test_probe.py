"""The subprocess probe: a crash or hang in ONNX Runtime becomes a ModelLoadError, not a dead process."""

from __future__ import annotations

from pathlib import Path

import pytest

from stylecam.errors import ModelLoadError
from stylecam.runtime.config import RuntimeConfig
from stylecam.runtime.inference import stylizer as stylizer_module
from stylecam.runtime.inference.probe import probe_model
from stylecam.runtime.inference.stylizer import Stylizer
from tests.runtime.onnx_builders import make_contract_model

# Stand-ins for a model that segfaults / hangs ORT: the probe only sees how the child process ends.
SEGFAULT = "import os, signal, sys; os.kill(os.getpid(), signal.SIGSEGV)"
HANG = "import time; time.sleep(30)"
RAISES = "raise RuntimeError('ORT says the graph is invalid')"


def test_probe_passes_a_good_model(legacy_model: Path) -> None:
    probe_model(legacy_model)  # really loads and runs it in a child interpreter


def test_crash_in_the_probe_is_reported_not_fatal(conv_model: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"crashed ONNX Runtime \(SIGSEGV\).*do not use it"):
        probe_model(conv_model, script=SEGFAULT)


def test_hang_in_the_probe_times_out(conv_model: Path) -> None:
    with pytest.raises(ModelLoadError, match="hang for 1 s"):
        probe_model(conv_model, script=HANG, timeout_s=1.0)


def test_python_error_in_the_probe_is_left_to_the_real_load(conv_model: Path) -> None:
    probe_model(conv_model, script=RAISES)  # the in-process load reports it with a proper message


@pytest.mark.parametrize(
    ("probe", "metadata", "expected"),
    [("auto", False, True), ("auto", True, False), ("always", True, True), ("never", False, False)],
)
def test_probe_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, probe: str, metadata: bool, expected: bool
) -> None:
    probed: list[Path] = []
    monkeypatch.setattr(stylizer_module, "probe_model", probed.append)
    path = make_contract_model(tmp_path / "m.onnx", op="identity", metadata=metadata)
    with Stylizer(path, RuntimeConfig(probe=probe)):
        pass
    assert bool(probed) == expected

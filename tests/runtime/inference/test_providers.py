"""Provider planning and session recovery, with a fake onnxruntime (no GPU here); real-GPU checks are marked."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import onnxruntime
import pytest

from stylecam.errors import DependencyError, ModelLoadError, UsageError
from stylecam.runtime.config import RuntimeConfig
from stylecam.runtime.inference import session as session_module
from stylecam.runtime.inference.modelfile import load_model_file
from stylecam.runtime.inference.providers import CPU, CUDA, TENSORRT, plan_providers, trt_cache_dir
from stylecam.runtime.inference.session import create_session
from stylecam.runtime.inference.stylizer import Stylizer
from tests.conftest import make_photo
from tests.runtime.conftest import FAST

ALL = [TENSORRT, CUDA, CPU]


@pytest.mark.parametrize(
    ("provider", "require_gpu", "available", "context", "expected"),
    [
        ("auto", False, ALL, nullcontext(), [TENSORRT, CUDA, CPU]),
        ("auto", False, [CUDA, CPU, "AzureExecutionProvider"], nullcontext(), [CUDA, CPU]),
        ("auto", False, [CPU], nullcontext(), [CPU]),
        ("auto", True, [CPU], pytest.raises(DependencyError, match=r"no GPU provider.*onnxruntime-gpu"), None),
        ("tensorrt", False, ALL, nullcontext(), [TENSORRT, CUDA, CPU]),
        ("tensorrt", False, [CUDA, CPU], pytest.raises(DependencyError, match=r"'tensorrt'.*has: cuda, cpu"), None),
        ("cuda", False, ALL, nullcontext(), [CUDA, CPU]),
        ("cuda", True, [CPU], pytest.raises(DependencyError, match=r"'cuda' is not in.*has: cpu.*--provider"), None),
        ("cpu", False, ALL, nullcontext(), [CPU]),
    ],
)
def test_provider_plan(
    provider: str,
    require_gpu: bool,
    available: list[str],
    context: AbstractContextManager[object],
    expected: list[str] | None,
    tmp_path: Path,
) -> None:
    config = RuntimeConfig(provider=provider, require_gpu=require_gpu, trt_cache_dir=tmp_path)
    with context:
        plan = plan_providers(config, available, model_sha256="ab" * 32, ort_version="1.2.3")
        assert list(plan.providers) == expected
        assert (plan.trt_cache is not None) == (TENSORRT in expected)


def test_provider_options_are_ort_strings(tmp_path: Path) -> None:
    config = RuntimeConfig(trt_cache_dir=tmp_path, device_id=1, trt_fp16=False)
    plan = plan_providers(config, ALL, model_sha256="cd" * 32, ort_version="1.2.3")
    trt, cuda, cpu = plan.options
    assert trt["trt_engine_cache_enable"] == "True" and trt["trt_timing_cache_enable"] == "True"
    assert trt["trt_fp16_enable"] == "False" and trt["trt_engine_cache_path"] == str(plan.trt_cache)
    assert cuda["device_id"] == "1" and cuda["cudnn_conv_algo_search"] == "HEURISTIC"
    assert cuda["do_copy_in_default_stream"] == "True" and cpu == {}
    assert all(isinstance(v, str) for options in plan.options for v in options.values())


def test_trt_cache_is_keyed_by_model_ort_and_gpu(tmp_path: Path) -> None:
    config = RuntimeConfig(trt_cache_dir=tmp_path)
    base = trt_cache_dir(config, "a" * 64, "1.20.0")
    assert base.parent == tmp_path and base != trt_cache_dir(config, "b" * 64, "1.20.0")
    assert base != trt_cache_dir(config, "a" * 64, "1.21.0")
    assert base != trt_cache_dir(replace(config, device_id=1), "a" * 64, "1.20.0")


def test_unknown_provider_lists_valid_and_available() -> None:
    with pytest.raises(UsageError, match=r"'rocm'.*auto, tensorrt, cuda, cpu.*build has: cpu"):
        RuntimeConfig(provider="rocm")


class FakeOrt(SimpleNamespace):
    """Enough of onnxruntime for session.py: scripted provider outcomes, calls recorded."""

    def __init__(self, tmp_path: Path, available: list[str], outcomes: list[Any]) -> None:
        super().__init__(
            __version__="9.9.9",
            __file__=str(tmp_path / "ort" / "__init__.py"),
            SessionOptions=onnxruntime.SessionOptions,
            GraphOptimizationLevel=onnxruntime.GraphOptimizationLevel,
        )
        self.available, self.outcomes, self.calls, self.preloads = available, outcomes, [], 0

    def get_available_providers(self) -> list[str]:
        return list(self.available)

    def preload_dlls(self) -> None:
        self.preloads += 1

    def InferenceSession(
        self, path: str, sess_options: Any = None, providers: Any = (), provider_options: Any = ()
    ) -> Any:
        self.calls.append(list(providers))
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return SimpleNamespace(get_providers=lambda: list(outcome))


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    def install(available: list[str], outcomes: list[Any], reason: str | None = None) -> FakeOrt:
        fake_ort = FakeOrt(tmp_path, available, outcomes)
        monkeypatch.setattr(session_module, "ort", fake_ort)
        monkeypatch.setattr(session_module, "diagnose_gpu_libraries", lambda: reason)
        session_module.preload_gpu_libraries.cache_clear()
        return fake_ort

    return install


@pytest.fixture
def model_file(conv_model: Path) -> Any:
    return load_model_file(conv_model)


def test_silent_cpu_fallback_is_reported_loudly(fake: Any, model_file: Any, caplog: pytest.LogCaptureFixture) -> None:
    ort = fake([CUDA, CPU], [[CPU]], reason="libcudnn.so.9: cannot open shared object file")
    with caplog.at_level(logging.WARNING):
        session, plan = create_session(model_file, RuntimeConfig(provider="cuda"))
    assert session.get_providers() == [CPU] and plan.wants_gpu and ort.preloads == 1
    warning = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "FALLING BACK TO CPU" in warning and "libcudnn.so.9" in warning


def test_silent_fallback_with_require_gpu_fails(fake: Any, model_file: Any) -> None:
    fake([CUDA, CPU], [[CPU]], reason="libcublasLt.so.12: cannot open shared object file")
    with pytest.raises(DependencyError, match=r"GPU provider.*libcublasLt.*require_gpu"):
        create_session(model_file, RuntimeConfig(require_gpu=True))


@pytest.mark.parametrize("require_gpu", [False, True])
def test_gpu_session_error_retries_on_cpu(
    fake: Any, model_file: Any, caplog: pytest.LogCaptureFixture, require_gpu: bool
) -> None:
    ort = fake([CUDA, CPU], [RuntimeError("CUDA failure 100: no CUDA-capable device is detected"), [CPU]])
    context = pytest.raises(DependencyError, match="no CUDA-capable device") if require_gpu else nullcontext()
    with caplog.at_level(logging.WARNING), context:
        session, _ = create_session(model_file, RuntimeConfig(require_gpu=require_gpu))
        assert session.get_providers() == [CPU]
        assert "no CUDA-capable device" in caplog.text and "FALLING BACK TO CPU" in caplog.text
    assert ort.calls == [[CUDA, CPU], [CPU]]


def test_model_that_fails_everywhere_is_a_model_error(fake: Any, model_file: Any) -> None:
    fake([CUDA, CPU], [RuntimeError("CUDA says no"), RuntimeError("Invalid model: Node (conv) bad attribute")])
    with pytest.raises(ModelLoadError, match=r"cannot load.*bad attribute"):
        create_session(model_file, RuntimeConfig())


def test_cpu_plan_failure_is_a_model_error(fake: Any, model_file: Any) -> None:
    fake([CPU], [RuntimeError("Load model failed:\nType Error: Type (tensor(int8)) of output arg")])
    with pytest.raises(ModelLoadError, match=r"conv.onnx \(Type Error"):
        create_session(model_file, RuntimeConfig())


def test_stale_trt_cache_is_cleared_and_rebuilt(
    fake: Any, model_file: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = RuntimeConfig(provider="tensorrt", trt_cache_dir=tmp_path / "cache")
    cache = trt_cache_dir(config, model_file.sha256, "9.9.9")
    cache.mkdir(parents=True)
    (cache / "TensorrtExecutionProvider_TRTKernel.engine").write_bytes(b"built by TensorRT 8")
    ort = fake(ALL, [RuntimeError("TensorRT EP failed to deserialize engine"), [TENSORRT, CUDA, CPU]])
    with caplog.at_level(logging.WARNING):
        session, plan = create_session(model_file, config)
    assert session.get_providers() == [TENSORRT, CUDA, CPU] and plan.trt_cache == cache
    assert ort.calls == [[TENSORRT, CUDA, CPU]] * 2
    assert cache.is_dir() and not any(cache.iterdir())
    assert "stale" in caplog.text and "rebuilding" in caplog.text


def test_trt_failure_without_cache_falls_back_without_clearing(fake: Any, model_file: Any, tmp_path: Path) -> None:
    config = RuntimeConfig(provider="tensorrt", trt_cache_dir=tmp_path / "cache")
    ort = fake(ALL, [RuntimeError("TensorRT: libnvinfer.so.10 not found"), [CPU]])
    session, _ = create_session(model_file, config)
    assert session.get_providers() == [CPU] and ort.calls == [[TENSORRT, CUDA, CPU], [CPU]]


def test_trt_dropped_but_cuda_kept_is_a_notice(fake: Any, model_file: Any, caplog: pytest.LogCaptureFixture) -> None:
    fake(ALL, [[CUDA, CPU]], reason=None)
    with caplog.at_level(logging.WARNING):
        create_session(model_file, RuntimeConfig(trt_cache_dir=str(model_file.path.parent / "trt")))
    assert "TensorRT did not load" in caplog.text and "FALLING BACK" not in caplog.text


def test_cpu_plan_does_not_preload_gpu_libraries(fake: Any, model_file: Any) -> None:
    ort = fake([CUDA, CPU], [[CPU]])
    create_session(model_file, RuntimeConfig(provider="cpu"))
    assert ort.preloads == 0 and ort.calls == [[CPU]]


def test_ort_conflict_is_warned_once(
    fake: Any, model_file: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    fake([CPU], [[CPU], [CPU]])
    message = "several ONNX Runtime packages are installed over each other (onnxruntime 1, onnxruntime-gpu 1)"
    monkeypatch.setattr(session_module, "ort_conflict_message", lambda: message)
    session_module.warn_ort_conflict_once.cache_clear()
    with caplog.at_level(logging.WARNING):
        create_session(model_file, RuntimeConfig())
        create_session(model_file, RuntimeConfig())
    session_module.warn_ort_conflict_once.cache_clear()
    assert caplog.text.count("installed over each other") == 1


def test_diagnosis_names_a_build_without_cuda() -> None:
    # This machine's onnxruntime is the CPU build: no CUDA provider library ships with it.
    reason = session_module.diagnose_gpu_libraries()
    assert reason is not None and "no CUDA provider library" in reason


@pytest.mark.gpu
def test_cuda_matches_cpu_with_and_without_iobinding(conv_model: Path) -> None:
    frame = make_photo(72, 128)
    with Stylizer(conv_model, replace(FAST, provider="cpu")) as cpu:
        expected = cpu(frame)
    for iobinding in (True, False):
        with Stylizer(conv_model, replace(FAST, provider="cuda", require_gpu=True, iobinding=iobinding)) as gpu:
            assert gpu.providers[0] == CUDA and gpu.device == "cuda"
            assert np.abs(gpu(frame).astype(int) - expected).max() <= 1

"""Create the ONNX Runtime session: provider plan, GPU library preload, recovery, and the report.

Recovery order when session creation raises:

1. a TensorRT plan with a non-empty engine cache: the cache is probably stale (built by another
   TensorRT, driver or GPU), so clear it, say so, and retry once;
2. a GPU plan: retry on CPU only. If the CPU session also fails the model itself is at fault
   (ModelLoadError); otherwise the GPU set-up is, which is a reported fallback (or an error with
   ``require_gpu``);
3. a CPU plan: ModelLoadError naming the file and ORT's reason.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import shutil
import sys
from pathlib import Path
from typing import Any

import onnxruntime as ort

from stylecam.errors import DependencyError, ModelLoadError
from stylecam.ortcheck import ort_conflict_message
from stylecam.runtime.config import RuntimeConfig
from stylecam.runtime.inference.modelfile import ModelFile
from stylecam.runtime.inference.providers import (
    CUDA,
    GPU_INSTALL_FIX,
    GPU_PROVIDERS,
    ProviderPlan,
    check_providers_in_use,
    plan_providers,
)

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def warn_ort_conflict_once() -> str | None:
    """Log (once per process) when two ONNX Runtime packages are installed over each other."""
    message = ort_conflict_message()
    if message:
        log.warning(message)
    return message


@functools.lru_cache(maxsize=1)
def preload_gpu_libraries() -> None:
    """Let onnxruntime-gpu >= 1.21 load CUDA/cuDNN from the nvidia-* wheels (once, before a CUDA session)."""
    preload = getattr(ort, "preload_dlls", None)
    if preload is None:
        return
    try:
        preload()
    except Exception as exc:  # best effort: a missing library shows up as a reported fallback later
        log.debug("onnxruntime.preload_dlls() failed: %s", exc)


def diagnose_gpu_libraries() -> str | None:
    """Name the native library that keeps the CUDA provider from loading, when we can find it."""
    suffix = {"win32": ".dll", "darwin": ".dylib"}.get(sys.platform, ".so")
    prefix = "" if sys.platform == "win32" else "lib"
    library = Path(ort.__file__).parent / "capi" / f"{prefix}onnxruntime_providers_cuda{suffix}"
    if not library.exists():
        return f"this onnxruntime build ({ort.__version__}) has no CUDA provider library; {GPU_INSTALL_FIX}"
    try:
        ctypes.CDLL(str(library))
    except OSError as exc:
        return (
            f"a CUDA/cuDNN library is missing ({exc}); install CUDA 12 + cuDNN 9, e.g. "
            "pip install 'onnxruntime-gpu[cuda,cudnn]'"
        )
    return None


def session_options(config: RuntimeConfig) -> Any:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    budget = config.thread_budget
    options.intra_op_num_threads = budget.inference if budget is not None else config.intra_op_threads
    if budget is not None and not budget.spinning:
        # Spinning threads burn the cycles the flow, decode and encode threads need on a small CPU.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # Errors only: ORT's warnings about unused initializers etc. are noise for users; our own
    # checks report provider fallbacks in plain words.
    options.log_severity_level = 3
    return options


def create_session(model: ModelFile, config: RuntimeConfig) -> tuple[Any, ProviderPlan]:
    """Create the session for ``model``; returns it with the plan it was created from."""
    warn_ort_conflict_once()
    plan = plan_providers(config, ort.get_available_providers(), model_sha256=model.sha256, ort_version=ort.__version__)
    if plan.trt_cache is not None:
        plan.trt_cache.mkdir(parents=True, exist_ok=True)
        log.info("TensorRT engine cache: %s (the first run builds engines: this can take minutes)", plan.trt_cache)
    if CUDA in plan.providers:
        preload_gpu_libraries()
    options = session_options(config)
    reason = None
    try:
        session = _open(model.path, options, plan)
    except Exception as exc:
        session, plan, reason = _recover(exc, model, options, plan, config)
    in_use = session.get_providers()
    if plan.wants_gpu and not any(name in GPU_PROVIDERS for name in in_use):
        reason = reason or diagnose_gpu_libraries()
    check_providers_in_use(plan, in_use, config, reason=reason)
    return session, plan


def _open(path: Path, options: Any, plan: ProviderPlan) -> Any:
    return ort.InferenceSession(
        str(path), sess_options=options, providers=list(plan.providers), provider_options=list(plan.options)
    )


def _recover(
    error: Exception, model: ModelFile, options: Any, plan: ProviderPlan, config: RuntimeConfig
) -> tuple[Any, ProviderPlan, str | None]:
    cache = plan.trt_cache
    if cache is not None and cache.is_dir() and any(cache.iterdir()):
        log.warning(
            "TensorRT engine cache %s could not be used (%s); it is stale (built by another TensorRT, driver or "
            "GPU): clearing it and rebuilding the engine, which takes a while once",
            cache,
            _last_line(error),
        )
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True, exist_ok=True)
        try:
            return _open(model.path, options, plan), plan, None
        except Exception as retry_error:
            error = retry_error
    if not plan.wants_gpu:
        raise _model_error(model, error) from error
    cpu_plan = plan.without_gpu()
    try:
        session = _open(model.path, options, cpu_plan)
    except Exception as cpu_error:
        raise _model_error(model, cpu_error) from cpu_error
    reason = f"session creation failed: {_last_line(error)}"
    if config.require_gpu:
        raise DependencyError(
            f"GPU session for {model.path.name} failed ({_last_line(error)}); fix it or drop require_gpu"
        )
    # Report against the original GPU plan so the user hears about the fallback.
    return session, plan, reason


def _model_error(model: ModelFile, error: Exception) -> ModelLoadError:
    return ModelLoadError(
        f"onnxruntime cannot load {model.path} ({_last_line(error)}); re-export it or check that it is a style model"
    )


def _last_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return (lines[-1] if lines else type(error).__name__)[:300]

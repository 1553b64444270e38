"""Which ONNX Runtime execution providers to ask for, with which options, and what to say afterwards.

Pure planning and reporting: no session is created here (see :mod:`.session`), and nothing here
needs a GPU, so every branch is tested on CPU with fake provider lists.

Priority is TensorRT -> CUDA -> CPU, filtered by ``onnxruntime.get_available_providers()``. ORT
silently skips a provider whose native libraries fail to load, so after creating the session we
compare ``session.get_providers()`` with the plan: a GPU plan that ends on CPU is reported loudly
(with the reason when we can find it), and is an error under ``require_gpu``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from stylecam.errors import DependencyError
from stylecam.runtime.config import RuntimeConfig

log = logging.getLogger(__name__)

TENSORRT = "TensorrtExecutionProvider"
CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
ORT_NAMES = {"tensorrt": TENSORRT, "cuda": CUDA, "cpu": CPU}
SHORT_NAMES = {value: key for key, value in ORT_NAMES.items()}
PRIORITY = (TENSORRT, CUDA, CPU)
GPU_PROVIDERS = frozenset({TENSORRT, CUDA})
GPU_INSTALL_FIX = "pip uninstall -y onnxruntime && pip install 'onnxruntime-gpu[cuda,cudnn]'"


@dataclass(frozen=True)
class ProviderPlan:
    """The providers (ORT names, priority order) and their options for one session."""

    requested: str
    providers: tuple[str, ...]
    options: tuple[dict[str, str], ...]
    trt_cache: Path | None = None

    @property
    def wants_gpu(self) -> bool:
        return any(name in GPU_PROVIDERS for name in self.providers)

    def without_gpu(self) -> ProviderPlan:
        """The CPU-only plan to fall back to."""
        return ProviderPlan(self.requested, (CPU,), ({},), None)


def short_names(available: Sequence[str]) -> list[str]:
    """``['cuda', 'cpu']`` for the providers stylecam knows, in priority order."""
    return [SHORT_NAMES[name] for name in PRIORITY if name in available]


def plan_providers(
    config: RuntimeConfig, available: Sequence[str], *, model_sha256: str, ort_version: str
) -> ProviderPlan:
    """Build the provider plan for ``config`` on an ORT build offering ``available``.

    Raises:
        DependencyError: an explicitly requested provider (or ``require_gpu``) that this ORT build
            does not have; the message lists what it has and how to install GPU support.
    """
    have = short_names(available)
    if config.provider == "auto":
        chosen = [name for name in PRIORITY if name in available] or [CPU]
    else:
        first = ORT_NAMES[config.provider]
        if first not in available:
            raise DependencyError(
                f"provider {config.provider!r} is not in this onnxruntime build (it has: {', '.join(have)}); "
                f"use --provider auto or {' / '.join(have)}, or install GPU support: {GPU_INSTALL_FIX}"
            )
        chosen = [name for name in PRIORITY[PRIORITY.index(first) :] if name in available or name == CPU]
    if config.require_gpu and not any(name in GPU_PROVIDERS for name in chosen):
        raise DependencyError(
            f"require_gpu is set but this onnxruntime build has no GPU provider (it has: {', '.join(have)}); "
            f"install GPU support: {GPU_INSTALL_FIX}"
        )
    trt_cache = trt_cache_dir(config, model_sha256, ort_version) if TENSORRT in chosen else None
    options = tuple(_options(name, config, trt_cache) for name in chosen)
    return ProviderPlan(config.provider, tuple(chosen), options, trt_cache)


def _options(name: str, config: RuntimeConfig, trt_cache: Path | None) -> dict[str, str]:
    # ORT takes provider options as strings; booleans as "True"/"False".
    if name == TENSORRT:
        return {
            "device_id": str(config.device_id),
            "trt_engine_cache_enable": "True",
            "trt_engine_cache_path": str(trt_cache),
            "trt_timing_cache_enable": "True",
            "trt_timing_cache_path": str(trt_cache),
            "trt_fp16_enable": str(config.trt_fp16),
        }
    if name == CUDA:
        return {
            "device_id": str(config.device_id),
            "cudnn_conv_algo_search": config.cudnn_conv_algo_search,
            # One stream for copies and kernels: no cross-stream sync needed with IO binding.
            "do_copy_in_default_stream": "True",
            "cudnn_conv_use_max_workspace": "1",
        }
    return {}


def default_cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "stylecam" / "trt"


def trt_cache_dir(config: RuntimeConfig, model_sha256: str, ort_version: str) -> Path:
    """Engine cache folder keyed by model hash, ORT version and GPU index.

    An engine is only valid for the exact model, TensorRT/ORT build and GPU it was built on; keying
    the folder this way means a new model or upgraded ORT never picks up a stale engine. (A driver
    or TensorRT upgrade under the same ORT is caught by the clear-and-retry in :mod:`.session`.)
    """
    root = Path(config.trt_cache_dir).expanduser() if config.trt_cache_dir else default_cache_root()
    return root / f"{model_sha256[:16]}-ort{ort_version}-gpu{config.device_id}"


def check_providers_in_use(
    plan: ProviderPlan, in_use: Sequence[str], config: RuntimeConfig, *, reason: str | None = None
) -> None:
    """Compare the session's providers with the plan: notice, loud warning, or error under require_gpu.

    Args:
        plan: what was asked for.
        in_use: ``session.get_providers()``.
        config: the runtime config (``require_gpu``).
        reason: why the GPU providers did not load, when known (shown to the user).
    """
    got_gpu = any(name in GPU_PROVIDERS for name in in_use)
    why = f": {reason}" if reason else " (ONNX Runtime's own log above may say why)"
    if plan.wants_gpu and not got_gpu:
        asked = ", ".join(SHORT_NAMES.get(n, n) for n in plan.providers if n in GPU_PROVIDERS)
        if config.require_gpu:
            raise DependencyError(f"GPU provider ({asked}) failed to load{why}; fix it or drop require_gpu")
        log.warning(
            "!! GPU provider (%s) failed to load%s. FALLING BACK TO CPU: expect a few frames per second, not "
            "real time. Fix the GPU set-up, or pass --provider cpu to silence this.",
            asked,
            why,
        )
    elif TENSORRT in plan.providers and TENSORRT not in in_use and got_gpu:
        log.warning("TensorRT did not load%s; running on CUDA without TensorRT", why)
    elif not plan.wants_gpu and config.provider == "auto":
        log.info("running on CPU: this onnxruntime build has no GPU provider (for CUDA: %s)", GPU_INSTALL_FIX)
    log.debug("providers in use: %s (options: %s)", list(in_use), dict(zip(plan.providers, plan.options)))

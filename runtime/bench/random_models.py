"""The extra models a benchmark may need: the reference network and fp16 twins, made once and cached.

Making them needs torch and the export package (``pip install 'stylecam[train]'``); using them
once made does not. They are cached under ``~/.cache/stylecam/bench`` (``$XDG_CACHE_HOME``
respected): the reference keyed by stylecam version and precision (random weights: its speed is
what matters), an fp16 twin by the hash of the model it was converted from.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from types import ModuleType

from stylecam import __version__
from stylecam.errors import DependencyError
from stylecam.runtime.inference.modelfile import file_sha256

log = logging.getLogger(__name__)

TORCH_FIX = "pip install 'stylecam[train]'"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "stylecam" / "bench"


def reference_path(cache_dir: Path, *, fp16: bool = False) -> Path:
    """Where the reference network (random weights) for this stylecam version is cached."""
    return Path(cache_dir) / f"reference-v{__version__}-{'fp16' if fp16 else 'fp32'}.onnx"


def fp16_twin_path(model: Path, cache_dir: Path) -> Path:
    """Where the fp16 conversion of ``model`` is cached (keyed by the model's content)."""
    return Path(cache_dir) / f"{model.stem}-{file_sha256(model)[:16]}-v{__version__}-fp16.onnx"


def _export_tools(feature: str) -> ModuleType:
    try:
        import torch  # noqa: F401

        from stylecam.export import benchmodels
    except ImportError as exc:
        raise DependencyError(
            f"{feature} makes its model with PyTorch and the stylecam export package, which are not installed "
            f"({exc.name or exc}); install the training extra: {TORCH_FIX}"
        ) from exc
    return benchmodels


def ensure_reference(cache_dir: Path, *, fp16: bool = False) -> Path:
    """The cached reference network, exported first if missing (needs torch; DependencyError names the extra)."""
    path = reference_path(cache_dir, fp16=fp16)
    if path.is_file():
        log.debug("reference network from the cache: %s", path)
        return path
    tools = _export_tools("--compare-reference")
    path.parent.mkdir(parents=True, exist_ok=True)
    log.info("exporting the reference network (random weights, %s) to %s", "fp16" if fp16 else "fp32", path)
    tools.export_reference(path, fp16=fp16)
    return path


def ensure_fp16_twin(model: Path, cache_dir: Path, *, precision: str) -> Path:
    """``model`` itself when it is fp16 already, else its cached fp16 conversion (made if missing)."""
    if precision.startswith("fp16"):
        return model
    path = fp16_twin_path(model, cache_dir)
    if path.is_file():
        return path
    tools = _export_tools("--fp16")
    path.parent.mkdir(parents=True, exist_ok=True)
    log.info("converting %s to fp16 (cached as %s)", model.name, path)
    tools.export_fp16_twin(model, path)
    return path

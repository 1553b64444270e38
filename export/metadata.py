"""What an exported model says about itself: built from a checkpoint, written as ``metadata_props``.

The contract keys live in :mod:`stylecam.contract`; the few export-only keys below are optional
``stylecam.*`` extras (``ModelMetadata.extra``), so older runtimes ignore them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from functools import cache
from pathlib import Path
from typing import Any

from stylecam import __version__
from stylecam.contract import ModelMetadata
from stylecam.train.networks.model import ModelConfig, network_stride

log = logging.getLogger(__name__)

# Optional extras (strings, like every metadata value).
K_TRT_FRIENDLY = "stylecam.trt_friendly"  # "true" when norm/padding are decomposed
K_NORM_PRECISION = "stylecam.norm_precision"  # "fp32" or "fp16": instance-norm statistics
K_MIN_SIDE = "stylecam.min_side"  # smallest padded side the network accepts (frames may be smaller)
K_BORDER = "stylecam.border"  # reflected context added around each frame in the graph, in pixels
K_FOLDED_NORMS = "stylecam.folded_norms"  # batch norms folded into convolutions at export
K_PARAMETERS = "stylecam.parameters"  # parameter count of the network
K_PARAM_ALIASES = "stylecam.param_aliases"  # JSON {parameter: initializer} for merged duplicates
# Alias of a parameter that is all zeros and that the exporter's optimizer dropped from the graph
# (a conv bias folded from a fresh batch norm); not a valid initializer name.
ZEROS_ALIAS = "<zeros>"
K_SOURCE = "stylecam.source_checkpoint"  # file name (not path) of the checkpoint
K_STEP = "stylecam.train_step"
K_TEMPORAL_WEIGHT = "stylecam.temporal_weight"  # weight of the trained-in stability term (0: none)
K_TEACHER = "stylecam.distilled_from"  # sha256 of the teacher network, for distilled models

BUNDLED_STYLE_LICENSE = "public domain (bundled with stylecam; see stylecam/assets/README.md)"
UNKNOWN_LICENSE = "unknown"


@cache
def _bundled_style_hashes() -> dict[str, str]:
    # The bundled paintings are all public domain (assets README); recognise them by content.
    folder = _styles_folder()
    if folder is None:
        return {}
    return {hashlib.sha256(p.read_bytes()).hexdigest(): p.stem for p in sorted(folder.glob("*.jpg"))}


def _styles_folder() -> Path | None:
    import stylecam

    folder = Path(stylecam.__file__).resolve().parent / "assets" / "styles"
    return folder if folder.is_dir() else None


def style_license(style: dict[str, Any], *, override: str | None = None) -> str:
    """The licence of a checkpoint's style image: override, recorded value, bundled painting, or unknown."""
    if override:
        return override
    if style.get("license"):
        return str(style["license"])
    if style.get("sha256") and style["sha256"] in _bundled_style_hashes():
        return BUNDLED_STYLE_LICENSE
    return UNKNOWN_LICENSE


def config_digest(config: Any) -> str:
    """SHA-256 of a config's canonical JSON (sorted keys), or "" when there is none."""
    if not config:
        return ""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def metadata_from_checkpoint(
    data: dict[str, Any],
    *,
    source: str | Path | None = None,
    style_license_override: str | None = None,
    parameters: int | None = None,
) -> ModelMetadata:
    """Build the metadata of a model from its checkpoint dict (precision/opset are set by the export)."""
    config = ModelConfig.from_dict(data["model_config"])
    style = data.get("style") or {}
    extra: dict[str, str] = {}
    if source is not None:
        extra[K_SOURCE] = Path(source).name
    if isinstance(data.get("step"), int):
        extra[K_STEP] = str(data["step"])
    if parameters is not None:
        extra[K_PARAMETERS] = str(parameters)
    train = data.get("train_config") or {}
    if train:
        extra[K_TEMPORAL_WEIGHT] = f"{float(train.get('temporal_weight') or 0):g}"
    if train.get("teacher_sha256"):
        extra[K_TEACHER] = str(train["teacher_sha256"])
    licence = style_license(style, override=style_license_override)
    if licence == UNKNOWN_LICENSE:
        log.warning("the style image's licence is unknown; record it with --style-license (e.g. 'public domain')")
    return ModelMetadata(
        arch=config.arch,
        stride=network_stride(config),
        precision="fp32",
        stylecam_version=__version__,
        model_config=config.to_dict(),
        style_name=str(style.get("name") or ""),
        style_sha256=str(style.get("sha256") or ""),
        style_license=licence,
        train_config_digest=config_digest(data.get("train_config")),
        extra=extra,
    )

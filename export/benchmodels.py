"""Models for ``stylecam bench``: the reference network with random weights, and fp16 twins of models.

The benchmark's ``--compare-reference`` rows run the classic Johnson network next to the model
being measured, so every speed claim is a ratio taken side by side; its weights do not matter for
speed, so a seeded random initialisation is exported (no checkpoint needed). ``--fp16`` measures the
fp16 form of a model: the torch network is rebuilt from the file's own initializers and exported
again through the same fp16 path as ``stylecam export --fp16``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch

from stylecam import __version__
from stylecam.contract import ModelMetadata
from stylecam.export.metadata import K_PARAM_ALIASES, K_TRT_FRIENDLY
from stylecam.export.onnx import DEFAULT_OPSET, export_onnx
from stylecam.export.rebuild import network_from_onnx
from stylecam.onnxfile import load_onnx_safely, metadata_of
from stylecam.train.model import STRIDE, build_model, get_config

REFERENCE_ARCH = "reference"
RANDOM_WEIGHTS = "random weights (benchmark reference; not a style)"


def export_reference(path: str | Path, *, fp16: bool = False, seed: int = 0) -> Path:
    """Export the reference architecture with seeded random weights to ``path`` (atomically)."""
    config = get_config(REFERENCE_ARCH)
    torch.manual_seed(seed)
    net = build_model(config).eval()
    metadata = ModelMetadata(
        arch=REFERENCE_ARCH,
        stride=STRIDE,
        precision="fp16" if fp16 else "fp32",
        stylecam_version=__version__,
        model_config=config.to_dict(),
        style_name="",
        style_license=RANDOM_WEIGHTS,
    )
    return export_onnx(net, path, metadata=metadata, fp16=fp16)


def export_fp16_twin(model: str | Path, path: str | Path) -> Path:
    """Re-export a stylecam fp32 model as fp16 (same weights, same metadata apart from precision)."""
    proto = load_onnx_safely(model)
    metadata = metadata_of(proto, source=str(model))
    net = network_from_onnx(proto, source=str(model))
    # Aliases describe the old graph's merged initializers; the new export records its own.
    extra = {key: value for key, value in metadata.extra.items() if key != K_PARAM_ALIASES}
    return export_onnx(
        net,
        path,
        metadata=replace(metadata, extra=extra),
        fp16=True,
        opset=metadata.opset or DEFAULT_OPSET,
        trt_friendly=metadata.extra.get(K_TRT_FRIENDLY) == "true",
    )

"""Models for ``stylecam bench``: the reference network with random weights, and fp16 twins of models.

The benchmark's ``--compare-reference`` rows run the classic Johnson network next to the model
being measured, so every speed claim is a ratio taken side by side; its weights do not matter for
speed, so a seeded random initialisation is exported (no checkpoint needed). :func:`export_random`
does the same for any registered architecture (``lite``, ``fast``), with batch-norm statistics
drawn away from their initial values so no layer folds into a constant. ``--fp16`` measures the
fp16 form of a model: the torch network is rebuilt from the file's own initializers and exported
again through the same fp16 path as ``stylecam export --fp16``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

from stylecam import __version__
from stylecam.contract import ModelMetadata
from stylecam.export.metadata import K_PARAM_ALIASES, K_TRT_FRIENDLY
from stylecam.export.onnx import DEFAULT_OPSET, export_onnx
from stylecam.export.rebuild import network_from_onnx
from stylecam.onnxfile import load_onnx_safely, metadata_of
from stylecam.train.networks.model import build_model, get_config, network_stride

REFERENCE_ARCH = "reference"
RANDOM_WEIGHTS = "random weights (benchmark reference; not a style)"


def export_reference(path: str | Path, *, fp16: bool = False, seed: int = 0) -> Path:
    """Export the reference architecture with seeded random weights to ``path`` (atomically)."""
    return export_random(REFERENCE_ARCH, path, fp16=fp16, seed=seed)


def _randomise_batch_norms(net: nn.Module, generator: torch.Generator) -> None:
    # Fresh batch norms fold into zero biases and (last norm of each residual block) zero weights.
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.copy_(torch.randn(module.num_features, generator=generator) * 0.5)
                module.running_var.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
                module.weight.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
                module.bias.copy_(torch.randn(module.num_features, generator=generator) * 0.3)


def export_random(arch: str, path: str | Path, *, fp16: bool = False, seed: int = 0) -> Path:
    """Export a registered architecture with seeded random weights to ``path`` (atomically)."""
    config = get_config(arch)
    torch.manual_seed(seed)
    net = build_model(config)
    _randomise_batch_norms(net, torch.Generator().manual_seed(seed))
    net.eval()
    metadata = ModelMetadata(
        arch=config.arch,
        stride=network_stride(config),
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

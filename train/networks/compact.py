"""Compact style networks: ``lite`` for CPUs and ``fast`` for GPUs (one class, two layouts).

Where the reference network spends its time, and what these networks do instead:

* five residual blocks of 128 channels at 1/4 scale and two 9x9 convolutions at full scale are
  most of its 638 GFLOP per 1080p frame: here the residual blocks run at **1/8 scale** and no
  convolution runs at full resolution (the last layer is a 2x2 stride-2 transposed convolution,
  :class:`~stylecam.train.networks.blocks.SubPixelHead`);
* instance normalization costs more than the convolutions on both CPU and GPU: here it is
  **batch norm**, which folds into the preceding convolution at export (no norm op left);
* reflection padding is a separate copy of every activation: here convolutions pad with
  **zeros** (inside the conv), and the export wrapper reflects ``border`` pixels of context around
  each frame so the zero padding falls outside the picture.

``lite`` uses depthwise-separable 3x3 convolutions (few multiply-adds: what a 2-core CPU needs);
``fast`` uses dense 3x3 convolutions at widths that are multiples of 32 (what tensor cores need;
depthwise convolutions are memory-bound on GPUs) and a space-to-depth stem.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from stylecam.train.networks.blocks import ConvNormAct, GuideHead, ResidualBlock, SubPixelHead, UpBlock, spatial
from stylecam.train.networks.model import ModelConfig


@dataclass(frozen=True)
class Layout:
    """What differs between the compact architectures, beyond the ModelConfig widths."""

    separable: bool  # depthwise-separable 3x3 convolutions (CPU) or dense ones (GPU)
    space_to_depth: bool  # pixel-unshuffle stem (12 channels at 1/2 scale) or a stride-2 3x3 conv
    border: int  # reflected context the export wrapper adds on every side, in pixels


LAYOUTS: dict[str, Layout] = {
    "lite": Layout(separable=True, space_to_depth=False, border=8),
    "fast": Layout(separable=False, space_to_depth=True, border=8),
}


class CompactNet(nn.Module):
    """Encoder to 1/8 scale -> residual blocks -> two upsampling blocks -> sub-pixel head.

    Same pixel contract as the reference network (float RGB NCHW 0..255 in and out, unclamped);
    H and W must be multiples of :attr:`stride`.
    """

    stride = 8  # three halvings
    min_side = 8  # zero padding works on any size: one cell at 1/8 scale is enough

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        layout = LAYOUTS[config.arch]
        self.border = layout.border
        c1, c2, c3 = config.channels
        hybrid = config.norm == "hybrid"
        options = {"norm": "batch" if hybrid else config.norm, "padding": config.padding}
        inner = {**options, "norm": "instance" if hybrid else config.norm}
        if layout.space_to_depth:
            stem: nn.Module = nn.Sequential(nn.PixelUnshuffle(2), ConvNormAct(12, c1, 3, **options))
        else:
            stem = ConvNormAct(3, c1, 3, 2, **options)
        self.encoder = nn.Sequential(
            stem,
            spatial(c1, c2, 2, separable=layout.separable, **options),
            spatial(c2, c3, 2, separable=layout.separable, **options),
        )
        self.residuals = nn.Sequential(
            *(ResidualBlock(c3, separable=layout.separable, **inner) for _ in range(config.residual_blocks))
        )
        self.decoder = nn.Sequential(
            UpBlock(c3, c2, separable=layout.separable, **options),
            UpBlock(c2, c1, separable=layout.separable, **options),
        )
        self.head = SubPixelHead(c1)
        # guide > 0: the photo's own detail reaches the output (GuideHead) and the half-scale stem
        # features reach the head (a U-Net skip, scaled per channel, starting at zero)
        self.guide = GuideHead(config.guide, config.padding) if config.guide else None
        self.skip_scale = nn.Parameter(torch.zeros(1, c1, 1, 1)) if config.guide else None

    def encoder_parameters(self) -> list[nn.Parameter]:
        """Parameters of the downsampling encoder (frozen first when fine-tuning a new style)."""
        return list(self.encoder.parameters())

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if self.guide is None or self.skip_scale is None:
            return self.head(self.decoder(self.residuals(self.encoder(images))))
        stem = self.encoder[0](images)
        features = self.decoder(self.residuals(self.encoder[1:](stem)))
        return self.guide(self.head(features + self.skip_scale * stem), images)

"""The feed-forward training objective: weighted VGG19 content + Gram style + total variation.

The loss functions themselves are pure (``losses.py``); this module holds the frozen loss network,
the painting's Gram matrices (computed once) and the weights from :class:`TrainConfig`.
Losses are computed in float32 even under autocast: Gram matrices sum over every pixel and lose
too much precision in bf16/fp16.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from stylecam.train.config import TrainConfig
from stylecam.train.losses.functional import content_loss, gram_matrix, style_loss, total_variation_loss
from stylecam.train.losses.vgg import VGGFeatures

# LossTerms fields that only some runs have (None otherwise), in the order logs show them
OPTIONAL_TERMS = ("distill", "temporal", "luminance")


@dataclass(frozen=True)
class LossTerms:
    """Weighted loss terms of one batch (detached unless taken from :meth:`PerceptualLoss.forward`)."""

    content: torch.Tensor
    style: torch.Tensor
    tv: torch.Tensor
    total: torch.Tensor
    distill: torch.Tensor | None = None  # only in runs with a teacher
    temporal: torch.Tensor | None = None  # only in runs with --temporal-weight
    luminance: torch.Tensor | None = None  # only in runs with --luminance-weight

    def detach(self) -> LossTerms:
        return LossTerms(
            self.content.detach(),
            self.style.detach(),
            self.tv.detach(),
            self.total.detach(),
            distill=None if self.distill is None else self.distill.detach(),
            temporal=None if self.temporal is None else self.temporal.detach(),
            luminance=None if self.luminance is None else self.luminance.detach(),
        )

    def as_floats(self) -> dict[str, float]:
        values = {
            "content": float(self.content),
            "style": float(self.style),
            "tv": float(self.tv),
            "total": float(self.total),
        }
        for name in OPTIONAL_TERMS:
            value = getattr(self, name)
            if value is not None:
                values[name] = float(value)
        return values


def style_layer_weights(grams: dict[str, torch.Tensor], norm: str) -> dict[str, float] | None:
    """Per-layer style weights: ``1 / (mean(G^2) * layers)`` for ``layer`` norm, None for ``none``."""
    if norm == "none":
        return None
    return {name: 1.0 / (float(gram.double().pow(2).mean()) * len(grams) + 1e-12) for name, gram in grams.items()}


class PerceptualLoss(nn.Module):
    """Johnson et al. (2016) perceptual loss for one painting.

    Args:
        vgg: frozen features covering the config's content and style layers.
        style_rgb: the painting, float RGB ``(1, 3, H, W)`` in 0-255 (already resized).
        config: layers and loss weights.
    """

    def __init__(self, vgg: VGGFeatures, style_rgb: torch.Tensor, config: TrainConfig) -> None:
        super().__init__()
        self.vgg = vgg
        self.content_layers = tuple(config.content_layers)
        self.style_layers = tuple(config.style_layers)
        self.content_weight = config.content_weight
        self.style_weight = config.style_weight
        self.tv_weight = config.tv_weight
        with torch.no_grad():
            features = vgg(style_rgb.float(), layers=self.style_layers)
            grams = {name: gram_matrix(features[name].float()) for name in self.style_layers}
        for name, gram in grams.items():
            # Buffers (not a dict) so .to(device) moves them with the module.
            self.register_buffer(f"gram_{name}", gram, persistent=False)
        self.layer_weights = style_layer_weights(grams, config.style_norm)
        self.gram_distill_weight = config.distill_gram_weight  # > 0 only with a teacher (TrainConfig checks)

    @property
    def style_grams(self) -> dict[str, torch.Tensor]:
        return {name: getattr(self, f"gram_{name}") for name in self.style_layers}

    def forward(self, output: torch.Tensor, content: torch.Tensor, teacher: torch.Tensor | None = None) -> LossTerms:
        """Loss of network ``output`` for the ``content`` photos it was given (both RGB 0-255).

        With ``teacher`` (the target batch of a distillation run) and a Gram distillation weight, the
        terms also hold ``distill``: the style loss against each teacher output's own Gram matrices,
        computed from the same VGG19 pass of ``output`` (it is part of ``total``).
        """
        with torch.no_grad():
            # Content targets need VGG only up to the content layer (relu2_2: 4 of 16 convs).
            targets = self.vgg(content, layers=self.content_layers)
            teacher_grams = None
            if teacher is not None and self.gram_distill_weight:
                found = self.vgg(teacher, layers=self.style_layers)
                teacher_grams = {name: gram_matrix(found[name].float()) for name in self.style_layers}
        features = self.vgg(output, layers=self.content_layers + self.style_layers)
        with torch.autocast(device_type=output.device.type, enabled=False):
            feats32 = {name: value.float() for name, value in features.items()}
            zero = output.new_zeros((), dtype=torch.float32)
            c = sum((content_loss(feats32[n], targets[n].float()) for n in self.content_layers), zero)
            s = style_loss(feats32, self.style_grams, self.layer_weights) if self.style_weight else zero
            tv = total_variation_loss(output.float()) if self.tv_weight else zero
            weighted = (self.content_weight * c, self.style_weight * s, self.tv_weight * tv)
            total = weighted[0] + weighted[1] + weighted[2]
            if teacher_grams is None:
                return LossTerms(*weighted, total=total)
            distill = self.gram_distill_weight * style_loss(feats32, teacher_grams, self.layer_weights)
        return LossTerms(*weighted, total=total + distill, distill=distill)

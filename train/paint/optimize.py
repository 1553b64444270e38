"""Optimisation-based style transfer (Gatys et al. 2016): the quality reference.

An image is optimised so its VGG19 features match the content photo's (``relu4_2``) and its Gram
matrices match the painting's (``relu1_1`` ... ``relu5_1``). The losses are the same functions the
feed-forward training uses, so ``stylecam paint`` shows what a trained network should approach.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt
import torch
from tqdm import tqdm

from stylecam.errors import UsageError
from stylecam.images import resize_long_side
from stylecam.train.devices import resolve_device
from stylecam.train.losses.functional import content_loss, gram_matrix, style_loss, total_variation_loss
from stylecam.train.losses.vgg import VGGFeatures, VGGWeights
from stylecam.train.paint.config import PaintConfig

log = logging.getLogger(__name__)


@dataclass
class PaintResult:
    image: npt.NDArray[np.uint8]  # BGR
    seconds: float
    device: str
    history: list[dict[str, float]] = field(default_factory=list)  # loss terms per step


def _to_tensor(bgr: npt.NDArray[np.uint8], device: torch.device) -> torch.Tensor:
    rgb = np.ascontiguousarray(bgr[:, :, ::-1]).astype(np.float32)
    return torch.from_numpy(rgb).permute(2, 0, 1).unsqueeze(0).contiguous().to(device)


def _to_bgr(tensor: torch.Tensor) -> npt.NDArray[np.uint8]:
    rgb = tensor.detach().squeeze(0).clamp(0, 255).round().byte().permute(1, 2, 0).cpu().numpy()
    return np.ascontiguousarray(rgb[:, :, ::-1])


def _luminance_only(content: npt.NDArray[np.uint8], style: npt.NDArray[np.uint8]):
    """Gatys et al. 2017 colour preservation: transfer on luminance, style luma matched to content's."""
    content_y = cv2.cvtColor(content, cv2.COLOR_BGR2YCrCb)[:, :, 0].astype(np.float32)
    style_y = cv2.cvtColor(style, cv2.COLOR_BGR2YCrCb)[:, :, 0].astype(np.float32)
    style_y = (style_y - style_y.mean()) / (style_y.std() + 1e-6) * content_y.std() + content_y.mean()
    gray = lambda y: cv2.cvtColor(np.clip(y + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)  # noqa: E731
    return gray(content_y), gray(style_y)


def _recolor(result: npt.NDArray[np.uint8], content: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    out = cv2.cvtColor(content, cv2.COLOR_BGR2YCrCb)
    out[:, :, 0] = cv2.cvtColor(result, cv2.COLOR_BGR2YCrCb)[:, :, 0]
    return cv2.cvtColor(out, cv2.COLOR_YCrCb2BGR)


def paint(
    content_bgr: npt.NDArray[np.uint8],
    style_bgr: npt.NDArray[np.uint8],
    config: PaintConfig | None = None,
    *,
    device: str = "auto",
    vgg_weights: VGGWeights | None = None,
    progress: bool = True,
) -> PaintResult:
    """Stylize ``content_bgr`` (resized so its long side is ``config.size``) like ``style_bgr``."""
    config = config or PaintConfig()
    torch_device = resolve_device(device)
    torch.manual_seed(config.seed)
    content = resize_long_side(content_bgr, config.size)
    style = resize_long_side(style_bgr, max(16, round(config.size * config.style_scale)))
    if config.preserve_color:
        content_input, style = _luminance_only(content, style)
    else:
        content_input = content

    vgg = VGGFeatures(config.content_layers + config.style_layers, vgg_weights).to(torch_device)
    content_t = _to_tensor(content_input, torch_device)
    with torch.no_grad():
        content_targets = {k: v for k, v in vgg(content_t).items() if k in config.content_layers}
        style_feats = vgg(_to_tensor(style, torch_device))
        style_grams = {k: gram_matrix(style_feats[k]) for k in config.style_layers}

    image = content_t.clone() if config.init == "content" else torch.rand_like(content_t) * 255.0
    image.requires_grad_(True)

    history: list[dict[str, float]] = []

    def closure() -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        feats = vgg(image)
        c = sum(content_loss(feats[k], content_targets[k]) for k in config.content_layers)
        s = style_loss(feats, style_grams)
        tv = total_variation_loss(image)
        loss = config.content_weight * c + config.style_weight * s + config.tv_weight * tv
        loss.backward()
        history.append({k: float(v.detach()) for k, v in (("content", c), ("style", s), ("tv", tv), ("total", loss))})
        return loss

    if config.optimizer == "lbfgs":
        # One function evaluation per step (no line search), so --steps counts VGG passes and the
        # progress bar moves evenly; the curvature history carries across steps.
        optimizer = torch.optim.LBFGS(
            [image], lr=1.0, max_iter=1, history_size=50, tolerance_grad=-1.0, tolerance_change=-1.0
        )
    else:
        optimizer = torch.optim.Adam([image], lr=config.learning_rate)

    start = time.perf_counter()
    bar = tqdm(range(config.steps), desc="paint", unit="step", disable=not progress, leave=False)
    for _ in bar:
        optimizer.step(closure)
        if config.optimizer == "adam":
            with torch.no_grad():
                image.clamp_(0, 255)
        last = history[-1]
        bar.set_postfix(content=f"{last['content']:.3g}", style=f"{last['style']:.3g}")
        if not np.isfinite(last["total"]):
            raise UsageError(
                "the optimisation diverged (loss is not finite); lower --style-weight or use --optimizer adam"
            )
    seconds = time.perf_counter() - start
    result = _to_bgr(image)
    if config.preserve_color:
        result = _recolor(result, content)
    log.debug("paint: %d steps in %.1f s on %s", config.steps, seconds, torch_device)
    return PaintResult(image=result, seconds=seconds, device=str(torch_device), history=history)

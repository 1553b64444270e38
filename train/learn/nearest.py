"""The starting point of a learn job: the bundled style whose painting is closest to the user's.

Closeness is the training's own style loss (``style_norm=layer``): for each VGG19 style layer
(relu1_1 ... relu5_1) the squared distance between the Gram matrices of the two paintings,
relative to the user painting's Gram energy, averaged over the layers. The network trained on the
closest painting already paints textures and colours much like the target, so fine-tuning it
needs far fewer steps than training from scratch (``docs/training.md``: 4x fewer measured).

That network ships only as ``.onnx``; :func:`write_init_checkpoint` rebuilds the torch network
from the file's initializers (``stylecam.export.rebuild``) and saves it as a checkpoint for
``--init``. The same for the style's lite network, when it ships one: the job's lite network
starts from it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch

from stylecam.errors import ModelLoadError
from stylecam.images import read_image, resize_long_side
from stylecam.runtime.inference.models import bundled_models
from stylecam.train.config import DEFAULT_STYLE_LAYERS
from stylecam.train.loop.checkpoint import save_checkpoint
from stylecam.train.losses.functional import gram_matrix
from stylecam.train.losses.perceptual import to_tensor
from stylecam.train.losses.style import BUNDLED_STYLES_DIR
from stylecam.train.losses.vgg import VGGFeatures, load_vgg_weights
from stylecam.train.networks.model import ModelConfig

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Start:
    """The chosen bundled style and how far every candidate was."""

    name: str
    model: Path  # its reference network (.onnx)
    distance: float
    distances: dict[str, float]


def candidates() -> dict[str, tuple[Path, Path]]:
    """Bundled styles that can start a job: name -> (painting image, reference network file)."""
    found = {}
    for model in bundled_models():
        variant = model.variant("reference")
        painting = BUNDLED_STYLES_DIR / f"{model.name}.jpg"
        if variant is not None and variant.path.is_file() and painting.is_file():
            found[model.name] = (painting, variant.path)
    return found


@torch.no_grad()
def _grams(vgg: VGGFeatures, bgr: Image, size: int) -> dict[str, torch.Tensor]:
    features = vgg(to_tensor([resize_long_side(bgr, size)]))
    return {name: gram_matrix(value).double() for name, value in features.items()}


def gram_distance(target: dict[str, torch.Tensor], other: dict[str, torch.Tensor]) -> float:
    """Mean over layers of ``|G_other - G_target|^2 / |G_target|^2`` (the layer-normalised style loss)."""
    terms = [
        float((other[name] - gram).pow(2).sum() / gram.pow(2).sum().clamp_min(1e-12)) for name, gram in target.items()
    ]
    return sum(terms) / len(terms)


def nearest_style(painting: Image, *, size: int) -> Start:
    """The bundled style closest to ``painting`` (BGR uint8); ModelLoadError when none is installed."""
    options = candidates()
    if not options:
        raise ModelLoadError("no bundled style models are installed to start from; reinstall stylecam")
    vgg = VGGFeatures(DEFAULT_STYLE_LAYERS, load_vgg_weights())
    target = _grams(vgg, painting, size)
    distances = {
        name: round(gram_distance(target, _grams(vgg, read_image(image).bgr, size)), 4)
        for name, (image, _) in sorted(options.items())
    }
    best = min(distances, key=lambda name: distances[name])
    log.info(
        "closest bundled style: %s (distance %.3g; %s)",
        best,
        distances[best],
        ", ".join(f"{name} {value:.3g}" for name, value in sorted(distances.items(), key=lambda item: item[1])),
    )
    return Start(name=best, model=options[best][1], distance=distances[best], distances=distances)


def write_init_checkpoint(
    model: Path,
    target: Path,
    *,
    style: str,
    expect: ModelConfig | None = None,
    images: torch.Tensor | None = None,
) -> Path:
    """Rebuild the torch network of a bundled ``.onnx`` and save it as a checkpoint for ``--init``.

    ``expect``: the network's config must be this one (ModelLoadError otherwise). An exported compact
    network has its batch norms folded: it is turned back into its training form, with batch-norm
    statistics measured on ``images`` (a few training photos, float RGB ``(N, 3, H, W)`` 0..255;
    ``stylecam.export.rebuild.trainable_network``).
    """
    from stylecam.export.rebuild import network_from_onnx, trainable_network
    from stylecam.onnxfile import load_onnx_safely, metadata_of
    from stylecam.runtime.inference.catalog import file_sha256

    proto = load_onnx_safely(model)
    meta = metadata_of(proto, source=str(model))
    if expect is not None and meta.model_config and ModelConfig.from_dict(meta.model_config) != expect:
        raise ModelLoadError(
            f"{model.name} holds the network {meta.model_config}, not the {expect.arch} network this stylecam "
            f"trains {expect.to_dict()}"
        )
    network = network_from_onnx(proto, source=str(model))
    config = ModelConfig.from_dict(meta.model_config)
    network = trainable_network(network, config, images)
    payload = {
        "model": {key: value.detach().clone() for key, value in network.state_dict().items()},
        "model_config": config.to_dict(),
        "arch": config.arch,
        "style": {"name": style, "sha256": meta.style_sha256},
        "origin": f"the network of bundled model {model.name} (sha256 "
        f"{file_sha256(model)[:16]}), rebuilt from the file; its training is in its card",
    }
    return save_checkpoint(target, payload)

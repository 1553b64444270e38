"""Choosing the torch device: ``auto`` picks CUDA when it works, else CPU."""

from __future__ import annotations

import torch

from stylecam.errors import DependencyError, UsageError

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(name: str) -> torch.device:
    """Return the torch device for ``auto``, ``cpu``, ``cuda`` or ``cuda:N``."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise DependencyError(
                f"--device {name} was asked for but torch sees no CUDA GPU "
                f"(torch {torch.__version__}); use --device cpu or --device auto"
            )
        return torch.device(name)
    raise UsageError(f"unknown device {name!r}; choose one of: {', '.join(DEVICE_CHOICES)} (or cuda:N)")

"""The stylecam error hierarchy.

The library raises these with messages that name the problem and the fix (valid values, the
command to run). Only the CLI turns them into a one-line message and an exit code.
"""

from __future__ import annotations


class StylecamError(Exception):
    """Base class of every error stylecam reports to a user."""

    exit_code = 1


class UsageError(StylecamError):
    """An option or argument value is invalid (bad size, unknown name, conflicting flags)."""

    exit_code = 2


class InputError(StylecamError):
    """An input file is missing, unreadable, empty or not what its name says."""

    exit_code = 3


class SourceError(InputError):
    """A camera or video source cannot be opened or stopped delivering frames."""


class OutputError(StylecamError):
    """An output cannot be written (missing folder, no permission, disk full, same as input)."""

    exit_code = 4


class ModelLoadError(StylecamError):
    """A model or checkpoint is missing, corrupt, hostile, or built for something else."""

    exit_code = 5


class DependencyError(StylecamError):
    """A needed optional package or native library is missing or broken."""

    exit_code = 6


class VerificationError(StylecamError):
    """A checked artefact failed its gate (ONNX checker, parity, NaN/Inf)."""

    exit_code = 7


def require_torch(feature: str) -> None:
    """Raise a DependencyError naming the extra to install when torch is missing."""
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise DependencyError(
            f"{feature} needs PyTorch, which is not installed; "
            "install the training extra: pip install 'stylecam[train]'"
        ) from exc

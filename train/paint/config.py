"""Settings of ``stylecam paint`` (torch-free, so the CLI can show defaults without loading torch)."""

from __future__ import annotations

from dataclasses import dataclass

from stylecam.errors import UsageError

OPTIMIZERS = ("lbfgs", "adam")
INITS = ("content", "noise")
DEFAULT_CONTENT_LAYERS = ("relu4_2",)
DEFAULT_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


@dataclass(frozen=True)
class PaintConfig:
    """Settings of one paint run. Loss weights are for the Caffe VGG19 at 0-255 scale."""

    size: int = 384
    steps: int = 300
    optimizer: str = "lbfgs"
    content_weight: float = 1.0
    style_weight: float = 100.0
    tv_weight: float = 1e4
    init: str = "content"
    seed: int = 0
    preserve_color: bool = False
    style_scale: float = 1.0
    learning_rate: float = 10.0  # Adam only; pixel units on the 0-255 scale
    content_layers: tuple[str, ...] = DEFAULT_CONTENT_LAYERS
    style_layers: tuple[str, ...] = DEFAULT_STYLE_LAYERS

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise UsageError(f"unknown optimizer {self.optimizer!r}; choose one of: {', '.join(OPTIMIZERS)}")
        if self.init not in INITS:
            raise UsageError(f"unknown init {self.init!r}; choose one of: {', '.join(INITS)}")
        if not 16 <= self.size <= 8192:
            raise UsageError(f"size must be between 16 and 8192 px, got {self.size}")
        if self.steps < 1:
            raise UsageError(f"steps must be at least 1, got {self.steps}")
        if min(self.content_weight, self.style_weight, self.tv_weight) < 0:
            raise UsageError("loss weights must be >= 0")
        if not 0.05 <= self.style_scale <= 8:
            raise UsageError(f"style scale must be between 0.05 and 8, got {self.style_scale}")

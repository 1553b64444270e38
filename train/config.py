"""Settings of ``stylecam train`` (torch-free, so the CLI can show defaults without loading torch).

Two frozen dataclasses:

* :class:`TrainConfig`: the hyperparameters that decide what the network learns. It is saved in
  every checkpoint as a plain dict, and its :meth:`~TrainConfig.digest` (sha256 of canonical JSON)
  goes into the exported ONNX metadata, so a model names exactly how it was trained.
* :class:`RunOptions`: where files are and how the run is watched (device, workers, logging and
  checkpoint cadence). Changing them never changes the result, so they are not part of the digest.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from stylecam.errors import UsageError

AMP_CHOICES = ("auto", "bf16", "fp16", "off")
# "layer": each style layer's Gram error is taken relative to the painting's own Gram energy at
# that layer (and averaged over layers), so every layer counts and one weight suits every
# painting. "none": the plain sum, as in `stylecam paint`; with the Caffe VGG19 it is dominated by
# relu4_1/relu3_4 (their Grams are ~1000x larger than relu1_1's) and leaves colour speckle.
STYLE_NORMS = ("layer", "none")
# Normalisations a compact network (lite, fast) can be trained with (stylecam.train.networks.compact)
COMPACT_NORMS = ("batch", "hybrid", "instance")
# Crops must be multiples of the network stride (stylecam.train.networks.model.STRIDE; a test pins them equal).
CROP_MULTIPLE = 4
# relu names of VGG19 (stylecam.train.losses.vgg.LAYER_INDEX; a test pins them equal).
VGG_LAYERS = tuple(f"relu{b}_{c}" for b, n in ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4)) for c in range(1, n + 1))
# Johnson et al.: content from an early layer keeps the photo's structure sharp; style from
# every block so both fine texture and large strokes are matched.
DEFAULT_CONTENT_LAYERS = ("relu2_2",)
DEFAULT_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


def _check_layers(kind: str, layers: tuple[str, ...]) -> None:
    unknown = [name for name in layers if name not in VGG_LAYERS]
    if unknown or not layers:
        raise UsageError(
            f"unknown {kind} layer(s) {', '.join(unknown) or '(none given)'}; choose from: {', '.join(VGG_LAYERS)}"
        )


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of one feed-forward style network (loss weights for Caffe VGG19 at 0-255)."""

    arch: str = "reference"
    # Compact networks (lite, fast): their normalisation instead of the preset's batch norm: "hybrid"
    # (instance norm in the 1/8-scale residual blocks) or "instance". None: the architecture's own.
    norm: str | None = None
    # Compact networks: hidden width of the full-resolution guide (0: none). None: the network's own.
    guide: int | None = None
    size: int = 256
    batch_size: int = 8
    steps: int = 5000
    epochs: float | None = None  # when set, the runner derives `steps` from it and the data size
    learning_rate: float = 1e-3
    content_weight: float = 1.0
    style_weight: float = 3e5
    tv_weight: float = 0.0
    style_norm: str = "layer"
    style_size: int | None = None  # long side of the painting in px; None: twice the crop size
    content_layers: tuple[str, ...] = DEFAULT_CONTENT_LAYERS
    style_layers: tuple[str, ...] = DEFAULT_STYLE_LAYERS
    amp: str = "auto"
    seed: int = 0
    freeze_encoder_steps: int = 0
    # Learning-rate schedule: constant, then a cosine decay to 1 % over the last `lr_decay` of the steps.
    lr_decay: float = 0.0
    # Distillation (with a teacher network): L1 to the teacher's output in 0-255 pixels, and the
    # squared error of low VGG19 features (relu1_1, relu2_1) against the teacher's, per element.
    teacher_sha256: str | None = None  # set from --teacher; part of the digest: the teacher decides the result
    distill_pixel_weight: float = 1.0
    distill_feature_weight: float = 0.0
    # Squared error of the student's Gram matrices against the teacher output's, per image, at the
    # style layers (weighted like the style loss): the teacher's texture statistics, not its pixels.
    distill_gram_weight: float = 0.0
    # Temporal stability (Wang et al. 2020, compound regularisation): the network's output for a
    # randomly warped, noisy input must equal the warped output (or the warped teacher output).
    temporal_weight: float = 0.0
    warp_shift: float = 4.0  # largest global shift, px
    warp_local: float = 2.0  # largest local displacement of the smooth random field, px
    warp_grid: int = 4  # coarse grid cells per side of the random field
    warp_noise: float = 2.0  # std of the Gaussian noise added to the warped input, 0-255 pixels
    # Keep the photo's light and dark: the squared part above `luminance_tolerance` (0-255 levels) of
    # the luma difference between output and photo, averaged over 8x8-pixel cells
    # (stylecam.train.losses.functional.luminance_loss). Stops bright skies turning into dark patches.
    luminance_weight: float = 0.0
    luminance_tolerance: float = 48.0
    # Batch-norm networks (lite, fast): when the run completes, recompute the running statistics
    # (what the export folds) on training photos at this long side, the size the network will paint
    # at, instead of the crops' (stylecam.train.loop.calibrate). 0: off.
    calibrate_norm: int = 0

    def __post_init__(self) -> None:
        if self.size < 16 or self.size % CROP_MULTIPLE:
            raise UsageError(f"--size must be a multiple of {CROP_MULTIPLE} and at least 16 px, got {self.size}")
        if self.batch_size < 1:
            raise UsageError(f"--batch must be at least 1, got {self.batch_size}")
        if self.steps < 1:
            raise UsageError(f"--steps must be at least 1, got {self.steps}")
        if self.epochs is not None and self.epochs <= 0:
            raise UsageError(f"--epochs must be positive, got {self.epochs}")
        if not 0 < self.learning_rate < 1:
            raise UsageError(f"--lr must be between 0 and 1 (Adam step size), got {self.learning_rate}")
        if min(self.content_weight, self.style_weight, self.tv_weight) < 0:
            raise UsageError("loss weights (--content-weight, --style-weight, --tv-weight) must be >= 0")
        if self.content_weight == 0 and self.style_weight == 0 and self.teacher_sha256 is None:
            raise UsageError(
                "--content-weight and --style-weight are both 0 and there is no --teacher; nothing to learn"
            )
        if not 0 <= self.lr_decay <= 1:
            raise UsageError(f"--lr-decay is the fraction of the steps to decay over, 0-1; got {self.lr_decay}")
        distill = (self.distill_pixel_weight, self.distill_feature_weight, self.distill_gram_weight)
        if min(*distill, self.temporal_weight) < 0:
            raise UsageError(
                "--distill-pixel-weight, --distill-feature-weight, --distill-gram-weight and --temporal-weight "
                "must be >= 0"
            )
        if self.teacher_sha256 is not None and max(distill) == 0:
            raise UsageError("--teacher with all distillation weights at 0 learns nothing from it; set one of them")
        if self.teacher_sha256 is None and self.distill_gram_weight > 0:
            raise UsageError("--distill-gram-weight needs --teacher (the network whose outputs it matches)")
        if min(self.warp_shift, self.warp_local, self.warp_noise) < 0 or not 1 <= self.warp_grid <= 64:
            raise UsageError("--warp-shift, --warp-local and --warp-noise must be >= 0 and --warp-grid 1-64")
        if self.luminance_weight < 0 or not 0 <= self.luminance_tolerance < 255:
            raise UsageError("--luminance-weight must be >= 0 and --luminance-tolerance 0-254 levels")
        if self.style_size is not None and not 16 <= self.style_size <= 4096:
            raise UsageError(f"--style-size must be between 16 and 4096 px, got {self.style_size}")
        if self.guide is not None and not 0 <= self.guide <= 64:
            raise UsageError(f"--guide is a hidden width, 0-64 (0: none), got {self.guide}")
        if self.norm is not None and self.norm not in COMPACT_NORMS:
            raise UsageError(f"unknown --norm {self.norm!r}; choose one of: {', '.join(COMPACT_NORMS)}")
        if self.style_norm not in STYLE_NORMS:
            raise UsageError(f"unknown --style-norm {self.style_norm!r}; choose one of: {', '.join(STYLE_NORMS)}")
        if self.amp not in AMP_CHOICES:
            raise UsageError(f"unknown --amp {self.amp!r}; choose one of: {', '.join(AMP_CHOICES)}")
        if self.calibrate_norm and not 32 <= self.calibrate_norm <= 4096:
            raise UsageError(
                f"--calibrate-norm is the long side of the frames the network will paint, 32-4096 px "
                f"(or 0: off); got {self.calibrate_norm}"
            )
        if self.freeze_encoder_steps < 0:
            raise UsageError(f"--freeze-encoder-steps must be >= 0, got {self.freeze_encoder_steps}")
        _check_layers("content", self.content_layers)
        _check_layers("style", self.style_layers)

    @property
    def effective_style_size(self) -> int:
        """Long side the painting is resized to; its ratio to the crop sets the stroke scale."""
        return self.style_size if self.style_size is not None else 2 * self.size

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["content_layers"] = list(self.content_layers)
        data["style_layers"] = list(self.style_layers)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UsageError(f"unknown training config keys {unknown}; this stylecam knows {sorted(known)}")
        values = dict(data)
        for key in ("content_layers", "style_layers"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)

    def digest(self) -> str:
        """sha256 of the canonical JSON of the config: the same settings give the same digest."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


# How often a run stylizes its validation photos and writes its checkpoint, unless told (0 turns either off).
DEFAULT_SAMPLE_EVERY = 500
DEFAULT_SAVE_EVERY = 1000

# Settings that may differ when a run is resumed: how long it trains and when the rate decays.
RESUMABLE_CHANGES = frozenset({"steps", "epochs", "lr_decay"})


@dataclass(frozen=True)
class RunOptions:
    """Files and cadence of one run; none of it changes what the network learns."""

    style: str | None = None  # a painting's path or a bundled style name
    data: Path | None = None
    output: Path | None = None
    style_name: str | None = None  # default: the file stem
    style_license: str | None = None  # default: known for bundled styles, else empty
    log_dir: Path | None = None  # default: <output stem>_logs beside the output
    device: str = "auto"
    workers: int | None = None  # None: a sensible number for the device
    # None: the resumed run's own cadence (kept in its checkpoint), else DEFAULT_SAMPLE_EVERY/DEFAULT_SAVE_EVERY
    sample_every: int | None = None
    save_every: int | None = None
    resume: Path | None = None
    init: Path | None = None
    teacher: Path | None = None  # a trained network to distil (checkpoint .pt or stylecam .onnx)
    teacher_cache: Path | None = None  # where the teacher's outputs are kept (default: beside the output)
    export: Path | None = None  # write a checked ONNX model at the end (stylecam.export)
    export_fp16: bool = False
    vgg_weights: Path | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        if (self.sample_every or 0) < 0 or (self.save_every or 0) < 0:
            raise UsageError("--sample-every and --save-every must be >= 0 (0 turns them off)")
        if self.workers is not None and self.workers < 0:
            raise UsageError(f"--workers must be >= 0, got {self.workers}")
        if self.resume is not None and self.init is not None:
            raise UsageError(
                "--resume and --init exclude each other: --resume continues a run, --init starts a new one"
            )

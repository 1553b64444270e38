"""What a ``stylecam learn`` job is asked to do, and the quality presets that say how (torch-free).

A preset fixes everything that shapes the result (crop sizes, batch, learning rates, how many
photos) and the default time budget; ``--minutes`` changes only the budget. The budget covers the
whole job, wall time: choosing the starting style, preparing photos, both trainings, both exports.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from stylecam.errors import UsageError


@dataclass(frozen=True)
class LearnSettings:
    """How a job spends its budget (one ``--quality`` preset)."""

    minutes: float  # default wall-time budget of the whole job
    crop: int  # training crop of the reference network, px
    batch: int
    style_size: int  # long side of the painting in training: sets the stroke scale
    learning_rate: float
    lr_decay: float  # cosine decay over this last fraction of the reference training
    lite_crop: int
    lite_batch: int
    lite_learning_rate: float
    lite_lr_decay: float
    temporal_weight: float  # trained-in stability of the lite network (costs a second pass per step)
    photos: int  # training photos or frames, at most
    photo_side: int  # long side of the prepared photos, px
    select_size: int  # long side at which the paintings are compared to pick the starting style
    reference_share: float  # fraction of the budget at which the reference training ends
    calibration_steps: int  # a short first chunk measures the speed of this machine
    min_steps: int  # each training (each stage of the lite network too) runs at least this many steps
    max_steps: int | None = None  # a cap per training (tests); None: the budget decides
    preview_seconds: float = 60.0  # how often the preview image is refreshed
    # Checkpoints every N steps: where a chunk that runs out of time can stop (and a hard kill resumes).
    save_every: int = 5
    lite_save_every: int = 25
    lite_calibration_steps: int = 20  # lite steps are cheap and noisy to time: calibrate on more of them
    # The painting's losses (VGG19 content and Gram style), in the reference training and in the lite
    # network's second stage alike (TrainConfig's defaults).
    content_weight: float = 1.0
    style_weight: float = 3e5
    # The lite network learns in two stages (issue 15: pixel distillation alone averages the brush
    # texture away, style loss +366 % vs its teacher): first L1 to the teacher's cached outputs
    # (cheap), then, from that checkpoint, the painting's losses plus the pixel term (VGG19 again,
    # ~1 s a step on a 2-core CPU). The first stage gets this share of the lite network's time.
    lite_pixel_share: float = 0.35
    lite_style_batch: int = 4
    lite_style_learning_rate: float = 5e-4
    lite_style_pixel_weight: float = 1200.0  # how closely the second stage follows the teacher
    # The lite network's batch-norm statistics are recomputed at this long side when each of its
    # stages completes (--calibrate-norm): a 640x360 webcam frame, not the training crops
    # (measured: -14 to -23 points of style loss against the teacher for +2-5 of content loss).
    lite_norm_size: int = 640

    def __post_init__(self) -> None:
        if self.minutes <= 0:
            raise UsageError(f"--minutes must be positive, got {self.minutes:g}")
        if not 0 < self.reference_share < 1:
            raise UsageError(f"reference_share must be between 0 and 1, got {self.reference_share}")
        if not 0 < self.lite_pixel_share < 1:
            raise UsageError(f"lite_pixel_share must be between 0 and 1, got {self.lite_pixel_share}")


QUALITIES: dict[str, LearnSettings] = {
    # Sized for a 2-core laptop CPU: the reference network's steps (VGG19 forward and backward) cost
    # seconds each, so crops are small and batches of 2; the learning rates are those of a short
    # fine-tune with a decay at the end. The lite network learns from cached teacher outputs, then
    # from the painting's losses plus those outputs (the lite_style_* fields: batch 4, Adam 5e-4,
    # pixel weight 1200, as the shipped lite starry_night).
    "draft": LearnSettings(
        minutes=5, crop=96, batch=2, style_size=256, learning_rate=2e-3, lr_decay=0.3, lite_crop=128,
        lite_batch=8, lite_learning_rate=2e-3, lite_lr_decay=0.3, temporal_weight=0.0, photos=16, photo_side=320,
        select_size=192, reference_share=0.5, calibration_steps=3, min_steps=10, preview_seconds=30,
    ),
    "good": LearnSettings(
        minutes=15, crop=96, batch=2, style_size=256, learning_rate=2e-3, lr_decay=0.3, lite_crop=128,
        lite_batch=8, lite_learning_rate=2e-3, lite_lr_decay=0.3, temporal_weight=0.0, photos=24, photo_side=384,
        select_size=256, reference_share=0.5, calibration_steps=3, min_steps=20,
    ),
    "best": LearnSettings(
        minutes=45, crop=160, batch=4, style_size=384, learning_rate=1e-3, lr_decay=0.3, lite_crop=192,
        lite_batch=8, lite_learning_rate=2e-3, lite_lr_decay=0.3, temporal_weight=0.02, photos=48,
        photo_side=512, select_size=256, reference_share=0.5, calibration_steps=3, min_steps=40,
        preview_seconds=120,
    ),
    # Not offered in --help: tiny sizes and a few steps through the same code path (the tests, CI).
    "tiny": LearnSettings(
        minutes=2, crop=32, batch=2, style_size=64, learning_rate=1e-3, lr_decay=0.0, lite_crop=32, lite_batch=2,
        lite_learning_rate=1e-3, lite_lr_decay=0.0, temporal_weight=0.0, photos=6, photo_side=64, select_size=48,
        reference_share=0.5, calibration_steps=1, min_steps=2, max_steps=3, preview_seconds=0, save_every=0,
        lite_save_every=0, lite_calibration_steps=1, lite_style_batch=2, lite_norm_size=64,
    ),
}  # fmt: skip
QUALITY_CHOICES = ("draft", "good", "best")
DEFAULT_QUALITY = "good"


def quality_settings(quality: str, minutes: float | None = None) -> LearnSettings:
    """The preset ``quality`` (``draft``, ``good``, ``best``), with ``minutes`` as its budget if given."""
    if quality not in QUALITIES:
        raise UsageError(f"unknown --quality {quality!r}; choose one of: {', '.join(QUALITY_CHOICES)}")
    preset = QUALITIES[quality]
    return preset if minutes is None else replace(preset, minutes=minutes)


@dataclass(frozen=True)
class LearnRequest:
    """One ``stylecam learn`` job as the user asked for it."""

    painting: Path
    name: str | None = None  # default: from the painting's file name
    minutes: float | None = None  # default: the quality preset's
    quality: str | None = None  # None: the unfinished job's, else DEFAULT_QUALITY
    data: str | None = None  # a folder of photos, a video file or a camera index; None: the bundled photos
    out: Path | None = None  # the model folder root; None: the user model folder
    overwrite: bool = False
    allow_grey: bool = False
    license: str | None = None  # the painting's licence, recorded in the models
    device: str = "auto"
    progress: bool = True

    def __post_init__(self) -> None:
        if self.minutes is not None and not 0.5 <= self.minutes <= 24 * 60:
            raise UsageError(f"--minutes must be between 0.5 and 1440, got {self.minutes:g}")
        if self.quality is not None and self.quality not in QUALITIES:
            raise UsageError(f"unknown --quality {self.quality!r}; choose one of: {', '.join(QUALITY_CHOICES)}")

"""Training photos: a recursive image folder, random crop + flip, bad files skipped and counted.

Determinism: every sample's crop and flip come from its own generator seeded by
``(seed, epoch, index)``, handed over by :class:`ResumableSampler`. The batches therefore do not
depend on the number of DataLoader workers, and a resumed run sees exactly the batches an
uninterrupted one would have seen.

Samples are uint8 RGB ``(3, size, size)`` tensors: 4x less to copy to the GPU than float32. The
engine converts them to the networks' float 0-255 pixel contract on the device.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from stylecam.errors import InputError
from stylecam.images import IMAGE_SUFFIXES

log = logging.getLogger(__name__)

Sample = tuple[int, int]  # (index into the file list, epoch)


def list_images(root: Path) -> list[Path]:
    """All image files under ``root`` (recursive, links followed once), sorted for a stable order."""
    if not root.exists():
        raise InputError(f"data folder {root} does not exist; pass --data DIR with your training photos")
    if not root.is_dir():
        raise InputError(f"--data {root} is a file; pass the folder that holds the training photos")
    found: list[Path] = []
    seen: set[str] = set()
    for folder, subfolders, names in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:  # a link back up the tree: do not loop forever
            subfolders.clear()
            continue
        seen.add(real)
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        found += [Path(folder, n) for n in names if Path(n).suffix.lower() in IMAGE_SUFFIXES and not n.startswith(".")]
    if not found:
        raise InputError(
            f"data folder {root} holds no image files ({', '.join(IMAGE_SUFFIXES)}); "
            "point --data at a folder of photos (subfolders are searched too)"
        )
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def decode(path: Path) -> npt.NDArray[np.uint8] | None:
    """Decode a photo to 8-bit BGR (grayscale and 16-bit are converted); None if it cannot be read."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError:
        return None
    if data.size == 0:
        return None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return image if image is not None and image.size else None


def check_decodable(paths: Sequence[Path], root: Path) -> Path:
    """Return the first photo that decodes; InputError if none does (checked before training starts)."""
    for path in paths:
        if decode(path) is not None:
            return path
        log.warning("cannot decode %s; it will be skipped", path)
    raise InputError(
        f"none of the {len(paths)} image files in {root} can be decoded (corrupt or not images); check the data folder"
    )


def random_crop(bgr: npt.NDArray[np.uint8], size: int, rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    """A random ``size`` x ``size`` crop, flipped left-right half the time; small photos are enlarged first."""
    height, width = bgr.shape[:2]
    if min(height, width) < size:
        scale = size / min(height, width)
        new = (max(size, round(width * scale)), max(size, round(height * scale)))
        bgr = cv2.resize(bgr, new, interpolation=cv2.INTER_CUBIC)
        height, width = bgr.shape[:2]
    top = int(rng.integers(0, height - size + 1))
    left = int(rng.integers(0, width - size + 1))
    crop = bgr[top : top + size, left : left + size]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return crop


class PhotoFolder(Dataset):
    """Random crops of the photos in a list; an unreadable photo is replaced by the next readable one.

    Items are ``(uint8 RGB tensor (3, size, size), tuple of skipped paths)``. Skipped paths travel
    with the batch because workers are separate processes: the main process counts them.
    """

    def __init__(self, paths: Sequence[Path], size: int, seed: int) -> None:
        self.paths = [str(p) for p in paths]
        self.size = size
        self.seed = seed

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, sample: Sample) -> tuple[torch.Tensor, tuple[str, ...]]:
        index, epoch = sample
        rng = np.random.default_rng((self.seed, epoch, index))
        skipped: list[str] = []
        for attempt in range(len(self.paths)):
            path = self.paths[(index + attempt) % len(self.paths)]
            bgr = decode(Path(path))
            if bgr is not None:
                rgb = np.ascontiguousarray(random_crop(bgr, self.size, rng)[:, :, ::-1])
                return torch.from_numpy(rgb).permute(2, 0, 1), tuple(skipped)
            skipped.append(path)
        raise InputError(f"none of the {len(self.paths)} training photos can be decoded any more")


class PairedPhotoFolder(PhotoFolder):
    """Like :class:`PhotoFolder`, with the same crop of each photo's painted target (distillation).

    Items are ``(uint8 RGB tensor (6, size, size), skipped paths)``: the photo's channels, then the
    target's. A photo whose target is missing or unreadable is skipped like an unreadable photo.
    """

    def __init__(self, paths: Sequence[Path], targets: Sequence[Path], size: int, seed: int) -> None:
        super().__init__(paths, size, seed)
        if len(targets) != len(self.paths):
            raise ValueError("one target per photo")
        self.targets = [str(p) for p in targets]

    def _pair(self, position: int) -> npt.NDArray[np.uint8] | None:
        photo = decode(Path(self.paths[position]))
        target = decode(Path(self.targets[position])) if Path(self.targets[position]).is_file() else None
        if photo is None or target is None:
            return None
        if target.shape != photo.shape:  # a stale cache entry: the photo changed
            target = cv2.resize(target, (photo.shape[1], photo.shape[0]), interpolation=cv2.INTER_AREA)
        return np.concatenate([photo, target], axis=2)

    def __getitem__(self, sample: Sample) -> tuple[torch.Tensor, tuple[str, ...]]:
        index, epoch = sample
        rng = np.random.default_rng((self.seed, epoch, index))
        skipped: list[str] = []
        for attempt in range(len(self.paths)):
            position = (index + attempt) % len(self.paths)
            both = self._pair(position)
            if both is not None:
                crop = random_crop(both, self.size, rng)
                rgb = np.ascontiguousarray(np.concatenate([crop[:, :, 2::-1], crop[:, :, 5:2:-1]], axis=2))
                return torch.from_numpy(rgb).permute(2, 0, 1), tuple(skipped)
            skipped.append(self.paths[position])
        raise InputError(f"none of the {len(self.paths)} training photos and their teacher outputs can be decoded")


def collate(items: list[tuple[torch.Tensor, tuple[str, ...]]]) -> tuple[torch.Tensor, list[str]]:
    images = torch.stack([image for image, _ in items])
    skipped = [path for _, paths in items for path in paths]
    return images, skipped


class ResumableSampler(DistributedSampler):
    """DistributedSampler that yields ``(index, epoch)`` and can start part-way into an epoch.

    One process is the ``num_replicas=1`` case. The shuffle of epoch ``e`` depends only on
    ``(seed, e)``, so skipping the samples already trained on resumes the exact sequence.
    """

    def __init__(self, dataset: Dataset, *, num_replicas: int, rank: int, seed: int) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=True, seed=seed, drop_last=False)
        self.skip = 0

    def __iter__(self) -> Iterator[Sample]:  # type: ignore[override]
        for position, index in enumerate(super().__iter__()):
            if position >= self.skip:
                yield index, self.epoch

    def __len__(self) -> int:
        return self.num_samples - self.skip


def _worker_init(_worker_id: int) -> None:
    # Ctrl-C is the main process's job (it finishes the step and saves); a worker that died on
    # SIGINT would turn that into a "worker exited unexpectedly" crash.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    cv2.setNumThreads(1)  # workers already run in parallel; nested OpenCV threads only contend


def build_loader(
    dataset: PhotoFolder, sampler: ResumableSampler, *, batch_size: int, workers: int, pin_memory: bool
) -> DataLoader:
    """A DataLoader over ``sampler`` with full batches only (every step sees ``batch_size`` crops)."""
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=workers,
        collate_fn=collate,
        pin_memory=pin_memory,
        drop_last=True,
        persistent_workers=workers > 0,
        prefetch_factor=4 if workers > 0 else None,
        worker_init_fn=_worker_init if workers > 0 else None,
        # Fresh worker processes: a fork inherits OpenCV's and OpenMP's thread pools without their
        # threads and can hang on first use (seen here: cv2 in a forked worker after the parent
        # ran threaded cv2 calls). Spawn costs one import of torch per worker, once per run.
        multiprocessing_context="spawn" if workers > 0 else None,
    )


def steps_per_epoch(sampler: ResumableSampler, batch_size: int) -> int:
    return sampler.num_samples // batch_size


def iterate_batches(
    loader: DataLoader, sampler: ResumableSampler, *, start_step: int, batch_size: int
) -> Iterator[tuple[torch.Tensor, list[str]]]:
    """Endless stream of batches, starting at optimiser step ``start_step`` of the epoch sequence."""
    per_epoch = steps_per_epoch(sampler, batch_size)
    epoch, offset = divmod(start_step, per_epoch)
    while True:
        sampler.set_epoch(epoch)
        sampler.skip = offset * batch_size
        yield from loader
        epoch, offset = epoch + 1, 0

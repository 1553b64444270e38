"""Photo listing, crops, bad-file skipping and the resumable, worker-independent sample order."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stylecam.errors import InputError  # noqa: E402
from stylecam.train.data import (  # noqa: E402
    PhotoFolder,
    ResumableSampler,
    build_loader,
    check_decodable,
    iterate_batches,
    list_images,
    random_crop,
)

from .conftest import write_photos  # noqa: E402


def test_listing_is_recursive_sorted_and_filtered(tmp_path: Path) -> None:
    photos = write_photos(tmp_path, 4)
    (tmp_path / "notes.txt").write_text("not a photo")
    (tmp_path / ".hidden.jpg").write_bytes(b"x")
    (tmp_path / "UPPER.JPG").write_bytes(photos[0].read_bytes())
    listed = list_images(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in listed] == [
        "UPPER.JPG", "photo00.jpg", "photo02.jpg", "sub/photo01.jpg", "sub/photo03.jpg",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing", "does not exist"),
        (lambda p: (p / "f.jpg").write_bytes(b"x") and p / "f.jpg", "is a file"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "holds no image files"),
    ],
)
def test_listing_errors(tmp_path: Path, make, message: str) -> None:
    with pytest.raises(InputError, match=message):
        list_images(make(tmp_path))


def test_folder_of_undecodable_files_is_refused_before_training(tmp_path: Path) -> None:
    for name in ("a.jpg", "b.png"):
        (tmp_path / name).write_bytes(b"\xff\xd8 truncated")
    with pytest.raises(InputError, match="none of the 2 image files"):
        check_decodable(list_images(tmp_path), tmp_path)


@pytest.mark.parametrize(("height", "width"), [(72, 88), (40, 30), (64, 64)])
def test_random_crop_is_square_and_enlarges_small_photos(height: int, width: int) -> None:
    bgr = np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8)
    crop = random_crop(bgr, 64, np.random.default_rng(1))
    assert crop.shape == (64, 64, 3)


def test_bad_photo_is_replaced_and_reported(tmp_path: Path) -> None:
    paths = write_photos(tmp_path, 3)
    paths[1].write_bytes(b"garbage")
    dataset = PhotoFolder(paths, 32, seed=0)
    image, skipped = dataset[(1, 0)]
    assert image.shape == (3, 32, 32) and image.dtype == torch.uint8
    assert skipped == (str(paths[1]),)
    assert dataset[(0, 0)][1] == ()


def test_crops_depend_on_seed_epoch_and_index_only() -> None:
    rng_a = np.random.default_rng((0, 3, 5))
    rng_b = np.random.default_rng((0, 3, 5))
    bgr = np.random.default_rng(9).integers(0, 255, (90, 120, 3), dtype=np.uint8)
    assert np.array_equal(random_crop(bgr, 32, rng_a), random_crop(bgr, 32, rng_b))
    crops = {random_crop(bgr, 32, np.random.default_rng((0, epoch, 5))).tobytes() for epoch in range(6)}
    assert len(crops) > 1  # a new epoch gives a new crop of the same photo


def test_sampler_resumes_mid_epoch_and_splits_between_ranks(tmp_path: Path) -> None:
    dataset = PhotoFolder(write_photos(tmp_path, 7), 32, seed=0)
    whole = ResumableSampler(dataset, num_replicas=1, rank=0, seed=4)
    whole.set_epoch(2)
    full = list(whole)
    assert sorted(i for i, _ in full) == list(range(7)) and {e for _, e in full} == {2}
    whole.skip = 3
    assert list(whole) == full[3:] and len(whole) == 4
    ranks = [ResumableSampler(dataset, num_replicas=2, rank=r, seed=4) for r in (0, 1)]
    shares = [list(s) for s in ranks]
    assert len(shares[0]) == len(shares[1]) == 4  # 7 padded to 8
    assert {i for share in shares for i, _ in share} == set(range(7))


def _stream(dataset: PhotoFolder, start: int, workers: int, count: int) -> list[torch.Tensor]:
    sampler = ResumableSampler(dataset, num_replicas=1, rank=0, seed=1)
    loader = build_loader(dataset, sampler, batch_size=2, workers=workers, pin_memory=False)
    batches = iterate_batches(loader, sampler, start_step=start, batch_size=2)
    return [images for images, _ in itertools.islice(batches, count)]


def test_batch_stream_is_resumable_and_independent_of_workers(tmp_path: Path) -> None:
    dataset = PhotoFolder(write_photos(tmp_path, 5), 32, seed=3)
    # 5 photos, batch 2: two steps per epoch; 5 steps cross two epoch boundaries.
    straight = _stream(dataset, 0, 0, 5)
    resumed = _stream(dataset, 3, 1, 2)
    assert all(torch.equal(a, b) for a, b in zip(straight[3:], resumed))
    assert not torch.equal(straight[0], straight[2])  # epochs differ in order and crops

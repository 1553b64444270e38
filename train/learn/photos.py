"""Training photos of a learn job, copied into the job's folder once (so a resumed job sees the same).

Where they come from (``--data``):

* nothing: what ships with stylecam, all CC0: the two bundled photos, crops of them at several
  scales, and frames of the bundled demo clip (slow pans and zooms over those photos);
* a folder: up to ``count`` of its photos, evenly spread over the sorted list;
* a video file: ``count`` frames evenly spread over the clip;
* a camera index (or /dev/videoN): ``count`` frames a quarter of a second apart: a model tuned to
  the scene it will paint.

Every image is shrunk to ``side`` px on its long side; when there are fewer than a step needs,
random crops of them fill up. Nothing is downloaded.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

import stylecam
from stylecam.errors import InputError, OutputError
from stylecam.images import IMAGE_SUFFIXES, read_image
from stylecam.runtime.media.sources import classify_source, fit_within

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
ASSETS = Path(stylecam.__file__).resolve().parent / "assets"
BUNDLED_PHOTOS = tuple(sorted((ASSETS / "photos").glob("*.jpg")))
DEMO_CLIP = ASSETS / "demo" / "demo_clip.mp4"
CAMERA_INTERVAL_S = 0.25
# Crops of each bundled photo: (share of the short side, centre x, centre y) as fractions.
BUNDLED_CROPS = ((0.7, 0.3, 0.4), (0.5, 0.7, 0.6), (0.45, 0.5, 0.3))


@dataclass(frozen=True)
class PhotoSet:
    """What was prepared: how many images, and from what (for the model card)."""

    count: int
    description: str


def data_kind(spec: str | None) -> str:
    """``bundled``, ``folder``, ``image``, ``video`` or ``camera``; InputError for a path that is not there."""
    if spec is None:
        return "bundled"
    kind = classify_source(spec)
    if kind == "camera":
        return "camera"
    path = Path(spec).expanduser()
    if not path.exists():
        raise InputError(f"--data {spec} does not exist; give a folder of photos, a video file or a camera index")
    if path.is_dir():
        return "folder"
    return "image" if path.suffix.lower() in IMAGE_SUFFIXES else "video"


def _crop(image: Image, share: float, cx: float, cy: float) -> Image:
    height, width = image.shape[:2]
    side = max(8, round(min(height, width) * share))
    left = min(max(0, round(cx * width - side / 2)), width - side)
    top = min(max(0, round(cy * height - side / 2)), height - side)
    return image[top : top + side, left : left + side]


def _bundled(count: int, side: int) -> Iterator[Image]:
    photos = [read_image(path).bgr for path in BUNDLED_PHOTOS]
    for photo in photos:
        yield photo
        for share, cx, cy in BUNDLED_CROPS:
            yield _crop(photo, share, cx, cy)
    yield from _video(DEMO_CLIP, max(0, count - len(photos) * (1 + len(BUNDLED_CROPS))), side)


def _folder(root: Path, count: int) -> Iterator[Image]:
    from stylecam.train.data import decode, list_images

    paths = list_images(root)
    picks = sorted({round(i) for i in np.linspace(0, len(paths) - 1, min(count, len(paths)))})
    for index in picks:
        image = decode(paths[index])
        if image is None:
            log.warning("skipping %s: it cannot be decoded", paths[index])
            continue
        yield image


def _video(path: Path, count: int, side: int) -> Iterator[Image]:
    from stylecam.runtime.media.video_file import VideoFileSource

    if count <= 0:
        return
    source = VideoFileSource(path, max_size=max(side, 64))
    stride = max(1, (source.info.frame_count or count * 15) // count)
    taken = 0
    frames = iter(source)
    try:
        for frame in frames:
            if frame.index % stride == 0:
                yield frame.image
                taken += 1
                if taken == count:
                    break
    finally:
        close = getattr(frames, "close", None)
        if close is not None:
            close()
        source.close()


def _camera(spec: str, count: int, side: int) -> Iterator[Image]:
    from stylecam.runtime.media.webcam import WebcamSource

    device: int | str = int(spec) if spec.strip().isdigit() else spec.strip()
    log.info("capturing %d frames from camera %s: move it slowly around the scene it will paint", count, device)
    with WebcamSource(device, max_size=side) as camera:
        frames = iter(camera)
        for _ in range(count):
            yield next(frames).image
            time.sleep(CAMERA_INTERVAL_S)


def _images(kind: str, spec: str | None, count: int, side: int) -> Iterator[Image]:
    if kind == "bundled":
        return _bundled(count, side)
    assert spec is not None
    if kind == "folder":
        return _folder(Path(spec).expanduser(), count)
    if kind == "image":
        return iter([read_image(spec, what="--data image").bgr])
    if kind == "video":
        return _video(Path(spec).expanduser(), count, side)
    return _camera(spec, count, side)


def _fill_with_crops(images: list[Image], needed: int, seed: int = 0) -> list[Image]:
    """Random crops (45-80 % of the short side) of the images, until there are ``needed``."""
    rng = np.random.default_rng(seed)
    filled = list(images)
    while len(filled) < needed:
        source = images[len(filled) % len(images)]
        filled.append(_crop(source, float(rng.uniform(0.45, 0.8)), float(rng.random()), float(rng.random())))
    return filled


def _describe(kind: str, spec: str | None, count: int) -> str:
    if kind == "bundled":
        return f"{count} images from stylecam's CC0 photos and demo clip (crops and frames)"
    return {"folder": "photos of", "image": "crops of", "video": "frames of", "camera": "frames of camera"}[
        kind
    ] + f" {spec} ({count} images)"


def prepare_photos(spec: str | None, target: Path, *, count: int, side: int, at_least: int) -> PhotoSet:
    """Write the training images into ``target`` (replaced as a whole); InputError when there are none."""
    kind = data_kind(spec)
    images = [fit_within(image, side) for image in _images(kind, spec, count, side)][:count]
    if not images:
        raise InputError(f"--data {spec} gave no readable images; check it holds photos or plays as a video")
    images = _fill_with_crops(images, at_least)
    scratch = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    for index, image in enumerate(images):
        side_px = min(image.shape[:2])
        if side_px < 16:
            continue
        if not cv2.imwrite(str(scratch / f"{index:04d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 95]):
            raise OutputError(f"cannot write training photos into {scratch}; is the disk full?")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(scratch, target)
    log.info("training photos: %s", _describe(kind, spec, len(images)))
    return PhotoSet(count=len(images), description=_describe(kind, spec, len(images)))

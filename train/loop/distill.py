"""Distillation: a teacher network's outputs, computed once per photo and kept on disk.

On this CPU a step of the lite network against the VGG19 perceptual loss takes ~1.3 s; against a
cached target the student's own step takes a few tens of milliseconds. So the teacher (a
checkpoint, run with torch, or a stylecam ``.onnx``, run with ONNX Runtime) paints every training
photo once, at the photo's full size, into ``<cache>/<teacher sha256[:16]>/``; training then takes
the same random crop of the photo and of its painted version. The teacher sees whole photos, as a
network does at run time, so its instance-norm statistics are those of real use. Existing files
are reused, so an interrupted cache build resumes, and every run with the same teacher shares it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import torch
from tqdm import tqdm

from stylecam.atomic import atomic_output
from stylecam.errors import InputError, UsageError
from stylecam.train.data import decode

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
TEACHER_SUFFIXES = (".pt", ".pth", ".onnx")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_teacher(path: Path) -> str:
    """The teacher file's sha256, after checking it is a file of a kind we can run."""
    if not path.is_file():
        raise InputError(f"--teacher {path} does not exist; pass a trained checkpoint (.pt) or a stylecam .onnx")
    if path.suffix.lower() not in TEACHER_SUFFIXES:
        raise UsageError(f"--teacher {path}: expected a checkpoint (.pt) or an exported model (.onnx)")
    return file_sha256(path)


def _torch_teacher(path: Path, device: torch.device) -> Callable[[Image], Image]:
    from stylecam.train.loop.checkpoint import load_model

    model, _ = load_model(path)
    model = model.to(device).eval()

    @torch.no_grad()
    def paint(bgr: Image) -> Image:
        rgb = torch.from_numpy(np.ascontiguousarray(bgr[:, :, ::-1])).permute(2, 0, 1).unsqueeze(0)
        out = model(rgb.to(device).float()).clamp(0, 255).round().byte()[0].permute(1, 2, 0).cpu().numpy()
        return np.ascontiguousarray(out[: bgr.shape[0], : bgr.shape[1], ::-1])

    return paint


def _onnx_teacher(path: Path) -> Callable[[Image], Image]:
    from stylecam.runtime.config import RuntimeConfig
    from stylecam.runtime.inference.stylizer import Stylizer

    return Stylizer(path, RuntimeConfig(provider="auto"))


def load_teacher(path: Path, device: torch.device) -> Callable[[Image], Image]:
    """A callable BGR uint8 frame -> the teacher's painting of it (same size)."""
    if path.suffix.lower() == ".onnx":
        return _onnx_teacher(path)
    return _torch_teacher(path, device)


def cache_folder(root: Path, teacher_sha256: str) -> Path:
    return root / teacher_sha256[:16]


def target_paths(photos: Sequence[Path], folder: Path) -> list[Path]:
    """Where each photo's painted version lives: named by a hash of the photo's real path, so runs
    over other folders (subsets, links) of the same photos share the cache."""
    return [folder / f"{hashlib.sha1(str(Path(photo).resolve()).encode()).hexdigest()[:20]}.png" for photo in photos]


def build_cache(
    teacher: Path,
    photos: Sequence[Path],
    folder: Path,
    *,
    device: torch.device,
    progress: bool = True,
) -> list[Path]:
    """Paint every photo that has no cached target yet; return the target path of every photo.

    A photo that cannot be decoded gets no target; the training data skips it like any unreadable photo.
    """
    folder.mkdir(parents=True, exist_ok=True)
    targets = target_paths(photos, folder)
    missing = [(photo, target) for photo, target in zip(photos, targets) if not target.is_file()]
    if missing:
        log.info("teacher %s paints %d of %d photos into %s", teacher.name, len(missing), len(photos), folder)
        paint = load_teacher(teacher, device)
        for photo, target in tqdm(missing, desc="teacher", unit="photo", disable=not progress, dynamic_ncols=True):
            bgr = decode(photo)
            if bgr is None:
                continue
            painted = paint(bgr)
            if painted.shape != bgr.shape:
                raise UsageError(
                    f"--teacher {teacher} returned {painted.shape[1]}x{painted.shape[0]} for a "
                    f"{bgr.shape[1]}x{bgr.shape[0]} photo; a style network keeps the size"
                )
            with atomic_output(target) as tmp:
                if not cv2.imwrite(str(tmp), painted, [cv2.IMWRITE_PNG_COMPRESSION, 1]):
                    raise InputError(
                        f"cannot write the teacher's output to {target}; check the disk and --teacher-cache"
                    )
    return targets

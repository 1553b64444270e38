"""Planning ``stylecam image``: which files go where, checked before any model loads.

Inputs are files, folders (their images, not subfolders) or quoted glob patterns. One input file
goes to one output file; several inputs, or a folder, go into an output folder (created if its
parent exists) under their own names. Without ``-o``, single files get ``photo.<style>.png``
beside them and a folder ``photos/`` gets a new folder ``photos.<style>/`` beside it (never
inside it, so a second run does not stylize the first run's results).

Problems with the *outputs* (an existing file without overwrite, a target that is an input, two
inputs with the same name) stop the command before any work. Problems with an *input* (missing,
not an image) are recorded per file; the other files still run.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from stylecam.atomic import check_output_path
from stylecam.errors import InputError, OutputError, StylecamError, UsageError
from stylecam.images import IMAGE_SUFFIXES, check_image_suffix
from stylecam.paths import check_input_file
from stylecam.runtime.media.sequence import is_sequence, sequence_files
from stylecam.runtime.pipeline.plan import default_output, refuse_existing

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImageJob:
    """One image to stylize and where its result goes."""

    source: Path
    target: Path


@dataclass
class ImageBatch:
    """The jobs of one ``stylecam image`` run, the inputs refused up front, and the output folder."""

    jobs: list[ImageJob] = field(default_factory=list)
    refused: list[tuple[str, StylecamError]] = field(default_factory=list)
    folder: Path | None = None  # the output folder, when the results go into one


def _expand(spec: str) -> tuple[list[Path], bool]:
    """The image files an input names, and whether it named a group (folder or pattern)."""
    if is_sequence(spec):
        return sequence_files(spec), True
    path = check_input_file(spec, what="image")
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise InputError(f"{spec} is not an image file name; stylecam image reads {', '.join(IMAGE_SUFFIXES)}")
    return [path], False


def _output_folder(output: str | None, groups: list[str], style: str) -> Path | None:
    if output is None:
        if len(groups) != 1:
            return None  # loose files: each result beside its source
        group = Path(groups[0]).expanduser()
        base = group if group.is_dir() else group.parent
        return _unused_folder(base.resolve().parent / f"{base.resolve().name}.{style}")
    folder = Path(output).expanduser()
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"-o {output} is a file, but several images need a folder; give a folder name")
    if not folder.exists() and folder.suffix.lower() in IMAGE_SUFFIXES:
        raise UsageError(f"-o {output} looks like an image file, but several images need a folder; give a folder name")
    if not folder.parent.is_dir():
        raise OutputError(f"output folder {folder.parent} does not exist; create it first (mkdir -p {folder.parent})")
    return folder


def _unused_folder(path: Path) -> Path:
    """``photos.starry``, or ``photos.starry-1``, ``-2``, ...: the first name not taken (a dot is no suffix here)."""
    candidate, number = path, 0
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.name}-{number}")
    return candidate


def plan_images(specs: list[str], output: str | None, *, style: str, model: Path, overwrite: bool) -> ImageBatch:
    """Decide the target of every input image (see the module doc); raises before any work on output problems."""
    batch = ImageBatch()
    sources: list[Path] = []
    groups: list[str] = []
    for spec in specs:
        try:
            files, group = _expand(spec)
        except StylecamError as exc:
            batch.refused.append((spec, exc))
            continue
        sources += files
        groups += [spec] if group else []
    if not sources:
        return batch
    single = len(specs) == 1 and not groups
    if single and (output is None or not _names_folder(output)):
        batch.jobs = [ImageJob(sources[0], _single_target(sources[0], output, style, model, overwrite))]
        return batch
    batch.folder = _output_folder(output, groups, style) if groups or output is not None else None
    _refuse_same_names(sources, batch.folder)
    for source in sources:
        if batch.folder is None:
            target = default_output(source, style, "image")
        elif batch.folder.is_dir():
            checked = check_output_path(batch.folder / source.name, inputs=[model, source])  # never an input
            target = refuse_existing(checked, overwrite=overwrite)
        else:
            target = batch.folder / source.name  # a folder still to be made: nothing there yet
        batch.jobs.append(ImageJob(source, target))
    return batch


def _names_folder(output: str) -> bool:
    return Path(output).expanduser().is_dir() or output.endswith(("/", os.sep))


def _single_target(source: Path, output: str | None, style: str, model: Path, overwrite: bool) -> Path:
    if output is None:
        return check_output_path(default_output(source, style, "image"), inputs=[model, source])
    check_image_suffix(output)
    target = check_output_path(output, inputs=[model, source])
    return refuse_existing(target, overwrite=overwrite, shown=output)


def _refuse_same_names(sources: list[Path], folder: Path | None) -> None:
    if folder is None:
        return
    seen: dict[str, Path] = {}
    for source in sources:
        other = seen.setdefault(source.name, source)
        if other != source:
            raise UsageError(
                f"{other} and {source} would both be written as {folder / source.name}; "
                "stylize them in separate runs or rename one"
            )


def prepare_targets(batch: ImageBatch, model: Path) -> None:
    """Create the output folder, then check it is writable and no target is an input, before any work."""
    if batch.folder is not None:
        batch.folder.mkdir(exist_ok=True)
    checked: set[Path] = set()
    for job in batch.jobs:
        if job.target.parent not in checked or batch.folder is None:
            check_output_path(job.target, inputs=[model, job.source])  # creates a test file: once per folder
            checked.add(job.target.parent)

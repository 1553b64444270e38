"""Deciding what a ``stylecam run`` writes, before anything is opened or loaded.

Every check that can fail fast lives here: the output type against the source type, the output
path (missing folder, not writable, same as an input), a window on a headless machine, and the
memory the frame buffers will need. Nothing here touches a camera, a decoder or a model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from stylecam.atomic import check_output_path
from stylecam.errors import OutputError, UsageError
from stylecam.images import IMAGE_SUFFIXES, check_image_suffix
from stylecam.runtime.inference.memory import available_memory_bytes
from stylecam.runtime.media.encoders import VIDEO_SUFFIXES, muxer_for
from stylecam.runtime.media.sources import SourceKind, classify_source
from stylecam.runtime.pipeline.sinks import display_problem

log = logging.getLogger(__name__)

OutputKind = Literal["video", "image", "window", "none"]
QUEUE_BUDGET_BYTES = 256 * 2**20  # frames buffered between the threads, per side
MAX_QUEUE = 8


@dataclass(frozen=True)
class OutputPlan:
    """Where results go: a video or image file, a window, or nowhere (throughput runs).

    ``preview``: a video file that is also shown in a window while it records (``stylecam live -o``).
    """

    kind: OutputKind
    path: Path | None
    max_frames: int | None
    chosen_by_default: bool = False
    preview: bool = False


def _suffix_kind(path: Path) -> OutputKind:
    suffix = path.suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        muxer_for(suffix)
        return "video"
    if suffix in IMAGE_SUFFIXES:
        check_image_suffix(path)
        return "image"
    raise UsageError(
        f"cannot tell what to write from {path.name!r}; end the output name with a video suffix "
        f"({', '.join(VIDEO_SUFFIXES)}) or an image suffix ({', '.join(IMAGE_SUFFIXES)})"
    )


def unused_path(path: Path) -> Path:
    """``path``, or ``name-1.ext``, ``name-2.ext``, ... : the first one that does not exist yet."""
    candidate, number = path, 0
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


def default_output(source: Path, style: str, kind: SourceKind) -> Path:
    """``clip.mp4`` stylized with ``starry.onnx`` -> ``clip.starry.mp4`` beside it (never overwriting).

    An image sequence (``frames/`` or ``frames/*.png``) gives ``frames.starry.mp4`` beside the
    folder, or inside it when the folder is the current one.
    """
    if kind == "sequence":
        folder = source if source.is_dir() else source.parent
        if folder.resolve() == Path.cwd().resolve():
            return unused_path(folder / f"{Path.cwd().name or 'frames'}.{style}.mp4")
        return unused_path(folder.parent / f"{folder.resolve().name}.{style}.mp4")
    suffix = source.suffix.lower() if kind == "image" else ".mp4"
    return unused_path(source.with_name(f"{source.stem}.{style}{suffix}"))


def refuse_existing(path: Path, *, overwrite: bool, shown: str | None = None) -> Path:
    """OutputError "out.mp4 exists; pass --overwrite to replace it" unless ``overwrite``; returns ``path``."""
    if path.exists() and not overwrite:
        raise OutputError(f"{shown or path} exists; pass --overwrite to replace it")
    return path


def plan_output(
    source: str,
    output: str | None,
    *,
    style: str,
    no_window: bool,
    max_frames: int | None,
    inputs: list[Path],
    overwrite: bool = False,
    preview: bool = False,
) -> OutputPlan:
    """Decide and check the output for ``source`` (see the module doc); errors name the fix.

    Args:
        overwrite: an explicit ``output`` that exists may be replaced (else OutputError, exit 4).
        preview: with no ``output``, show a window (or nothing with ``no_window``) for every kind
            of source, as ``stylecam live`` does, instead of writing a file beside a file source.
    """
    kind = classify_source(source)
    if output is not None:
        path = Path(output).expanduser()
        out_kind = _suffix_kind(path)
        if kind == "image" and out_kind == "video":
            raise UsageError(f"{source} is an image; write an image ({', '.join(IMAGE_SUFFIXES[:3])}, ...)")
        if out_kind == "image" and kind != "image" and max_frames is None:
            log.info("writing one stylized frame of %s to %s (use --frames N for the N-th)", source, path)
            max_frames = 1
        checked = check_output_path(path, inputs=inputs)  # "is the input file" before "exists"
        checked = refuse_existing(checked, overwrite=overwrite, shown=output)
        watched = preview and not no_window and out_kind == "video"
        if watched:
            _check_display("add --no-window to record without a window")
        return OutputPlan(out_kind, checked, max_frames, preview=watched)
    if kind in ("camera", "stream") or preview:
        if no_window:
            log.info("no --output and --no-window: frames are stylized and dropped (a throughput run)")
            return OutputPlan("none", None, max_frames)
        _check_display("write a file with --output out.mp4, or add --no-window")
        return OutputPlan("window", None, max_frames)
    path = default_output(Path(source).expanduser(), style, kind)
    log.info("no --output given: writing %s", path)
    checked = check_output_path(path, inputs=inputs)
    return OutputPlan("image" if kind == "image" else "video", checked, max_frames, chosen_by_default=True)


def _check_display(fix: str) -> None:
    problem = display_problem()
    if problem is not None:
        raise UsageError(f"{problem}; {fix}")


def queue_size_for(width: int, height: int) -> int:
    """Frames to buffer per side: 8 for ordinary sizes, fewer for huge frames (8K: 2)."""
    frame_bytes = max(1, width * height * 3)
    return max(2, min(MAX_QUEUE, QUEUE_BUDGET_BYTES // frame_bytes))


def check_buffer_memory(width: int, height: int, queue_size: int, *, available: int | None = None) -> None:
    """UsageError when the pipeline's frame buffers alone would not fit in free memory."""
    free = available_memory_bytes() if available is None else available
    if free is None:
        return
    # two queues of source + stylized frames, plus the frames in flight on each thread
    needed = width * height * 3 * (2 * queue_size + 6)
    if needed > 0.5 * free:
        raise UsageError(
            f"frames of {width}x{height} need about {needed / 1e9:.1f} GB of buffers but only {free / 1e9:.1f} GB "
            "is free; shrink them with --max-size 3840 (or smaller), or free memory"
        )

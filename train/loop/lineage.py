"""Where a network's weights came from: the earlier training runs behind an ``--init`` chain.

A network fine-tuned with ``--init`` inherits everything the earlier runs taught it, so its model
card must show their schedules too (a lite network is distilled in two stages, the first of them
started from another style's lite network). Each checkpoint written by ``stylecam train --init``
carries, under ``init["stages"]``, the runs before it, oldest first: for each, what
:func:`~stylecam.export.bundle.record.train_command` needs to rebuild its command line (train
config, style, data, init, teacher) plus its step count, images seen and wall time.

Checkpoints written before this existed carry no stages; :func:`stages_before` then follows the
``--init`` paths they recorded, as long as those files are still on disk.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MAX_STAGES = 8  # a longer chain is cut: its oldest runs become one "unrecorded" stage
STAGE_KEYS = ("arch", "train_config", "style", "data", "teacher", "step", "images_seen", "origin")


def tensorboard_wall_time(log_dir: Path, final_step: int) -> float | None:
    """Seconds of training recorded in the TensorBoard files of ``log_dir`` (None when they do not cover it).

    Each event file is one process (a resume starts another); its span is last minus first event
    time. The files must reach ``final_step``, or they belong to another run and say nothing.
    """
    try:
        from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    except ImportError:
        return None
    files = sorted(log_dir.glob("events.out.tfevents.*")) if log_dir.is_dir() else []
    total, last_step = 0.0, -1
    for file in files:
        times, steps = [], []
        for event in EventFileLoader(str(file)).Load():
            times.append(event.wall_time)
            steps.append(event.step)
        if times:
            total += max(times) - min(times)
            last_step = max(last_step, *steps)
    if last_step != final_step:
        log.info("%s does not cover step %d (reaches %d): wall time not recorded", log_dir, final_step, last_step)
        return None
    return round(total, 1)


def _unrecorded(checkpoint: str) -> dict[str, Any]:
    return {"checkpoint": checkpoint, "unrecorded": True}


def _cut(stages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """At most MAX_STAGES stages: the oldest ones dropped, the newest of them kept as a name only."""
    if len(stages) <= MAX_STAGES:
        return stages
    dropped = stages[-MAX_STAGES]
    return [_unrecorded(str(dropped.get("checkpoint") or "?")), *stages[-MAX_STAGES + 1 :]]


def _stage(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    """One run as a stage: its settings, how far it went and how long it took."""
    stage = {key: data.get(key) for key in STAGE_KEYS}
    init = data.get("init") or {}
    stage["checkpoint"] = str(path)
    stage["init"] = {"checkpoint": init.get("checkpoint"), "style": init.get("style")} if init else None
    stage["wall_seconds"] = tensorboard_wall_time(path.with_name(f"{path.stem}_logs"), int(data.get("step") or 0))
    return stage


def stages_before(data: dict[str, Any], *, depth: int = MAX_STAGES) -> list[dict[str, Any]]:
    """The runs behind checkpoint ``data``'s ``--init``, oldest first (empty: trained from scratch).

    Uses the stages the checkpoint recorded; for an older checkpoint without them, reads the
    ``--init`` checkpoint it names if that file still exists (and so on up the chain). A run whose
    file is gone ends the chain there, with a stage that says only its name.
    """
    from stylecam.errors import StylecamError
    from stylecam.train.loop.checkpoint import load_checkpoint

    init = data.get("init") or {}
    if not init.get("checkpoint"):
        return []
    if "stages" in init:
        return list(init["stages"] or [])
    path = Path(str(init["checkpoint"]))
    if depth <= 0:
        return [_unrecorded(str(path))]
    try:
        earlier = load_checkpoint(path)
    except (StylecamError, OSError) as exc:
        log.info("the --init checkpoint %s is not readable (%s): its schedule is not recorded", path, exc)
        return [_unrecorded(str(path))]
    return _cut([*stages_before(earlier, depth=depth - 1), _stage(path, earlier)])


def init_record(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    """What a run started with ``--init path`` records about it: the file, its style and its stages."""
    stages = _cut([*stages_before(data), _stage(path, data)])
    return {"checkpoint": str(path), "style": (data.get("style") or {}).get("name"), "stages": stages}

"""The folder of a learned style, its name, and the state that lets an interrupted job resume.

Layout, under the user model folder (``--out``, ``$STYLECAM_MODELS``, else the XDG data folder)::

    NAME/
      catalog.json                 the same schema as the bundled catalog: ``--model NAME`` finds it
      NAME.onnx, NAME.parity.json  reference network and its parity report
      NAME.lite.onnx, NAME.lite.parity.json
      NAME.md, NAME.jpg            model card; thumbnail (painting | a stylized photo)
      NAME.preview.jpg             refreshed while the job trains
      .learn/                      while unfinished: state.json, the painting, photos, checkpoints

A folder with ``.learn/state.json`` is an unfinished job: running it again resumes. The state is
plain JSON written atomically. Torch-free.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stylecam.atomic import atomic_output
from stylecam.errors import OutputError, UsageError
from stylecam.runtime.inference.models import bundled_models, find_bundled, model_key

log = logging.getLogger(__name__)

STATE_SCHEMA = "stylecam-learn-state"
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_]{0,47}$")
NEEDED_BYTES = 300 * 2**20  # checkpoints with optimiser state, photos, teacher outputs, two models


@dataclass(frozen=True)
class Layout:
    """Every path of one learned style."""

    root: Path
    name: str

    @property
    def folder(self) -> Path:
        return self.root / self.name

    @property
    def work(self) -> Path:
        return self.folder / ".learn"

    @property
    def state_file(self) -> Path:
        return self.work / "state.json"

    @property
    def photos(self) -> Path:
        return self.work / "photos"

    @property
    def init(self) -> Path:
        return self.work / "init.pt"

    @property
    def lite_init(self) -> Path:
        """The starting style's bundled lite network, rebuilt: the pixel stage's ``--init`` (when it ships one)."""
        return self.work / "lite-init.pt"

    def checkpoint(self, phase: str) -> Path:
        """The checkpoint of one training (``reference``, ``lite-pixel``, ``lite-style``)."""
        return self.work / f"{phase}.pt"

    @property
    def teacher_cache(self) -> Path:
        return self.work / "teacher"

    def logs(self, phase: str) -> Path:
        return self.work / f"logs_{phase}"

    def model_file(self, arch: str) -> str:
        """``NAME.onnx`` for the reference network, ``NAME.lite.onnx`` for the lite one (as bundled)."""
        return f"{self.name}.onnx" if arch == "reference" else f"{self.name}.{arch}.onnx"

    @property
    def preview(self) -> Path:
        return self.folder / f"{self.name}.preview.jpg"


def style_name(painting: Path, name: str | None) -> str:
    """The style's name: ``--name`` or the painting's file name, as ``--model`` compares names."""
    text = model_key(name if name is not None else painting.stem)
    if name is None:
        text = re.sub(r"[^a-z0-9_]+", "_", text).strip("_")[:48] or "my_style"
        text = text if text[0].isalnum() else f"style_{text}"
    if not NAME_PATTERN.match(text):
        raise UsageError(
            f"--name {name!r} cannot name a style; use lower-case letters, digits and _ (at most 48), e.g. my_style"
        )
    return text


def refuse_bundled_name(name: str, *, explicit: bool) -> None:
    """A learned style may not take a bundled style's name or alias (``--model NAME`` must stay unambiguous)."""
    bundled = find_bundled(name, bundled_models())
    if bundled is None:
        return
    how = "--name" if explicit else "the painting's file name gives the name"
    raise UsageError(
        f"{name!r} is the bundled style {bundled.name} ({how}); choose another name with --name, e.g. --name my_{name}"
    )


def _existing_ancestor(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def check_root(root: Path) -> None:
    """The model folder root (or the nearest folder above it that exists) must be a writable folder with room."""
    base = _existing_ancestor(root)
    if not base.is_dir():
        raise OutputError(f"--out {root} cannot be created: {base} is a file; choose another folder")
    try:
        free = shutil.disk_usage(base).free
    except OSError as exc:
        raise OutputError(f"cannot use {root} ({exc.strerror}); choose another folder with --out") from exc
    if free < NEEDED_BYTES:
        raise OutputError(
            f"the disk of {root} is full ({free / 2**20:.0f} MB free; learning needs about "
            f"{NEEDED_BYTES / 2**20:.0f} MB); free some space or choose another folder with --out"
        )


def read_state(layout: Layout) -> dict[str, Any] | None:
    """The saved state of an unfinished job in this folder (None when there is none or it is unreadable)."""
    try:
        data = json.loads(layout.state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("schema") == STATE_SCHEMA else None


def write_state(layout: Layout, state: dict[str, Any]) -> None:
    with atomic_output(layout.state_file) as tmp:
        tmp.write_text(json.dumps({**state, "schema": STATE_SCHEMA}, indent=1, sort_keys=True), encoding="utf-8")


def existing_job(layout: Layout, painting_sha256: str, *, overwrite: bool) -> dict[str, Any] | None:
    """The state to resume, None to start afresh; OutputError when a model is in the way.

    An unfinished job of the same painting resumes; anything else in the folder (a finished model,
    an unfinished job of another painting, other files) is refused unless ``overwrite``.
    """
    folder = layout.folder
    if not folder.exists() or overwrite:
        return None
    if not folder.is_dir():
        raise OutputError(f"{folder} exists and is not a folder; remove it or choose another --name")
    state = read_state(layout)
    if state is not None and state.get("painting", {}).get("sha256") == painting_sha256:
        return state
    if state is not None:
        raise OutputError(
            f"an unfinished style named {layout.name!r} from another painting "
            f"({state.get('painting', {}).get('file', '?')}) is in {folder}; "
            "pass --overwrite to replace it, or choose another --name"
        )
    raise OutputError(f"a style named {layout.name!r} already exists in {folder}; pass --overwrite to replace it")


def remove_folder(folder: Path) -> None:
    """Delete a style's folder (an --overwrite, or what a failed fresh job created)."""
    if folder.is_dir():
        shutil.rmtree(folder)
    elif folder.exists():
        folder.unlink()

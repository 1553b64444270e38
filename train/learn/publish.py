"""Putting a learned network where ``--model NAME`` finds it: export, catalog, card, thumbnail.

Each network is exported by ``stylecam export``'s own path (:func:`stylecam.export.onnx.export_checkpoint`:
trace, ``onnx.checker``, the parity gate; nothing is written unless the gate passes) into the job's
work folder, then moved beside the catalog. The catalog (same schema as the bundled one) is
written last, so ``--model NAME`` never sees a file that is not complete. The export package is
imported lazily: training does not depend on it otherwise (``tests/test_layers.py``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from stylecam.atomic import atomic_output
from stylecam.images import read_image
from stylecam.runtime.inference.catalog import file_sha256
from stylecam.runtime.inference.models import CATALOG_SCHEMA, CATALOG_VERSION
from stylecam.sheets import grid, write_jpeg
from stylecam.train.learn.card import render_card
from stylecam.train.learn.photos import BUNDLED_PHOTOS
from stylecam.train.learn.store import Layout
from stylecam.train.loop.checkpoint import load_checkpoint

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
THUMB_HEIGHT = 144
ARCH_ORDER = ("reference", "lite")
# What the card shows of a network's training config.
CONFIG_KEYS = (
    "size", "batch_size", "learning_rate", "style_size", "lr_decay", "content_weight", "style_weight",
    "distill_pixel_weight", "temporal_weight", "calibrate_norm",
)  # fmt: skip


def _gate(report: Any) -> dict[str, Any]:
    low = {k: "inf" if v == float("inf") else round(v, 2) for k, v in report.min_psnr().items()}
    return {"passed": report.passed, "min_psnr_db": low, "providers": list(report.providers)}


def export_variant(
    layout: Layout, arch: str, *, checkpoint: Path, style_license: str, complete: bool
) -> dict[str, Any]:
    """Export ``checkpoint`` as the ``arch`` network through the parity gate into the style's folder; returns
    its catalog entry."""
    from stylecam.export.onnx import export_checkpoint

    data = load_checkpoint(checkpoint)
    scratch = layout.work / "export"
    scratch.mkdir(parents=True, exist_ok=True)
    file = layout.model_file(arch)
    result = export_checkpoint(checkpoint, scratch / file, style_license=style_license)
    assert result.report is not None and result.report_path is not None
    parity = result.report_path.name
    os.replace(result.report_path, layout.folder / parity)
    os.replace(result.path, layout.folder / file)
    config = data.get("train_config") or {}
    return {
        "file": file,
        "sha256": file_sha256(layout.folder / file),
        "precision": result.metadata.precision,
        "parity": parity,
        "size_bytes": (layout.folder / file).stat().st_size,
        "opset": result.metadata.opset,
        "gate": _gate(result.report),
        "step": int(data.get("step") or 0),
        "images_seen": int(data.get("images_seen") or 0),
        "complete": complete,
        "config": {key: config.get(key) for key in CONFIG_KEYS},
        "losses": {key: round(float(value), 3) for key, value in (data.get("losses") or {}).items()},
        "distilled": bool(config.get("teacher_sha256")),
    }


def read_entry(layout: Layout) -> dict[str, Any]:
    """The style's catalog entry so far ({} before the first export)."""
    try:
        data = json.loads((layout.folder / "catalog.json").read_text(encoding="utf-8"))
        return dict(data["models"][layout.name])
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def write_entry(layout: Layout, entry: dict[str, Any]) -> None:
    """Write ``catalog.json`` (this one style) and the model card from ``entry``."""
    variants = entry.get("variants") or {}
    entry = {**entry, "variants": {arch: variants[arch] for arch in ARCH_ORDER if arch in variants}}
    with atomic_output(layout.folder / entry["card"]) as tmp:
        tmp.write_text(render_card(layout.name, entry), encoding="utf-8")
    data = {"schema": CATALOG_SCHEMA, "version": CATALOG_VERSION, "models": {layout.name: entry}}
    with atomic_output(layout.folder / "catalog.json") as tmp:
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_thumbnail(target: Path, painting: Image, model: Path) -> None:
    """``painting | a bundled CC0 photo stylized by model`` as a small JPEG (what the card shows)."""
    from stylecam.runtime.config import RuntimeConfig
    from stylecam.runtime.inference.stylizer import Stylizer

    photo = read_image(BUNDLED_PHOTOS[0]).bgr
    with Stylizer(model, RuntimeConfig(provider="cpu", probe="never")) as stylizer:
        painted = stylizer(photo)
    write_jpeg(target, grid([[painting, painted]], height=THUMB_HEIGHT), quality=82)


def discard_work(layout: Layout) -> None:
    """Remove the job's work folder once the style is finished (checkpoints, photos, teacher outputs)."""
    shutil.rmtree(layout.work, ignore_errors=True)

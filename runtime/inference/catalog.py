"""What ``stylecam styles`` shows about each bundled model, and the check that the bundle is whole.

The bundle is ``stylecam/assets/models/``: per style an ``.onnx`` model, its parity report
(``.parity.json``), its model card (``.md``) and a thumbnail, all listed in ``catalog.json``.
:func:`catalog_problems` finds every way these can disagree (a model without an entry or card, a
stale sha256, a failed or foreign parity report, an alias two models claim, a style that is not a
bundled public-domain painting); CI runs it over the real folder. Torch-free.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stylecam.errors import StylecamError
from stylecam.onnxfile import load_onnx_safely, metadata_of
from stylecam.paintings import PAINTINGS
from stylecam.runtime.inference.models import (
    BundledModel,
    ModelVariant,
    bundled_models,
    model_key,
    models_dir,
    read_catalog,
)


@dataclass(frozen=True)
class StyleEntry:
    """One variant of a bundled style as listed by ``stylecam styles``."""

    model: BundledModel
    variant: ModelVariant
    size_bytes: int | None  # None: the file is missing
    precision: str
    parity_passed: bool | None  # None: no parity report shipped
    parity_min_db: dict[str, float]  # lowest PSNR per check of the gate (inf: identical outputs)

    @property
    def lowest_db(self) -> float | None:
        return min(self.parity_min_db.values()) if self.parity_min_db else None

    def to_dict(self) -> dict[str, Any]:
        model = self.model
        return {
            "name": model.name,
            "arch": self.variant.arch,
            "aliases": list(model.aliases),
            "title": model.title,
            "artist": model.artist,
            "year": model.year,
            "license": model.license,
            "file": str(self.variant.path),
            "size_bytes": self.size_bytes,
            "sha256": self.variant.sha256,
            "precision": self.precision,
            "parity_passed": self.parity_passed,
            "parity_min_psnr_db": {k: "inf" if math.isinf(v) else v for k, v in self.parity_min_db.items()},
            "card": str(model.card) if model.card else None,
        }


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_parity(path: Path | None) -> dict[str, Any] | None:
    """The parity report as a dict, or None when it is absent or unreadable."""
    if path is None or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _min_db(report: dict[str, Any]) -> dict[str, float]:
    lows = report.get("min_psnr_db")
    if not isinstance(lows, dict):
        return {}
    return {str(k): math.inf if v == "inf" else float(v) for k, v in lows.items() if isinstance(v, (int, float, str))}


def style_entries(folder: Path | None = None, *, arch: str | None = None) -> list[StyleEntry]:
    """Every variant of every bundled style (only ``arch`` ones if given), with size, precision and parity."""
    entries = []
    for model in bundled_models(folder):
        for variant in model.variants:
            if arch is not None and variant.arch != arch:
                continue
            report = read_parity(variant.parity)
            size = variant.path.stat().st_size if variant.path.is_file() else None
            precision = variant.precision or (str(report.get("precision", "")) if report else "")
            passed = bool(report.get("passed")) if report else None
            entries.append(StyleEntry(model, variant, size, precision, passed, _min_db(report) if report else {}))
    return entries


def _name_problems(models: list[BundledModel]) -> list[str]:
    owners: dict[str, str] = {}
    problems = []
    for model in models:
        for key in (model.name, *model.aliases):
            if key in owners and owners[key] != model.name:
                problems.append(f"{key!r} names both {owners[key]} and {model.name}")
            owners.setdefault(key, model.name)
    return problems


def _card_problems(model: BundledModel) -> list[str]:
    name = model.name
    if model.card is None or not model.card.is_file():
        return [f"{name}: no model card ({name}.md)"]
    text = model.card.read_text(encoding="utf-8")
    return [
        f"{name}: the model card {model.card.name} describes another {v.arch or 'model'} file (sha256 not in it)"
        for v in model.variants
        if v.sha256 and v.sha256 not in text
    ]


def _variant_problems(model: BundledModel, variant: ModelVariant) -> list[str]:
    name = f"{model.name} ({variant.arch})" if len(model.variants) > 1 else model.name
    if not variant.path.is_file():
        return [f"{name}: {variant.path.name} is listed in catalog.json but missing"]
    problems = []
    digest = file_sha256(variant.path)
    if variant.sha256 != digest:
        problems.append(f"{name}: catalog sha256 {variant.sha256[:12] or '(none)'} != file {digest[:12]}")
    report = read_parity(variant.parity)
    if report is None:
        problems.append(f"{name}: no readable parity report ({variant.path.stem}.parity.json)")
    elif report.get("sha256") != digest or report.get("passed") is not True:
        problems.append(f"{name}: the parity report is for another file or did not pass")
    return problems + _metadata_problems(model, variant, name)


def _metadata_problems(model: BundledModel, variant: ModelVariant, name: str) -> list[str]:
    try:
        meta = metadata_of(load_onnx_safely(variant.path, load_external_data=False), source=str(variant.path))
    except StylecamError as exc:
        return [f"{name}: {exc}"]
    problems = []
    if meta.style_name not in PAINTINGS or meta.style_name != model.name:
        problems.append(
            f"{name}: trained on style {meta.style_name!r}; only the bundled public-domain paintings may ship "
            f"({', '.join(PAINTINGS)}) and the model must carry the painting's name"
        )
    if "public domain" not in meta.style_license.lower():
        problems.append(f"{name}: the model's style licence is {meta.style_license!r}, not public domain")
    if variant.precision and meta.precision != variant.precision:
        problems.append(f"{name}: catalog says {variant.precision}, the model is {meta.precision}")
    if variant.arch and meta.arch != variant.arch:
        problems.append(f"{name}: catalog says arch {variant.arch}, the model is {meta.arch}")
    return problems


def catalog_problems(folder: Path | None = None) -> list[str]:
    """Every disagreement between catalog.json, the models, their cards and parity reports (empty: whole)."""
    root = folder or models_dir()
    listed = {model_key(name) for name in read_catalog(root)}
    models = bundled_models(root)
    problems = [f"{m.path.name} has no catalog.json entry" for m in models if m.name not in listed]
    problems += _name_problems(models)
    for model in models:
        if model.name in listed:
            problems += _card_problems(model)
            if model.thumbnail is not None and not model.thumbnail.is_file():
                problems.append(f"{model.name}: thumbnail {model.thumbnail.name} is missing")
            for variant in model.variants:
                problems += _variant_problems(model, variant)
    return problems

"""Writing ``catalog.json`` of the bundled styles (the runtime reads it: :mod:`stylecam.runtime.inference.models`).

The packaging tool records per style the painting's credits (from :data:`stylecam.paintings.PAINTINGS`)
and per variant the file, its sha256, precision, parity report and every figure the model card
shows, so the card can be written again from the catalog alone. Torch-free.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stylecam.atomic import atomic_output
from stylecam.paintings import Painting
from stylecam.runtime.inference.models import ARCH_CHOICES, CATALOG_SCHEMA, CATALOG_VERSION, read_catalog


def variant_file(name: str, arch: str) -> str:
    """``starry_night.onnx`` for the reference network, ``starry_night.lite.onnx`` for another."""
    return f"{name}.onnx" if arch == "reference" else f"{name}.{arch}.onnx"


def _arch_order(item: tuple[str, Any]) -> tuple[int, str]:
    # the reference network first (the card's main section), then lite and fast, then anything newer
    return (ARCH_CHOICES.index(item[0]) if item[0] in ARCH_CHOICES else len(ARCH_CHOICES), item[0])


def style_entry(painting: Painting, variants: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A catalog entry: the painting's credits, its card and thumbnail, and ``variants`` (arch -> entry)."""
    return {
        "aliases": list(painting.aliases),
        "title": painting.title,
        "artist": painting.artist,
        "year": painting.year,
        "license": painting.status,
        "card": f"{painting.name}.md",
        "thumbnail": f"{painting.name}.jpg",
        "variants": dict(sorted(variants.items(), key=_arch_order)),
    }


def write_catalog(folder: Path, models: dict[str, dict[str, Any]]) -> Path:
    """Write ``folder/catalog.json`` (styles sorted by name) atomically; returns its path."""
    data = {"schema": CATALOG_SCHEMA, "version": CATALOG_VERSION, "models": dict(sorted(models.items()))}
    target = folder / "catalog.json"
    with atomic_output(target) as tmp:
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


def set_variant(folder: Path, painting: Painting, arch: str, variant: dict[str, Any]) -> dict[str, Any]:
    """Record ``variant`` as ``painting``'s ``arch`` network in ``folder/catalog.json``; returns the new entry."""
    models = read_catalog(folder)
    old = models.get(painting.name, {})
    variants = dict(old.get("variants") or {})
    variants[arch] = variant
    models[painting.name] = entry = style_entry(painting, variants)
    write_catalog(folder, models)
    return entry

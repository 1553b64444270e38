"""A tiny bundle of style models in a folder, laid out like ``stylecam/assets/models`` (no torch).

Each model is the ``invert`` contract graph (255 - x) stamped with the metadata a packaged style
carries, plus a parity report, a model card and a thumbnail that agree with it; tests then break
one thing at a time.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnx
from onnx import helper

from stylecam.contract import ModelMetadata
from stylecam.paintings import PAINTINGS
from tests.runtime.onnx_builders import make_contract_model


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_style_model(path: Path, style: str, *, arch: str = "reference", license: str = "public domain") -> Path:
    """The invert contract model, stamped as if ``stylecam export`` had made it from ``style``."""
    make_contract_model(path, op="invert")
    model = onnx.load(str(path))
    meta = ModelMetadata(
        arch=arch, stride=4, precision="fp32", opset=17, style_name=style, style_license=f"{license} (test)"
    )
    del model.metadata_props[:]
    helper.set_model_props(model, meta.to_props())
    onnx.save(model, str(path))
    return path


def _file_name(style: str, arch: str) -> str:
    return f"{style}.onnx" if arch == "reference" else f"{style}.{arch}.onnx"


def make_bundle(folder: Path, styles: dict[str, tuple[str, ...]] | None = None) -> Path:
    """Write a consistent bundle (default: starry_night and great_wave, reference only) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    table: dict[str, Any] = {}
    for style, arches in (styles or {"starry_night": ("reference",), "great_wave": ("reference",)}).items():
        painting = PAINTINGS[style]
        variants = {}
        for arch in arches:
            model = write_style_model(folder / _file_name(style, arch), style, arch=arch)
            digest = sha256_of(model)
            parity = model.with_name(f"{model.stem}.parity.json")
            report = {"sha256": digest, "passed": True, "precision": "fp32", "min_psnr_db": {"fp32 vs torch": 51.5}}
            parity.write_text(json.dumps(report))
            variants[arch] = {"file": model.name, "sha256": digest, "precision": "fp32", "parity": parity.name}
        card = folder / f"{style}.md"
        card.write_text(f"# {painting.title}\n" + "".join(f"sha256 {v['sha256']}\n" for v in variants.values()))
        cv2.imwrite(str(folder / f"{style}.jpg"), np.full((8, 16, 3), 90, np.uint8))
        table[style] = {
            "aliases": list(painting.aliases),
            "title": painting.title,
            "artist": painting.artist,
            "year": painting.year,
            "license": painting.status,
            "card": card.name,
            "thumbnail": f"{style}.jpg",
            "variants": variants,
        }
    catalog = {"schema": "stylecam-model-catalog", "version": 2, "models": table}
    (folder / "catalog.json").write_text(json.dumps(catalog, indent=2))
    return folder


def edit_catalog(folder: Path, edit: Any) -> None:
    """Load catalog.json, let ``edit(data)`` change it in place, write it back."""
    path = folder / "catalog.json"
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))

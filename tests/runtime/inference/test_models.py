"""Bundled model names, aliases and paths."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from stylecam.errors import InputError, ModelLoadError, StylecamError, UsageError
from stylecam.runtime.inference.models import bundled_models, models_dir, resolve_model


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "models"
    root.mkdir()
    (root / "starry_night.onnx").write_bytes(b"onnx")
    (root / "loose.onnx").write_bytes(b"onnx")
    catalog = {
        "schema": "stylecam-model-catalog",
        "version": 1,
        "models": {
            "starry_night": {
                "file": "starry_night.onnx",
                "aliases": ["starry", "Van-Gogh"],
                "title": "The Starry Night",
            },
            "ghost": {"file": "ghost.onnx"},
        },
    }
    (root / "catalog.json").write_text(json.dumps(catalog))
    return root


@pytest.mark.parametrize(
    ("name", "file"),
    [
        ("starry_night", "starry_night.onnx"),
        ("starry", "starry_night.onnx"),
        ("van_gogh", "starry_night.onnx"),
        ("Starry-Night", "starry_night.onnx"),
        ("starry.onnx", "starry_night.onnx"),
        ("loose", "loose.onnx"),
    ],
)
def test_names_and_aliases_resolve(folder: Path, name: str, file: str) -> None:
    assert resolve_model(name, folder=folder) == folder / file


def test_a_path_wins_over_names(folder: Path, tmp_path: Path) -> None:
    mine = tmp_path / "starry.onnx"
    mine.write_bytes(b"my own")
    assert resolve_model(str(mine), folder=folder) == mine


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        ("mosaic", UsageError, "unknown model 'mosaic'; bundled models: ghost, loose, starry_night; or pass the path"),
        ("ghost", ModelLoadError, "bundled model 'ghost' is missing from this installation"),
        ("dir/model.onnx", InputError, "model dir/model.onnx does not exist; check the path"),
        ("", UsageError, "--model is empty"),
    ],
)
def test_failures_name_the_choices(folder: Path, name: str, error: type[StylecamError], message: str) -> None:
    with pytest.raises(error, match="^" + re.escape(message)):
        resolve_model(name, folder=folder)


def test_empty_model_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="is empty"):
        resolve_model(str(empty), folder=tmp_path)


def test_damaged_catalog(tmp_path: Path) -> None:
    (tmp_path / "catalog.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match=r"catalog .* is damaged .* reinstall stylecam"):
        resolve_model("anything", folder=tmp_path)


def test_shipped_catalog_is_valid() -> None:
    assert (models_dir() / "catalog.json").is_file()
    models = bundled_models()
    if not models:
        with pytest.raises(UsageError, match="no models are bundled yet"):
            resolve_model("starry")
    for model in models:
        for variant in model.variants:
            assert variant.path.is_file(), f"catalog lists {model.name} but {variant.path} is missing"


@pytest.fixture
def variants(tmp_path: Path) -> Path:
    root = tmp_path / "bundle"
    root.mkdir()
    for name in ("starry_night.onnx", "starry_night.lite.onnx", "great_wave.onnx"):
        (root / name).write_bytes(b"onnx")
    table = {
        "starry_night": {
            "aliases": ["starry"],
            "variants": {"reference": {"file": "starry_night.onnx"}, "lite": {"file": "starry_night.lite.onnx"}},
        },
        "great_wave": {"aliases": ["wave"], "variants": {"reference": {"file": "great_wave.onnx"}}},
    }
    (root / "catalog.json").write_text(json.dumps({"schema": "stylecam-model-catalog", "version": 2, "models": table}))
    return root


@pytest.mark.parametrize(
    ("name", "arch", "gpu", "file"),
    [
        ("starry", None, False, "starry_night.lite.onnx"),  # CPU only: the lite network where shipped
        ("starry", None, True, "starry_night.onnx"),  # GPU, no fast variant: the reference network
        ("starry", "reference", False, "starry_night.onnx"),
        ("starry_night", "lite", True, "starry_night.lite.onnx"),
        ("wave", None, False, "great_wave.onnx"),  # no lite variant: the reference network
        ("wave", None, True, "great_wave.onnx"),
    ],
)
def test_variant_choice(variants: Path, name: str, arch: str | None, gpu: bool, file: str) -> None:
    assert resolve_model(name, folder=variants, arch=arch, gpu=gpu) == variants / file


@pytest.mark.parametrize(
    ("name", "arch", "error", "message"),
    [
        ("wave", "lite", UsageError, "style 'great_wave' has no lite variant; it ships: reference"),
        ("starry", "fast", UsageError, "style 'starry_night' has no fast variant; it ships: reference, lite"),
    ],
)
def test_missing_variant_names_those_shipped(
    variants: Path, name: str, arch: str, error: type[StylecamError], message: str
) -> None:
    with pytest.raises(error, match="^" + re.escape(message)):
        resolve_model(name, folder=variants, arch=arch)


def test_arch_with_a_path_is_refused(variants: Path) -> None:
    with pytest.raises(UsageError, match="--arch picks a variant of a bundled style"):
        resolve_model(str(variants / "great_wave.onnx"), folder=variants, arch="lite")


def test_version_1_entries_are_one_reference_variant(folder: Path) -> None:
    starry = next(m for m in bundled_models(folder) if m.name == "starry_night")
    assert [(v.arch, v.path.name) for v in starry.variants] == [("reference", "starry_night.onnx")]
    assert starry.credit == "The Starry Night"


@pytest.mark.parametrize(
    "models",
    [
        [],
        {"starry_night": {"variants": ["starry_night.onnx"]}},
        {"starry_night": {"variants": {"reference": "starry_night.onnx"}}},
        {"starry_night": {"aliases": "starry"}},
    ],
)
def test_malformed_catalog_is_damaged(tmp_path: Path, models: object) -> None:
    (tmp_path / "catalog.json").write_text(json.dumps({"schema": "stylecam-model-catalog", "models": models}))
    with pytest.raises(ModelLoadError, match="is damaged"):
        bundled_models(tmp_path)

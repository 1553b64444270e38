"""Bundled model names, aliases and paths."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from stylecam.errors import InputError, ModelLoadError, StylecamError, UsageError
from stylecam.runtime.models import bundled_models, models_dir, resolve_model


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


def test_shipped_catalog_is_valid_and_says_none_are_bundled_yet() -> None:
    assert (models_dir() / "catalog.json").is_file()
    models = bundled_models()
    if not models:
        with pytest.raises(UsageError, match="no models are bundled yet"):
            resolve_model("starry")
    for model in models:
        assert model.path.is_file(), f"catalog lists {model.name} but {model.path} is missing"

"""Styles made by ``stylecam learn`` answer to their names like bundled ones (no torch: synthetic folders)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stylecam.cli import main
from stylecam.errors import ModelLoadError, UsageError
from stylecam.runtime.inference import catalog, models
from stylecam.runtime.inference.models import (
    USER_MODELS_ENV,
    resolve_model,
    user_model_folders,
    user_models,
    user_models_dir,
)
from tests.runtime.bundles import make_bundle, sha256_of, write_style_model


def make_user_style(root: Path, name: str, arches: tuple[str, ...] = ("reference", "lite")) -> Path:
    """A learned style's folder as ``stylecam learn`` leaves it (catalog, models, parity reports, card)."""
    folder = root / name
    folder.mkdir(parents=True)
    variants = {}
    for arch in arches:
        model = write_style_model(folder / (f"{name}.onnx" if arch == "reference" else f"{name}.{arch}.onnx"), name)
        parity = model.with_name(f"{model.stem}.parity.json")
        parity.write_text(json.dumps({"sha256": sha256_of(model), "passed": True, "min_psnr_db": {"ort vs torch": 80}}))
        variants[arch] = {"file": model.name, "sha256": sha256_of(model), "precision": "fp32", "parity": parity.name}
    (folder / f"{name}.md").write_text(f"# {name}\n")
    entry = {"aliases": [], "title": f"{name}.jpg", "card": f"{name}.md", "thumbnail": f"{name}.jpg"}
    catalog_data = {"schema": "stylecam-model-catalog", "version": 2, "models": {name: {**entry, "variants": variants}}}
    (folder / "catalog.json").write_text(json.dumps(catalog_data))
    return folder


@pytest.fixture
def bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = make_bundle(tmp_path / "bundled")
    monkeypatch.setattr(models, "models_dir", lambda: folder)
    monkeypatch.setattr(catalog, "models_dir", lambda: folder)
    return folder


@pytest.fixture
def mine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "user-models"
    make_user_style(root, "mosaic")
    make_user_style(root, "candy", ("reference",))
    (root / ".unfinished").mkdir()  # hidden folders and folders without a catalog are not styles
    (root / "half" / ".learn").mkdir(parents=True)
    monkeypatch.setenv(USER_MODELS_ENV, str(root))
    return root


def test_the_user_folder_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(USER_MODELS_ENV, str(tmp_path / "a"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert user_models_dir() == tmp_path / "a"
    monkeypatch.delenv(USER_MODELS_ENV)
    assert user_models_dir() == tmp_path / "xdg" / "stylecam" / "models"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_models_dir() == tmp_path / "home" / ".local" / "share" / "stylecam" / "models"


def test_only_folders_with_a_catalog_are_styles(mine: Path) -> None:
    assert [folder.name for folder in user_model_folders()] == ["candy", "mosaic"]
    assert [model.name for model in user_models()] == ["candy", "mosaic"]


@pytest.mark.parametrize(
    ("name", "arch", "gpu", "file"),
    [
        ("mosaic", None, False, "mosaic.lite.onnx"),  # a CPU runs the lite network, as for bundled styles
        ("Mosaic", None, True, "mosaic.onnx"),
        ("mosaic", "reference", False, "mosaic.onnx"),
        ("candy", None, False, "candy.onnx"),
        ("mosaic.onnx", None, False, "mosaic.lite.onnx"),
    ],
)
def test_user_styles_resolve_by_name(
    bundle: Path, mine: Path, name: str, arch: str | None, gpu: bool, file: str
) -> None:
    assert resolve_model(name, arch=arch, gpu=gpu).name == file


def test_bundled_names_win(bundle: Path, mine: Path) -> None:
    make_user_style(mine, "starry")  # learn refuses this name; a hand-made folder still cannot shadow a bundled one
    assert resolve_model("starry", gpu=False).parent == bundle


def test_unknown_names_list_user_styles_too(bundle: Path, mine: Path) -> None:
    with pytest.raises(UsageError, match=r"bundled models: great_wave, starry_night; your styles: candy, mosaic"):
        resolve_model("nope")


def test_a_user_style_missing_its_file_says_how_to_remake_it(bundle: Path, mine: Path) -> None:
    (mine / "candy" / "candy.onnx").unlink()
    with pytest.raises(ModelLoadError, match=r"stylecam learn PAINTING --name candy --overwrite"):
        resolve_model("candy")


def test_a_damaged_user_catalog_is_skipped(bundle: Path, mine: Path) -> None:
    (mine / "candy" / "catalog.json").write_text("{broken")
    assert [model.name for model in user_models()] == ["mosaic"]


def test_styles_lists_user_styles(bundle: Path, mine: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["styles"]) == 0
    out = capsys.readouterr().out
    assert f"your styles (made by stylecam learn, in {mine})" in out
    mine_part = out.split("your styles")[1]
    assert "mosaic.jpg" in mine_part and "lite" in mine_part and "candy" in mine_part
    assert "stylecam --model candy --source 0" in out
    assert main(["styles", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted((row["name"], row["arch"]) for row in rows if row.get("user")) == [
        ("candy", "reference"),
        ("mosaic", "lite"),
        ("mosaic", "reference"),
    ]
    assert all(not row.get("user") for row in rows if row["name"] in ("starry_night", "great_wave"))


def test_styles_without_user_styles_is_unchanged(
    bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(USER_MODELS_ENV, str(tmp_path / "nothing"))
    assert main(["styles"]) == 0
    assert "your styles" not in capsys.readouterr().out

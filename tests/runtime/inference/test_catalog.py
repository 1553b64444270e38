"""The bundle check: catalog.json, model files, sha256, model cards and parity reports must agree."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from stylecam.runtime.inference.catalog import catalog_problems, style_entries
from stylecam.runtime.inference.models import models_dir
from tests.runtime.bundles import edit_catalog, make_bundle, sha256_of, write_style_model


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return make_bundle(tmp_path / "models")


def test_a_consistent_bundle_has_no_problems(bundle: Path) -> None:
    assert catalog_problems(bundle) == []


def _drop_card(folder: Path) -> None:
    (folder / "great_wave.md").unlink()


def _stale_card(folder: Path) -> None:
    (folder / "great_wave.md").write_text("# an older model\nsha256 " + "0" * 64)


def _unlisted_model(folder: Path) -> None:
    write_style_model(folder / "the_scream.onnx", "the_scream")


def _retrained_model(folder: Path) -> None:  # the file changed, catalog and card still describe the old one
    model = folder / "great_wave.onnx"
    model.write_bytes(model.read_bytes() + b" ")


def _missing_model(folder: Path) -> None:
    (folder / "great_wave.onnx").unlink()


def _failed_parity(folder: Path) -> None:
    report = folder / "great_wave.parity.json"
    report.write_text(json.dumps({**json.loads(report.read_text()), "passed": False}))


def _no_parity(folder: Path) -> None:
    (folder / "great_wave.parity.json").unlink()


def _foreign_style(folder: Path) -> None:  # a copyrighted painting smuggled in under a bundled name
    model = write_style_model(folder / "great_wave.onnx", "la_muse")
    _rehash(folder, model)


def _not_public_domain(folder: Path) -> None:
    model = write_style_model(folder / "great_wave.onnx", "great_wave", license="CC BY-NC")
    _rehash(folder, model)


def _wrong_arch(folder: Path) -> None:
    model = write_style_model(folder / "great_wave.onnx", "great_wave", arch="lite")
    _rehash(folder, model)


def _rehash(folder: Path, model: Path) -> None:
    """Make catalog, card and parity report agree with a rewritten model, leaving only the planted fault."""
    digest = sha256_of(model)
    edit_catalog(folder, lambda data: data["models"]["great_wave"]["variants"]["reference"].update(sha256=digest))
    (folder / "great_wave.md").write_text(f"sha256 {digest}")
    report = folder / "great_wave.parity.json"
    report.write_text(json.dumps({**json.loads(report.read_text()), "sha256": digest}))


def _alias_clash(folder: Path) -> None:
    edit_catalog(folder, lambda data: data["models"]["great_wave"]["aliases"].append("starry"))


def _missing_thumbnail(folder: Path) -> None:
    (folder / "great_wave.jpg").unlink()


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (_drop_card, "great_wave: no model card (great_wave.md)"),
        (_stale_card, "great_wave: the model card great_wave.md describes another reference file"),
        (_unlisted_model, "the_scream.onnx has no catalog.json entry"),
        (_retrained_model, "great_wave: catalog sha256"),
        (_missing_model, "great_wave: great_wave.onnx is listed in catalog.json but missing"),
        (_failed_parity, "great_wave: the parity report is for another file or did not pass"),
        (_no_parity, "great_wave: no readable parity report (great_wave.parity.json)"),
        (_foreign_style, "great_wave: trained on style 'la_muse'; only the bundled public-domain paintings may ship"),
        (_not_public_domain, "great_wave: the model's style licence is 'CC BY-NC (test)', not public domain"),
        (_wrong_arch, "great_wave: catalog says arch reference, the model is lite"),
        (_alias_clash, "'starry' names both"),
        (_missing_thumbnail, "great_wave: thumbnail great_wave.jpg is missing"),
    ],
)
def test_every_disagreement_is_found(bundle: Path, damage: Callable[[Path], None], expected: str) -> None:
    damage(bundle)
    problems = catalog_problems(bundle)
    assert any(problem.startswith(expected) for problem in problems), problems


def test_variants_are_listed_and_filtered(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "m", {"starry_night": ("reference", "lite"), "udnie": ("reference",)})
    assert catalog_problems(bundle) == []
    rows = [(e.model.name, e.variant.arch) for e in style_entries(bundle)]
    assert rows == [("starry_night", "reference"), ("starry_night", "lite"), ("udnie", "reference")]
    assert [(e.model.name, e.variant.arch) for e in style_entries(bundle, arch="lite")] == [("starry_night", "lite")]
    entry = style_entries(bundle)[0]
    assert entry.size_bytes == (bundle / "starry_night.onnx").stat().st_size
    assert entry.parity_passed is True and entry.lowest_db == 51.5
    assert entry.to_dict()["parity_min_psnr_db"] == {"fp32 vs torch": 51.5}


def test_the_shipped_bundle_is_whole() -> None:
    # The real stylecam/assets/models: fails when a model is added without a card or catalog entry,
    # when a file no longer matches its sha256, or when its parity report is missing or failed.
    assert catalog_problems(models_dir()) == []

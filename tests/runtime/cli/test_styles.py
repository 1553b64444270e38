"""``stylecam styles``: the table, --json, --arch/--lite and --check, on a bundle in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stylecam.cli import main
from stylecam.runtime.inference import catalog, models
from stylecam.runtime.inference.models import bundled_models, read_catalog
from tests.runtime.bundles import make_bundle


@pytest.fixture
def bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = make_bundle(tmp_path / "models", {"starry_night": ("reference", "lite"), "great_wave": ("reference",)})
    monkeypatch.setattr(models, "models_dir", lambda: folder)
    monkeypatch.setattr(catalog, "models_dir", lambda: folder)
    return folder


def test_table_lists_every_catalog_entry(bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["styles"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["name", "aliases", "painting", "variant", "size", "precision", "parity", "(min)"]
    for name in read_catalog(bundle):
        assert any(line.startswith(name) for line in lines), name
    starry = [line for line in lines if line.startswith("starry_night")]
    assert len(starry) == 2 and "The Starry Night (Vincent van Gogh, 1889)" in starry[0]
    assert "51.5 dB" in starry[0] and "fp32" in starry[0]
    assert "stylecam --model wave --source 0" in out or "stylecam --model starry" in out
    assert f"2 bundled styles (3 networks) in {bundle}" in out  # starry_night has two variants


def test_json_has_a_row_per_variant(bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["styles", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    expected = sorted((m.name, v.arch) for m in bundled_models(bundle) for v in m.variants)
    assert sorted((row["name"], row["arch"]) for row in rows) == expected
    for row in rows:
        assert row["size_bytes"] == Path(row["file"]).stat().st_size
        assert row["parity_passed"] is True


@pytest.mark.parametrize(("flags", "count"), [(["--lite"], 1), (["--arch", "reference"], 2), (["--arch", "fast"], 0)])
def test_arch_filter(bundle: Path, capsys: pytest.CaptureFixture[str], flags: list[str], count: int) -> None:
    assert main(["styles", "--json", *flags]) == 0
    assert len(json.loads(capsys.readouterr().out)) == count


def test_check_passes_then_fails_on_a_stale_file(bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["styles", "--check"]) == 0
    assert "check: catalog, model files (sha256), model cards and parity reports agree" in capsys.readouterr().out
    (bundle / "great_wave.onnx").write_bytes((bundle / "great_wave.onnx").read_bytes() + b"x")
    assert main(["styles", "--check"]) == 7
    err = capsys.readouterr().err.strip()
    assert err.startswith("stylecam: error: the bundled models are not consistent: great_wave: catalog sha256")
    assert err.endswith("reinstall stylecam") and "\n" not in err


def test_nothing_bundled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(models, "models_dir", lambda: tmp_path)
    assert main(["styles"]) == 0
    assert "no style models are bundled with this installation" in capsys.readouterr().out


def test_the_shipped_bundle_is_listed_whole(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["styles", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    shipped = read_catalog(models.models_dir())
    assert sorted({row["name"] for row in rows}) == sorted(shipped)
    for row in rows:
        assert row["file"].endswith(shipped[row["name"]]["variants"][row["arch"]]["file"])

"""The table of bundled public-domain paintings agrees with the assets and their provenance notes."""

from __future__ import annotations

from pathlib import Path

import stylecam
from stylecam.paintings import PAINTINGS
from stylecam.runtime.inference.models import model_key

ASSETS = Path(stylecam.__file__).resolve().parent / "assets"


def _readme_rows() -> dict[str, list[str]]:
    rows = {}
    for line in (ASSETS / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if line.startswith("|") and cells[0].endswith(".jpg") and (ASSETS / "styles" / cells[0]).is_file():
            rows[cells[0][: -len(".jpg")]] = cells
    return rows


def test_one_row_per_bundled_painting_with_the_readme_provenance() -> None:
    rows = _readme_rows()
    assert sorted(PAINTINGS) == sorted(p.stem for p in (ASSETS / "styles").glob("*.jpg")) == sorted(rows)
    for name, painting in PAINTINGS.items():
        _, title, artist, year, status = rows[name]
        assert (painting.title, painting.artist, painting.year) == (title, artist, year)
        assert status.startswith("public domain") and painting.status.startswith("public domain")


def test_names_and_aliases_never_collide() -> None:
    keys = [key for p in PAINTINGS.values() for key in (p.name, *p.aliases)]
    assert len(keys) == len(set(keys))
    assert all(key == model_key(key) for key in keys)  # stored the way resolve_model compares them
    assert all(p.aliases for p in PAINTINGS.values())

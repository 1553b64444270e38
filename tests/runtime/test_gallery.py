"""tools/make_gallery.py: the styles grid, the demo strip and the README table, from a bundle in tmp_path."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np
import pytest

from stylecam.runtime.pipeline import demo
from tests.conftest import make_photo
from tests.runtime.bundles import make_bundle
from tests.runtime.clips import write_clip

ROOT = Path(__file__).resolve().parents[2]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_gallery", ROOT / "tools" / "make_gallery.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gallery_grid_strip_and_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = make_bundle(tmp_path / "models", {s: ("reference",) for s in ("starry_night", "great_wave", "udnie")})
    clip = write_clip(tmp_path / "clip.mp4", frames=10)
    monkeypatch.setattr(demo, "demo_clip", lambda: clip)
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), make_photo(60, 90))
    readme = tmp_path / "README.md"
    readme.write_text("# title\n<!-- bundled-styles:start -->\nstale\n<!-- bundled-styles:end -->\nafter\n")
    argv = ["--models", str(bundle), "--photo", str(photo), "--images", str(tmp_path / "img"), "--readme", str(readme)]
    assert _tool().main(argv) == 0
    grid = cv2.imread(str(tmp_path / "img" / "styles_grid.jpg"))
    tile = _tool().TILE
    assert grid is not None and grid.shape[1] == 4 * round(90 * tile / 60) + 3 * 4  # photo + 3 styles in a row
    # the bundled models invert: each styled tile is the photo's negative
    photo_tile = grid[:tile, : round(90 * tile / 60)].astype(int)
    styled_tile = grid[:tile, round(90 * tile / 60) + 4 : 2 * round(90 * tile / 60) + 4].astype(int)
    assert np.abs(255 - photo_tile - styled_tile).mean() < 6
    strip = cv2.imread(str(tmp_path / "img" / "demo_strip.jpg"))
    assert strip is not None and strip.shape[0] == 2 * (tile - 40) + 4  # source row over stylized row
    text = readme.read_text()
    assert "stale" not in text and text.startswith("# title\n") and text.endswith("after\n")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "MB" in line]
    assert [row.split(" | ")[0] for row in rows] == ["| great_wave", "| starry_night", "| udnie"]
    assert "`starry`" in rows[1] and "The Starry Night (Vincent van Gogh, 1889)" in rows[1]
    assert "reference: 0.0 MB, fp32" in rows[0] and "[card](stylecam/assets/models/great_wave.md)" in rows[0]


def test_missing_markers_stop_the_tool() -> None:
    with pytest.raises(SystemExit, match="markers"):
        _tool().replace_between_markers("no markers here", "table")


@pytest.mark.parametrize(
    ("artist", "short"),
    [("Vincent van Gogh", "van Gogh"), ("J. M. W. Turner", "Turner"), ("Katsushika Hokusai", "Hokusai")],
)
def test_surname_for_captions(artist: str, short: str) -> None:
    assert _tool().surname(artist) == short

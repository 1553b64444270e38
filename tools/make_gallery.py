"""The README gallery: every bundled style on a CC0 photo, a strip of demo frames, the styles table.

    python tools/make_gallery.py                      # renders the demo video too (about a minute on a CPU)
    python tools/make_gallery.py --demo-video stylecam-demo/demo_starry_night.mp4

Writes ``docs/images/styles_grid.jpg`` (the bundled photo, then each bundled style applied to it),
``docs/images/demo_strip.jpg`` (frames of the demo clip over the same frames of ``stylecam demo``'s
video) and the "Bundled styles" table in README.md between its markers. Runtime only: no torch.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
PHOTO = ROOT / "stylecam" / "assets" / "photos" / "coffee.jpg"
START, END = "<!-- bundled-styles:start -->", "<!-- bundled-styles:end -->"
TILE = 150  # px high per gallery tile
COLUMNS = 4
STRIP_FRAMES = 5


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, help="bundle folder (default: the installed stylecam's)")
    parser.add_argument("--photo", type=Path, default=PHOTO, help="CC0/public-domain photo for the grid")
    parser.add_argument("--demo-video", type=Path, help="a `stylecam demo` video (default: render one now)")
    parser.add_argument("--images", type=Path, default=IMAGES, help="where the JPEGs go (default: docs/images)")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md", help="README with the table markers")
    return parser.parse_args(argv)


def surname(artist: str) -> str:
    """``Vincent van Gogh`` -> ``van Gogh``, ``J. M. W. Turner`` -> ``Turner`` (for short captions)."""
    words = artist.split()
    keep = 2 if len(words) > 2 and words[-2].islower() else 1
    return " ".join(words[-keep:])


def styles_grid(models: list, photo: np.ndarray, folder: Path | None = None) -> np.ndarray:
    """The photo, then the photo through each bundled style as a CPU runs it by default, COLUMNS wide.

    "By default" is the variant ``stylecam --model NAME`` picks on a machine without a GPU: the
    lite network where the style ships one, else the reference network.
    """
    from stylecam.runtime.config import RuntimeConfig
    from stylecam.runtime.inference.models import resolve_model
    from stylecam.runtime.inference.stylizer import Stylizer
    from stylecam.sheets import grid

    tiles, captions = [photo], ["photo (CC0)"]
    for model in models:
        path = resolve_model(model.name, folder=folder, gpu=False)
        with Stylizer(path, RuntimeConfig(provider="cpu", probe="never")) as stylizer:
            tiles.append(stylizer(photo))
        captions.append(f"{model.name} ({surname(model.artist)})" if model.artist else model.name)
    rows = [tiles[i : i + COLUMNS] for i in range(0, len(tiles), COLUMNS)]
    labels = [captions[i : i + COLUMNS] for i in range(0, len(captions), COLUMNS)]
    return grid(rows, height=TILE, captions=labels)


def demo_strip(source: Path, stylized: Path, count: int = STRIP_FRAMES) -> np.ndarray:
    """``count`` frames spread over the clip: the source above, the stylized video below."""
    from stylecam.runtime.media.video_file import VideoFileSource
    from stylecam.sheets import grid

    def frames(path: Path) -> list[np.ndarray]:
        reader = VideoFileSource(path)
        try:
            return [frame.image for frame in reader]
        finally:
            reader.close()

    before, after = frames(source), frames(stylized)
    total = min(len(before), len(after))
    picks = [round((total - 1) * (i + 0.5) / count) for i in range(count)]
    return grid([[before[i] for i in picks], [after[i] for i in picks]], height=TILE - 40)


def styles_table(models: list) -> str:
    """The Markdown table of bundled styles (one row per style; sizes and parity of each variant)."""
    from stylecam.runtime.inference.catalog import style_entries

    lines = [
        "| style | `--model` names | painting | variants (size, precision, parity fp16 vs fp32) | card |",
        "|---|---|---|---|---|",
    ]
    entries = style_entries(models[0].path.parent) if models else []
    for model in models:
        variants = []
        for entry in (e for e in entries if e.model.name == model.name):
            low = entry.parity_min_db.get("fp16 vs fp32 onnxruntime", entry.lowest_db)
            parity = "-" if low is None else ("identical" if low == float("inf") else f"{low:.1f} dB")
            size = "missing" if entry.size_bytes is None else f"{entry.size_bytes / 2**20:.1f} MB"
            variants.append(f"{entry.variant.arch}: {size}, {entry.precision}, {parity}")
        names = ", ".join(f"`{key}`" for key in (model.name, *model.aliases))
        card = f"[card](stylecam/assets/models/{model.card.name})" if model.card else "-"
        lines.append(f"| {model.name} | {names} | {model.credit} | {'; '.join(variants)} | {card} |")
    if not models:
        lines.append("| (none bundled yet) | | | | |")
    return "\n".join(lines)


def replace_between_markers(text: str, block: str) -> str:
    """``text`` with everything between the start and end markers replaced by ``block``."""
    if START not in text or END not in text:
        raise SystemExit(f"README has no {START} ... {END} markers; add them where the table goes")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{block}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from stylecam.atomic import atomic_output
    from stylecam.images import read_image
    from stylecam.runtime.inference.models import bundled_models
    from stylecam.runtime.pipeline.demo import demo_clip, pick_style, render_demo
    from stylecam.sheets import write_jpeg

    models = bundled_models(args.models)
    if not models:
        print("make_gallery: no bundled models; run tools/package_styles.py first", file=sys.stderr)
        return 1
    args.images.mkdir(parents=True, exist_ok=True)
    grid = styles_grid(models, read_image(args.photo).bgr, args.models)
    write_jpeg(args.images / "styles_grid.jpg", grid, quality=80)
    with tempfile.TemporaryDirectory() as scratch:
        video = args.demo_video
        if video is None:
            video = Path(scratch) / "demo.mp4"
            render_demo(pick_style(None, folder=args.models), video, progress=False)
        write_jpeg(args.images / "demo_strip.jpg", demo_strip(demo_clip(), video), quality=80)
    text = replace_between_markers(args.readme.read_text(encoding="utf-8"), styles_table(models))
    with atomic_output(args.readme) as tmp:
        tmp.write_text(text, encoding="utf-8")
    for name in ("styles_grid.jpg", "demo_strip.jpg"):
        path = args.images / name
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB)")
    print(f"updated the bundled-styles table in {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

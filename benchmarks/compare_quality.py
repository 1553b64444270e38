"""Quality of networks of one style side by side: style and content loss on photos, and a picture.

    python benchmarks/compare_quality.py --style starry_night \\
        --models reference=/work/models/starry_night.onnx lite=/work/models/lite/starry_night.onnx \\
        --json benchmarks/results/quality-starry-night.json --image benchmarks/quality-starry-night.jpg

Each photo (default: the bundled CC0 photos, which no network was trained on) is resized to
``--size`` on its long side and stylized by every model on ONNX Runtime CPU; VGG19 then scores each
result with the losses of training and ``stylecam eval`` (``stylecam.train.losses.perceptual``): the
style loss against the painting (long side 512, as ``stylecam eval``), the content loss against
the photo. The JSON holds every figure and each model's mean relative to the first model; the
JPEG shows photo | model 1 | model 2 | ... per row. Temporal stability on clips is measured by
``stylecam eval`` (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from stylecam.images import read_image, resize_long_side
from stylecam.runtime.bench.hostinfo import host_info
from stylecam.runtime.config import RuntimeConfig
from stylecam.runtime.inference.stylizer import Stylizer
from stylecam.train.evaluation.evaluate import bundled_style
from stylecam.train.losses.perceptual import PerceptualScorer

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = sorted((ROOT / "stylecam" / "assets" / "photos").glob("*.jpg"))


def parse_models(items: list[str]) -> dict[str, Path]:
    models = {}
    for item in items:
        label, sep, path = item.partition("=")
        if not sep:
            raise SystemExit(f"--models takes LABEL=PATH items, got {item!r}")
        models[label] = Path(path)
    return models


def score_models(
    models: dict[str, Path], photos: list[Path], style: Path, size: int
) -> tuple[list[dict[str, Any]], dict[str, list[np.ndarray]]]:
    scorer = PerceptualScorer(read_image(style).bgr)
    sources = [resize_long_side(read_image(path).bgr, size) for path in photos]
    outputs: dict[str, list[np.ndarray]] = {}
    for label, path in models.items():
        with Stylizer(path, RuntimeConfig(provider="cpu")) as stylizer:
            outputs[label] = [stylizer(source) for source in sources]
    rows = []
    for index, (photo, source) in enumerate(zip(photos, sources)):
        losses = scorer.score(source, [outputs[label][index] for label in models])
        for label, loss in zip(models, losses):
            rows.append({"photo": photo.name, "model": label, "style_loss": loss.style, "content_loss": loss.content})
    return rows, outputs


def summarise(rows: list[dict[str, Any]], models: dict[str, Path]) -> dict[str, dict[str, float]]:
    means = {}
    for label in models:
        mine = [row for row in rows if row["model"] == label]
        means[label] = {key: float(np.mean([row[key] for row in mine])) for key in ("style_loss", "content_loss")}
    first = next(iter(models))
    for values in means.values():
        for key in ("style_loss", "content_loss"):
            values[f"{key}_vs_{first}_pct"] = round(100.0 * (values[key] / means[first][key] - 1.0), 1)
    return means


def side_by_side(sources: list[np.ndarray], outputs: dict[str, list[np.ndarray]], height: int) -> np.ndarray:
    rows = []
    for index, source in enumerate(sources):
        tiles = [("photo", source)] + [(label, images[index]) for label, images in outputs.items()]
        scaled = []
        for label, image in tiles:
            width = round(image.shape[1] * height / image.shape[0])
            tile = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
            cv2.putText(tile, label, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 3, cv2.LINE_AA)
            cv2.putText(tile, label, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA)
            scaled.append(tile)
        rows.append(np.hstack(scaled))
    width = max(row.shape[1] for row in rows)
    return np.vstack([np.pad(row, ((0, 0), (0, width - row.shape[1]), (0, 0))) for row in rows])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", required=True, metavar="LABEL=PATH", help="first one is the baseline")
    parser.add_argument("--style", required=True, help="bundled style name or painting path")
    parser.add_argument("--photos", nargs="+", type=Path, default=PHOTOS)
    parser.add_argument("--size", type=int, default=512, help="long side the photos are stylized at")
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument("--image", type=Path, help="side-by-side JPEG")
    parser.add_argument("--tile-height", type=int, default=240)
    args = parser.parse_args()
    models = parse_models(args.models)
    style = bundled_style(args.style) or Path(args.style)
    rows, outputs = score_models(models, args.photos, style, args.size)
    record = {
        "schema": "stylecam-quality",
        "version": 1,
        "host": host_info(),
        "style": style.name,
        "size": args.size,
        "models": {label: str(path) for label, path in models.items()},
        "mean": summarise(rows, models),
        "rows": rows,
    }
    args.json.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record["mean"], indent=2))
    if args.image is not None:
        sources = [resize_long_side(read_image(path).bgr, args.size) for path in args.photos]
        cv2.imwrite(str(args.image), side_by_side(sources, outputs, args.tile_height), [cv2.IMWRITE_JPEG_QUALITY, 85])
        print(f"wrote {args.image}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

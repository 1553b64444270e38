"""Where a student's extra content loss lives: swap frequency bands between a student and its teacher.

    python benchmarks/content_gap_bands.py --style udnie --teacher stylecam/assets/models/udnie.onnx \\
        --student OLD_LITE.onnx --photos HELD_APART/*.jpg --json benchmarks/results/F.json

Both networks paint each photo (long side ``--size``); the outputs are split with a Gaussian blur of
sigma s into a low band (the blur) and a high band (the rest), and VGG19 scores mixtures such as the
student's low band under the teacher's high band. The sigma at which such a mixture gets the
teacher's content loss says at which scale the student's output differs from the teacher's against
the photo: detail the student lacks (its high band is weaker), or texture placed elsewhere (as
strong, but not where the teacher puts it). Losses as ``stylecam eval`` (VGG19, painting at 512 px).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from stylecam.images import read_image, resize_long_side
from stylecam.runtime.bench.hostinfo import host_info
from stylecam.runtime.config import RuntimeConfig
from stylecam.runtime.inference.stylizer import Stylizer
from stylecam.train.evaluation.evaluate import bundled_style
from stylecam.train.losses.perceptual import PerceptualScorer

Image = np.ndarray


def low(image: Image, sigma: float) -> Image:
    return cv2.GaussianBlur(image.astype(np.float32), (0, 0), sigma)


def high(image: Image, sigma: float) -> Image:
    return image.astype(np.float32) - low(image, sigma)


def to_uint8(image: Image) -> Image:
    return np.clip(image, 0, 255).astype(np.uint8)


def mixtures(photo: Image, teacher: Image, student: Image) -> dict[str, Callable[[], Image]]:
    """Label -> the image to score."""
    out: dict[str, Callable[[], Image]] = {"teacher": lambda: teacher, "student": lambda: student}
    for sigma in (2.0, 4.0, 8.0, 16.0):
        out[f"student low + teacher high, sigma {sigma:g}"] = lambda s=sigma: to_uint8(
            low(student, s) + high(teacher, s)
        )
    for sigma in (4.0, 16.0):
        out[f"teacher low + student high, sigma {sigma:g}"] = lambda s=sigma: to_uint8(
            low(teacher, s) + high(student, s)
        )
    out["student + the photo's high band, sigma 1"] = lambda: to_uint8(student + high(photo, 1.0))
    out["teacher, half resolution"] = lambda: cv2.resize(
        cv2.resize(teacher, (teacher.shape[1] // 2, teacher.shape[0] // 2), interpolation=cv2.INTER_AREA),
        (teacher.shape[1], teacher.shape[0]),
        interpolation=cv2.INTER_LINEAR,
    )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--style", required=True, help="bundled style name or painting path")
    parser.add_argument("--teacher", type=Path, required=True)
    parser.add_argument("--student", type=Path, required=True)
    parser.add_argument("--photos", nargs="+", type=Path, required=True)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    painting = bundled_style(args.style) or Path(args.style)
    scorer = PerceptualScorer(read_image(painting).bgr)
    photos = [resize_long_side(read_image(path).bgr, args.size) for path in args.photos]
    outputs = {}
    for label, path in (("teacher", args.teacher), ("student", args.student)):
        with Stylizer(path, RuntimeConfig(provider="cpu")) as stylizer:
            outputs[label] = [stylizer(photo) for photo in photos]
    losses: dict[str, list[tuple[float, float]]] = {}
    rms: dict[str, list[float]] = {"teacher": [], "student": []}
    for index, photo in enumerate(photos):
        mixes = mixtures(photo, outputs["teacher"][index], outputs["student"][index])
        scored = scorer.score(photo, [make() for make in mixes.values()])
        for label, loss in zip(mixes, scored):
            losses.setdefault(label, []).append((loss.style, loss.content))
        for label in rms:
            rms[label].append(float(np.sqrt(np.mean(high(outputs[label][index], 4.0) ** 2))))
    teacher = np.mean(losses["teacher"], axis=0)
    mean = {}
    for label, values in losses.items():
        style, content = np.mean(values, axis=0)
        mean[label] = {
            "style_loss": float(style),
            "content_loss": float(content),
            "style_loss_vs_teacher_pct": round(100 * (style / teacher[0] - 1), 1),
            "content_loss_vs_teacher_pct": round(100 * (content / teacher[1] - 1), 1),
        }
    record = {
        "schema": "stylecam-content-bands",
        "version": 1,
        "host": host_info(),
        "style": painting.name,
        "size": args.size,
        "models": {"teacher": str(args.teacher), "student": str(args.student)},
        "photos": [path.name for path in args.photos],
        "high_band_rms_sigma4": {label: float(np.mean(values)) for label, values in rms.items()},
        "mean": mean,
    }
    args.json.write_text(json.dumps(record, indent=2) + "\n")
    for label, values in mean.items():
        style_pct, content_pct = values["style_loss_vs_teacher_pct"], values["content_loss_vs_teacher_pct"]
        print(f"{label:45s} style {style_pct:+7.1f} %  content {content_pct:+6.1f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

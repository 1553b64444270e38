"""A picture of flicker: two consecutive frames per model, and what changed between them after motion.

    python tools/flicker_strip.py --models "no temporal term=a.onnx" "temporal term 30=b.onnx" \\
        --frame 40 -o docs/images/flicker_lite.jpg

For frames t-1 and t of a clip (default: the bundled demo clip, CC0), each row shows one model's
stylized frame t and a heat map of |frame t - frame t-1 warped onto t| on the pixels the source's
optical flow explains (the warping error of ``stylecam eval``, per pixel): dark is steady, bright
flickers. The first row is the source itself (its own error is the noise floor). Runtime only.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from stylecam.runtime.config import RuntimeConfig
from stylecam.runtime.inference.stylizer import Stylizer
from stylecam.runtime.media.video_file import VideoFileSource
from stylecam.runtime.pipeline.demo import demo_clip
from stylecam.runtime.temporal.flow import warp
from stylecam.runtime.temporal.stability import estimate_motion, warping_error

SCALE = 4.0  # heat map gain: a difference of 64 levels saturates


def frames(clip: Path, index: int) -> tuple[np.ndarray, np.ndarray]:
    source = VideoFileSource(clip)
    previous = None
    try:
        for frame in source:
            if frame.index == index:
                assert previous is not None
                return previous, frame.image
            previous = frame.image
    finally:
        source.close()
    raise SystemExit(f"{clip} has no frame {index}")


def heat(previous: np.ndarray, current: np.ndarray, motion: object) -> tuple[np.ndarray, float]:
    aligned = warp(previous, motion.flow)  # type: ignore[attr-defined]
    difference = np.abs(current.astype(np.float32) - aligned.astype(np.float32)).mean(axis=2)
    difference[~motion.valid] = 0  # type: ignore[attr-defined]
    image = cv2.applyColorMap(np.clip(difference * SCALE, 0, 255).astype(np.uint8), cv2.COLORMAP_INFERNO)
    return image, warping_error(previous, current, motion)  # type: ignore[arg-type]


def label(image: np.ndarray, text: str) -> np.ndarray:
    out = image.copy()
    cv2.putText(out, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(out, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", required=True, help="LABEL=model.onnx")
    parser.add_argument("--clip", type=Path, default=None, help="default: the bundled demo clip")
    parser.add_argument("--frame", type=int, default=40)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    previous, current = frames(args.clip or demo_clip(), args.frame)
    motion = estimate_motion(previous, current)
    source_heat, source_error = heat(previous, current, motion)
    rows = [np.hstack([label(current, "source"), label(source_heat, "change after motion")])]
    print(f"source: warping error {source_error * 1e3:.3f}e-3")
    for spec in args.models:
        name, _, path = spec.partition("=")
        stylizer = Stylizer(path, RuntimeConfig(provider="cpu"))
        painted = [stylizer(previous), stylizer(current)]
        model_heat, error = heat(painted[0], painted[1], motion)
        ratio = error / source_error
        rows.append(np.hstack([label(painted[1], name), label(model_heat, f"ratio to source {ratio:.1f}")]))
        print(f"{name}: warping error {error * 1e3:.3f}e-3, ratio {ratio:.1f}")
    cv2.imwrite(str(args.output), np.vstack(rows), [cv2.IMWRITE_JPEG_QUALITY, 85])
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Battery cases, files in (rows 1-12): empty, mislabelled, truncated, damaged, VFR, odd sizes, deep colour..."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import battery_inputs as make
import numpy as np
from battery_build import BAD_INPUT, Case, clip, model_refused, png, refused_video, run_args, works
from battery_checks import Expect, Invocation, audio_kept, frame_count, image_kept, same_timestamps, video_size
from battery_checks import styled_without_shift as unshifted

TRUNCATED = r"truncated|no index|damaged"


def _cut(fraction: float | None = None, at_box: str | None = None, faststart: bool = False) -> Callable:
    def writer(path: Path) -> None:
        whole = make.write_video(path.with_name(f"whole-{path.name}"), frames=30, faststart=faststart)
        make.cut(whole, path, fraction=fraction, at_box=at_box)
        whole.unlink()

    return writer


def _damaged(hits: int) -> Callable:
    def writer(path: Path) -> None:
        whole = make.write_video(path.with_name(f"whole-{path.name}"), width=160, height=120, frames=60, fps=25)
        make.damage_media_data(whole, path, hits=hits, seed=hits)
        whole.unlink()

    return writer


def mild_damage(folder: Path) -> Invocation:
    _damaged(3)(folder / "damaged.mp4")
    check = frame_count("out.mp4", "damaged.mp4", at_least=0.8)
    return Invocation(
        run_args(folder, "damaged.mp4", "out.mp4"),
        Expect(0, r"damaged frames skipped or repeated", notice=r"damaged data near frame \d+", new_files=("out.mp4",)),
        check=check,
    )


def _rgba(folder: Path) -> str:
    image = np.dstack([make.scene(60, 90), np.tile(np.linspace(0, 255, 90, dtype=np.uint8), (60, 1))])
    return png(folder, "rgba.png", image)


def _vfr(folder: Path) -> str:
    stamps = [0, 40, 80, 200, 240, 500, 533, 566, 900, 1000, 1010, 1100]
    return clip(folder, "vfr.mp4", frames=len(stamps), stamps=stamps)


CASES: tuple[Case, ...] = (
    Case(
        "empty-video",
        1,
        "zero-length .mp4",
        refused_video("empty.mp4", lambda p: p.write_bytes(b""), r"empty \(0 bytes\)"),
        quick=True,
    ),
    Case(
        "empty-model",
        1,
        "zero-length .onnx",
        model_refused(lambda p: p.write_bytes(b""), r"empty \(0 bytes\)", BAD_INPUT),
    ),
    Case(
        "jpeg-named-mp4",
        2,
        "a JPEG renamed .mp4",
        refused_video(
            "photo.mp4",
            lambda p: make.write_image(p.with_suffix(".jpg"), make.scene(40, 60)).rename(p),
            r"is a JPEG image, not a video",
            r"real suffix",
        ),
        quick=True,
    ),
    Case(
        "text-named-mp4",
        2,
        "a text file renamed .mp4",
        refused_video(
            "notes.mp4",
            lambda p: p.write_text("shopping list\n" * 40),
            r"is a text file, not a video",
            r"pass a video file",
        ),
    ),
    Case(
        "text-named-onnx",
        2,
        "a text file renamed .onnx",
        model_refused(lambda p: p.write_text("not a model\n" * 50), r"not a readable ONNX model"),
        quick=True,
    ),
    Case(
        "mp4-cut-10pct",
        3,
        "MP4 (index at end) cut at 10 %",
        refused_video("cut.mp4", _cut(0.10), TRUNCATED),
        quick=True,
    ),
    Case("mp4-cut-60pct", 3, "MP4 (index at end) cut at 60 %", refused_video("cut.mp4", _cut(0.60), TRUNCATED)),
    Case("mp4-cut-in-moov", 3, "MP4 cut inside its index", refused_video("cut.mp4", _cut(at_box="moov"), TRUNCATED)),
    Case(
        "mp4-faststart-cut-mid-frame",
        3,
        "faststart MP4 cut mid-frame",
        refused_video("cut.mp4", _cut(0.7, faststart=True), TRUNCATED),
    ),
    Case(
        "mp4-faststart-cut-in-moov",
        3,
        "faststart MP4 cut in its index",
        refused_video("cut.mp4", _cut(at_box="moov", faststart=True), TRUNCATED),
    ),
    Case("damaged-packets-mild", 4, "3 damaged runs in the media data", mild_damage),
    Case(
        "damaged-packets-heavy",
        4,
        "400 damaged runs in the media data",
        refused_video("damaged.mp4", _damaged(400), r"damaged.*frame \d+", before_work=False),
    ),
    Case(
        "variable-frame-rate",
        5,
        "VFR clip (irregular timestamps)",
        works(_vfr, "out.mp4", check=same_timestamps("out.mp4", "vfr.mp4")),
    ),
    Case(
        "mkv-no-frame-count",
        6,
        "MKV without a frame count",
        works(
            lambda f: clip(f, "clip.mkv", frames=15),
            "out.mp4",
            r"frame count unknown",
            frame_count("out.mp4", "clip.mkv"),
        ),
    ),
    Case(
        "odd-size-63x47",
        7,
        "63x47 video",
        works(
            lambda f: clip(f, "odd.mp4", width=63, height=47, frames=5, pix_fmt="yuv444p"),
            "out.mp4",
            r"odd frame size",
            unshifted("out.mp4", "odd.mp4"),
        ),
        quick=True,
    ),
    Case(
        "ten-bit-hdr",
        8,
        "10-bit PQ (HDR10-tagged) H.264",
        works(
            lambda f: clip(f, "hdr.mp4", pix_fmt="yuv420p10le", color_trc=16, frames=5),
            "out.mp4",
            r"10-bit.*HDR",
            video_size("out.mp4", 96, 64),
        ),
    ),
    Case(
        "alpha-png",
        9,
        "PNG with transparency",
        works(_rgba, "out.png", r"alpha", image_kept("out.png", "rgba.png", alpha=True)),
        quick=True,
    ),
    Case(
        "alpha-prores-4444",
        9,
        "ProRes 4444 .mov with alpha",
        works(
            lambda f: clip(f, "alpha.mov", codec="prores_ks", pix_fmt="yuva444p10le", frames=5),
            "out.mp4",
            r"alpha channel.*dropped",
            video_size("out.mp4", 96, 64),
        ),
    ),
    Case(
        "grayscale-video",
        10,
        "grayscale FFV1 .mkv",
        works(
            lambda f: clip(f, "gray.mkv", codec="ffv1", pix_fmt="gray", frames=5),
            "out.mp4",
            r"grayscale",
            video_size("out.mp4", 96, 64),
        ),
    ),
    Case(
        "grayscale-png",
        10,
        "grayscale PNG",
        works(
            lambda f: png(f, "gray.png", np.ascontiguousarray(make.scene(50, 70)[..., 1])),
            "out.png",
            r"grayscale",
            image_kept("out.png", "gray.png"),
        ),
    ),
    Case(
        "8k-image",
        11,
        "7680x4320 PNG",
        works(
            lambda f: png(f, "8k.png", np.tile(make.scene(270, 480), (16, 16, 1))),
            "out.png",
            r"exceed max_pixels.*stylizing at 3840x2160",
            image_kept("out.png", "8k.png"),
        ),
    ),
    Case(
        "png-bomb",
        11,
        "PNG header claiming 60000x60000",
        refused_video("bomb.png", make.write_png_bomb, r"too large to decode", r"shrink it", output="out.png"),
        quick=True,
    ),
    Case(
        "audio-kept",
        12,
        "clip with AAC audio",
        works(lambda f: clip(f, "talk.mp4", audio=True, frames=20), "out.mp4", "", audio_kept("out.mp4", "talk.mp4")),
    ),
)

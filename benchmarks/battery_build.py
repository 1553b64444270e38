"""Shared pieces of the reliability battery's cases: the Case record and generic case builders.

A builder takes the case's (empty) folder, writes fresh inputs there and returns the
:class:`~battery_checks.Invocation` to run. The cases themselves live in battery_media (files in,
rows 1-12), battery_live (cameras, outputs, disk full, Ctrl-C: rows 13-19 and 26) and
battery_models (models, checkpoints, packaging: rows 20-28).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import battery_inputs as make
import numpy as np
from battery_checks import Expect, Invocation

MODEL = "style.onnx"
BAD_INPUT = 3
BAD_OUTPUT = 4
BAD_MODEL = 5

# the parts of an error message that name the fix, by kind
FIX_VIDEO = r"(copy|export|re-export|repair|convert).*(again|file|it)"
FIX_MODEL = r"(re-export|export it|export the model|stylecam export|download|upgrade|pip install|next to it)"
FIX_OUTPUT = r"(choose|create|free some space|write elsewhere|give a file)"
REC = ("-o", "rec.mp4", "--no-window")


@dataclass(frozen=True)
class Case:
    key: str
    row: int
    title: str
    build: Callable[[Path], Invocation]
    quick: bool = False
    torch: bool = False


def model(folder: Path) -> str:
    make.write_style_model(folder / MODEL)
    return MODEL


def run_args(folder: Path, source: str, output: str, *extra: str) -> list[str]:
    return ["run", "--model", model(folder), "--source", source, "-o", output, "--smooth", "none", *extra]


def clip(folder: Path, name: str = "clip.mp4", **kwargs: object) -> str:
    make.write_video(folder / name, **kwargs)  # type: ignore[arg-type]
    return name


def png(folder: Path, name: str, image: np.ndarray) -> str:
    make.write_image(folder / name, image)
    return name


def refused_video(
    name: str,
    writer: Callable[[Path], object],
    problem: str,
    fix: str = FIX_VIDEO,
    *,
    before_work: bool = True,
    output: str = "out.mp4",
) -> Callable:
    def build(folder: Path) -> Invocation:
        writer(folder / name)
        return Invocation(run_args(folder, name, output), Expect(BAD_INPUT, problem, fix, one_line=before_work))

    return build


def works(
    source: Callable[[Path], str], output: str, notice: str = "", check: Callable | None = None, *extra: str
) -> Callable[[Path], Invocation]:
    def build(folder: Path) -> Invocation:
        name = source(folder)
        expect = Expect(0, notice=notice, new_files=(output,))
        return Invocation(run_args(folder, name, output, *extra), expect, check=check)

    return build


def model_refused(writer: Callable[[Path], object], problem: str, code: int = BAD_MODEL) -> Callable:
    def build(folder: Path) -> Invocation:
        writer(folder / "bad.onnx")
        source = clip(folder, frames=3)
        args = ["run", "--model", "bad.onnx", "--source", source, "-o", "out.mp4"]
        return Invocation(args, Expect(code, problem, FIX_MODEL))

    return build


def output_refused(output: str, problem: str, prepare: Callable[[Path], None] | None = None) -> Callable:
    def build(folder: Path) -> Invocation:
        source = clip(folder, frames=3)
        if prepare is not None:
            prepare(folder)
        return Invocation(run_args(folder, source, output), Expect(BAD_OUTPUT, problem, FIX_OUTPUT))

    return build


def tiny_run(folder: Path, source: str, *extra: str) -> list[str]:
    """Arguments for a run inside the tiny filesystem mounted at ``folder/tiny`` (inputs one level up)."""
    model(folder)
    return ["run", "--model", f"../{MODEL}", "--source", f"../{source}", "-o", "out.mp4", "--smooth", "none", *extra]


def camera(
    cameras: dict[str, dict[str, object]],
    events: list[dict[str, object]],
    expect: Expect,
    *extra: str,
    check: Callable | None = None,
) -> Callable:
    def build(folder: Path) -> Invocation:
        args = ["run", "--model", model(folder), "--source", "0", "--smooth", "none", *extra]
        scenario = {"cameras": cameras, "events": events}
        return Invocation(args, expect, launcher="camera", scenario=scenario, check=check)

    return build


def checkpoint_case(writer: Callable[[Path, Path], object], problem: str, command: str = "resume") -> Callable:
    """A bad checkpoint given to ``stylecam train --resume`` or ``stylecam export``."""

    def build(folder: Path) -> Invocation:
        marker = folder.parent / f"{folder.name}-RAN"
        writer(folder / "ckpt.pt", marker)
        expect = Expect(BAD_MODEL, problem, r"re-save|re-run training|train one|upgrade|re-download")
        args = ["train", "--resume", "ckpt.pt"] if command == "resume" else ["export", "ckpt.pt", "-o", "out.onnx"]
        return Invocation(args, expect, marker=marker)

    return build


def info_refused(writer: Callable[[Path], object], problem: str) -> Callable:
    """A bad model given to ``stylecam info``."""

    def build(folder: Path) -> Invocation:
        writer(folder / "bad.onnx")
        return Invocation(["info", "bad.onnx"], Expect(BAD_MODEL, problem, FIX_MODEL))

    return build

"""Battery cases, devices and outputs (rows 13-19, 26): cameras, refused outputs, disk full, Ctrl-C."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

from battery_build import (
    BAD_INPUT,
    BAD_OUTPUT,
    FIX_OUTPUT,
    REC,
    Case,
    camera,
    clip,
    model,
    output_refused,
    run_args,
    tiny_run,
)
from battery_checks import Expect, Invocation, duration_near, playable, video_size

FAKE_CAMERA = {"0": {"width": 160, "height": 120, "fps": 30}}


def disk_full(folder: Path) -> Invocation:
    clip(folder, "big.mp4", width=320, height=240, frames=60, fps=30)
    (folder / "previous.mp4").write_bytes(b"an earlier result that must survive" * 20)
    args = tiny_run(folder, "big.mp4", "--crf", "0", "--overwrite")  # replacing it was asked for: it must survive
    expect = Expect(BAD_OUTPUT, r"disk full", r"free some space|write elsewhere", one_line=False)
    return Invocation(args, expect, launcher="tinyfs", scenario={"size": "96k", "seed": "previous.mp4"})


def readonly_fs(folder: Path) -> Invocation:
    source = clip(folder, frames=3)
    args = tiny_run(folder, source)
    expect = Expect(BAD_OUTPUT, r"not writable|read-only", FIX_OUTPUT)
    return Invocation(args, expect, launcher="tinyfs", scenario={"size": "1m", "readonly": True})


def interrupted(signum: int, code: int, message: str) -> Callable[[Path], Invocation]:
    """A signal mid-conversion: exit ``code``, the target untouched, what was written kept playable."""

    def build(folder: Path) -> Invocation:
        source = clip(folder, "long.mp4", width=320, height=240, frames=2400, fps=30, gop=30)
        (folder / "out.mp4").write_bytes(b"the previous out.mp4, which an interruption must leave alone" * 10)
        expect = Expect(code, message, r"", one_line=False, new_files=("out.partial.mp4",))
        scenario = {"signal": int(signum)}
        check = playable("out.partial.mp4")
        args = run_args(folder, source, "out.mp4", "--overwrite")  # replacing it was asked for: it must survive
        return Invocation(args, expect, "interrupt", check, scenario=scenario)

    return build


CASES: tuple[Case, ...] = (
    Case(
        "camera-unplugged",
        13,
        "camera unplugged for 1 s mid-recording",
        camera(
            FAKE_CAMERA,
            [
                {"after_frames": 20, "camera": "0", "plugged": False},
                {"after_seconds": 1.0, "camera": "0", "plugged": True},
            ],
            Expect(0, notice=r"lost, retrying.*\n.*is back", new_files=("rec.mp4",)),
            *REC,
            "--frames",
            "45",
            check=playable("rec.mp4", min_frames=45),
        ),
    ),
    Case(
        "camera-gone",
        13,
        "camera unplugged for good",
        camera(
            FAKE_CAMERA,
            [{"after_frames": 15, "camera": "0", "plugged": False}],
            Expect(BAD_INPUT, r"camera 0", r"", notice=r"lost, retrying", one_line=False),
            "--no-window",
        ),
    ),
    Case(
        "camera-wrong-index",
        14,
        "--source 7 on a machine without camera 7",
        lambda f: Invocation(
            ["run", "--model", model(f), "--source", "7", *REC],
            Expect(BAD_INPUT, r"camera 7 cannot be opened", r"connect one|cameras that work"),
        ),
        quick=True,
    ),
    Case(
        "camera-busy",
        14,
        "camera 0 busy, camera 1 free",
        camera({"0": {"busy": True}, "1": {}}, [], Expect(BAD_INPUT, r"camera 0", r"cameras that work: 1"), *REC),
    ),
    Case(
        "camera-lies-fps",
        15,
        "camera declares 60 fps, delivers 15",
        camera(
            {"0": {"width": 160, "height": 120, "fps": 15, "declared_fps": 60}},
            [],
            Expect(0, notice=r"declared 60 fps but delivered", new_files=("rec.mp4",)),
            *REC,
            "--frames",
            "30",
            check=duration_near("rec.mp4", 29 / 15, 0.5),
        ),
    ),
    Case("disk-full", 16, "output on a 96 kB filesystem", disk_full, quick=True),
    Case("ctrl-c", 17, "SIGINT mid-conversion", interrupted(signal.SIGINT, 130, r"interrupted \(Ctrl-C\)")),
    Case(
        "sigterm",
        17,
        "SIGTERM mid-conversion (kill, docker stop)",
        interrupted(signal.SIGTERM, 143, r"(SIGTERM)"),
        quick=True,
    ),
    Case("output-is-input", 18, "-o names the source", output_refused("clip.mp4", r"is the input file"), quick=True),
    Case(
        "output-missing-folder",
        18,
        "-o into a folder that does not exist",
        output_refused("missing/out.mp4", r"does not exist"),
        quick=True,
    ),
    Case(
        "output-parent-is-file",
        18,
        "-o under a regular file",
        output_refused("notes.txt/out.mp4", r"not a folder|is a file", lambda f: (f / "notes.txt").write_text("x")),
    ),
    Case(
        "output-under-proc",
        18,
        "-o /proc/out.mp4 (unwritable even for root)",
        output_refused("/proc/stylecam-out.mp4", r"not writable|cannot (create|write)"),
        quick=True,
    ),
    Case("output-readonly-fs", 18, "-o on a read-only filesystem", readonly_fs),
    Case(
        "codec-missing",
        19,
        "--codec that this FFmpeg lacks",
        lambda f: Invocation(
            run_args(f, clip(f, frames=3), "out.mp4", "--codec", "libnosuch264"),
            Expect(2, r"--codec libnosuch264", r"encoders that work: \w+"),
        ),
    ),
    Case(
        "camera-resolution-change",
        26,
        "camera switches 160x120 -> 320x240 mid-recording",
        camera(
            FAKE_CAMERA,
            [{"after_frames": 15, "camera": "0", "resize": [320, 240]}],
            Expect(0, notice=r"frame size changed", new_files=("rec.mp4",)),
            *REC,
            "--frames",
            "40",
            check=video_size("rec.mp4", 160, 120),
        ),
    ),
)

"""The video commands' --threads (the thread budget) and live's pacing of files (--no-pace)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from stylecam.cli import build_parser, main
from stylecam.errors import UsageError
from stylecam.runtime.cli.options import runtime_config
from stylecam.runtime.cli.stream import plays_in_real_time
from stylecam.runtime.config import parse_smoothing, plan_threads, usable_cores
from tests.runtime.clips import write_clip

FILE = SimpleNamespace(live=False)
CAMERA = SimpleNamespace(live=True)


def _args(command: str, *extra: str) -> object:
    return build_parser(command).parse_args(["--model", "m.onnx", *extra])


@pytest.mark.parametrize("command", ["live", "run"])
def test_threads_default_to_the_usable_cores_and_can_be_set(command: str) -> None:
    assert runtime_config(_args(command)).threads == usable_cores()
    config = runtime_config(_args(command, "--threads", "2"))
    assert config.threads == 2 and config.thread_budget == plan_threads(2)
    assert runtime_config(_args(command, "--threads", "0")).thread_budget is None  # every library's default


def test_still_images_leave_onnx_runtime_its_own_threads() -> None:
    args = build_parser("image").parse_args(["photo.jpg", "--model", "m.onnx"])
    assert runtime_config(args).threads == 0 and runtime_config(args).thread_budget is None


def test_convert_with_a_thread_budget(tmp_path: Path, conv_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clip = write_clip(tmp_path / "clip.mp4", frames=8, fps=10)
    out = tmp_path / "out.mp4"
    assert main(["convert", str(clip), "-o", str(out), "--model", str(conv_model), "--threads", "1", "-q"]) == 0
    assert capsys.readouterr().out.startswith("stylecam: 8 frames in")
    assert main(["convert", str(clip), "-o", str(out), "--model", str(conv_model), "--threads", "-1", "-q"]) == 2
    assert "--threads must be between 0 and 1024" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "plan", "source", "paced"),
    [
        ((), SimpleNamespace(kind="window", preview=False), FILE, True),
        (("-o", "rec.mp4"), SimpleNamespace(kind="video", preview=True), FILE, True),
        (("--no-pace",), SimpleNamespace(kind="window", preview=False), FILE, False),
        (("--no-window",), SimpleNamespace(kind="none", preview=False), FILE, False),
        (("--no-window", "--virtual-camera"), SimpleNamespace(kind="none", preview=False), FILE, True),
        ((), SimpleNamespace(kind="window", preview=False), CAMERA, False),  # cameras pace themselves
    ],
)
def test_live_plays_a_watched_file_at_its_frame_rate(
    options: tuple[str, ...], plan: object, source: object, paced: bool
) -> None:
    assert plays_in_real_time(_args("live", *options), source, plan) is paced  # type: ignore[arg-type]


def test_convert_never_paces() -> None:
    args = build_parser("convert").parse_args(["in.mp4", "--model", "m.onnx"])
    assert not plays_in_real_time(args, FILE, SimpleNamespace(kind="video", preview=False))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("flow", ("flow", 0.4, "fast", 320)),
        ("flow:0.3", ("flow", 0.3, "fast", 320)),
        ("flow,preset=ultrafast,width=256", ("flow", 0.4, "ultrafast", 256)),
        ("flow:0.5,width=160", ("flow", 0.5, "fast", 160)),
        ("none", ("none", 1.0, "fast", 320)),
    ],
)
def test_smoothing_specs(text: str, expected: tuple[str, float, str, int]) -> None:
    config = parse_smoothing(text)
    assert (config.mode, config.alpha, config.flow_preset, config.flow_width) == expected


def test_flow_check_specs() -> None:
    default = parse_smoothing("flow")
    assert (default.flow_check, default.flow_every, default.photometric_tolerance) == ("one-way", 1, 25.0)
    config = parse_smoothing("flow,check=two-way,every=2,tolerance=30")
    assert (config.flow_check, config.flow_every, config.photometric_tolerance) == ("two-way", 2, 30.0)
    assert default.keep_texture == 0 and parse_smoothing("flow:0.6,texture=6").keep_texture == 6


def test_keep_texture_flag() -> None:
    from stylecam.runtime.cli.options import check_numbers, smoothing_config

    parser = build_parser("convert")
    plain = parser.parse_args(["in.mp4", "--model", "m.onnx"])
    assert smoothing_config(plain).keep_texture == 0
    default = parser.parse_args(["in.mp4", "--model", "m.onnx", "--keep-texture"])
    assert smoothing_config(default).keep_texture == 6
    wide = parser.parse_args(["in.mp4", "--model", "m.onnx", "--keep-texture", "10", "--smooth", "ema"])
    assert (smoothing_config(wide).mode, smoothing_config(wide).keep_texture) == ("ema", 10)
    bad = parser.parse_args(["in.mp4", "--model", "m.onnx", "--keep-texture", "40"])
    with pytest.raises(UsageError, match="--keep-texture must be between 0 and 32"):
        check_numbers(bad)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("flow:x", "must be a number"),
        ("flow,speed=9", "KEY=VALUE with KEY one of preset, width"),
        ("flow,width=wide", "whole number"),
        ("flow,preset=slow", "ultrafast, fast, medium"),
        ("flow,width=8", "flow_width"),
        ("flow,check=three-way", "one-way, two-way"),
        ("flow,every=9", "flow_every"),
        ("flow,tolerance=0", "photometric_tolerance"),
    ],
)
def test_bad_smoothing_specs(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_smoothing(text)


def _x264_subme(path: Path) -> int:
    """x264 writes its settings into the stream: subme=2 is veryfast, 7 medium, 1 superfast."""
    data = path.read_bytes()
    at = data.index(b"subme=") + len(b"subme=")
    return int(data[at : data.index(b" ", at)])


def test_convert_with_a_faster_encoder_preset(tmp_path: Path, conv_model: Path) -> None:
    clip = write_clip(tmp_path / "clip.mp4", frames=6, fps=10)
    out = tmp_path / "out.mp4"
    command = ["convert", str(clip), "-o", str(out), "--model", str(conv_model), "-q"]
    assert main([*command, "--preset", "superfast", "--threads", "8"]) == 0
    assert _x264_subme(out) == 1  # the user's preset wins over the budget's


@pytest.mark.parametrize(("threads", "subme"), [("2", 2), ("4", 2), ("8", 7), ("0", 7)])
def test_the_default_encoder_preset_follows_the_machine(
    tmp_path: Path, conv_model: Path, threads: str, subme: int
) -> None:
    """Up to 4 cores convert encodes veryfast (medium made the encoder the slowest stage), else medium."""
    clip = write_clip(tmp_path / "clip.mp4", frames=6, fps=10)
    out = tmp_path / "out.mp4"
    assert main(["convert", str(clip), "-o", str(out), "--model", str(conv_model), "--threads", threads, "-q"]) == 0
    assert _x264_subme(out) == subme

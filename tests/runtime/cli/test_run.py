"""`stylecam run` end to end on tiny files: images, video with audio, cameras, and every refusal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from stylecam.cli import main
from stylecam.runtime.inference.stylizer import Stylizer
from stylecam.runtime.media import encoders, webcam
from stylecam.runtime.media.synthetic import SyntheticCamera, SyntheticCameraBus
from tests.conftest import ctrl_c_like_a_terminal, make_photo
from tests.runtime.clips import decode_all, pattern, stream_seconds, write_clip


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return write_clip(tmp_path / "clip.mp4", frames=12, fps=10, audio="aac")


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("stylecam: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_image_in_image_out(tmp_path: Path, invert_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    photo = tmp_path / "photo.png"
    rgba = np.dstack([make_photo(48, 64), np.linspace(0, 255, 48 * 64, dtype=np.uint8).reshape(48, 64)])
    cv2.imwrite(str(photo), rgba)
    out = tmp_path / "out.png"
    assert main(["run", "--model", str(invert_model), "--source", str(photo), "-o", str(out), "-q"]) == 0
    written = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(written[..., :3], 255 - rgba[..., :3]) and np.array_equal(written[..., 3], rgba[..., 3])
    assert "stylecam: 1 frame in" in capsys.readouterr().out


def test_video_with_audio(tmp_path: Path, clip: Path, invert_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.mp4"
    assert main(["run", "--model", str(invert_model), "--source", str(clip), "-o", str(out), "--smooth", "none"]) == 0
    frames = decode_all(out)
    assert len(frames) == 12
    assert np.abs(frames[0].astype(int) - (255 - pattern(48, 64, 0).astype(int))).mean() < 12
    assert stream_seconds(out, "audio") == pytest.approx(stream_seconds(clip, "audio"), abs=0.02)
    assert "stylecam: 12 frames in" in capsys.readouterr().out


def test_summary_line_names_frames_audio_and_output(
    tmp_path: Path, clip: Path, invert_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.mkv"
    assert (
        main(["run", "--model", str(invert_model), "--source", str(clip), "-o", str(out), "-q", "--smooth", "ema"]) == 0
    )
    line = capsys.readouterr().out.strip()
    assert line.startswith("stylecam: 12 frames in") and line.endswith(f"-> {out}")
    assert "audio aac, copied unchanged" in line


def test_file_without_output_writes_beside_it_and_never_overwrites(
    clip: Path, invert_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for expected in ("clip.invert.mp4", "clip.invert-1.mp4"):
        assert main(["run", "--model", str(invert_model), "--source", str(clip), "-q", "--frames", "3"]) == 0
        assert capsys.readouterr().out.strip().endswith(str(clip.parent / expected))
    assert len(decode_all(clip.parent / "clip.invert-1.mp4")) == 3


def test_no_audio_flag_and_frames_limit(tmp_path: Path, clip: Path, invert_model: Path) -> None:
    out = tmp_path / "out.mp4"
    assert (
        main(
            [
                "run",
                "--model",
                str(invert_model),
                "--source",
                str(clip),
                "-o",
                str(out),
                "-q",
                "--no-audio",
                "--frames",
                "5",
            ]
        )
        == 0
    )
    with av.open(str(out)) as container:
        assert [s.type for s in container.streams] == ["video"]
        assert sum(1 for _ in container.decode(video=0)) == 5


def test_still_from_a_video(tmp_path: Path, clip: Path, invert_model: Path) -> None:
    out = tmp_path / "still.png"
    assert main(["run", "--model", str(invert_model), "--source", str(clip), "-o", str(out), "-q"]) == 0
    assert cv2.imread(str(out)).shape == (48, 64, 3)


@pytest.fixture
def camera(monkeypatch: pytest.MonkeyPatch) -> SyntheticCamera:
    device = SyntheticCamera(width=64, height=48, fps=60, declared_fps=30)
    monkeypatch.setattr(webcam, "default_capture_factory", SyntheticCameraBus({0: device}).open)
    return device


def test_camera_recorded_to_a_file(tmp_path: Path, invert_model: Path, camera: SyntheticCamera) -> None:
    out = tmp_path / "rec.mp4"
    assert main(["run", "--model", str(invert_model), "--source", "0", "-o", str(out), "--frames", "8", "-q"]) == 0
    assert len(decode_all(out)) == 8
    assert stream_seconds(out, "video") < 2.0  # real capture times, not 8 frames at a made-up rate


def test_camera_without_window_or_output_is_a_throughput_run(
    invert_model: Path, camera: SyntheticCamera, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--model", str(invert_model), "--no-window", "--frames", "5", "-q"]) == 0
    assert capsys.readouterr().out.strip().endswith("-> nowhere")


def test_headless_machine_is_refused_before_the_camera_opens(
    invert_model: Path, camera: SyntheticCamera, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("stylecam.runtime.live.window.sys.platform", "linux")
    assert main(["--model", str(invert_model)]) == 2
    assert "--output out.mp4, or add --no-window" in _error_line(capsys)
    assert camera.opens == 0


def test_wrong_camera_lists_the_working_ones(
    invert_model: Path, camera: SyntheticCamera, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--model", str(invert_model), "--source", "3", "--no-window"]) == 3
    line = _error_line(capsys)
    assert "camera 3 cannot be opened" in line and "cameras that work: 0 (e.g. --source 0)" in line


def test_missing_encoder_falls_back_and_says_so(
    tmp_path: Path, clip: Path, invert_model: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = encoders.encoder_available
    monkeypatch.setattr(encoders, "encoder_available", lambda name: name != "libx264" and real(name))
    out = tmp_path / "out.mp4"
    assert main(["run", "--model", str(invert_model), "--source", str(clip), "-o", str(out), "--smooth", "none"]) == 0
    err = capsys.readouterr().err
    assert "libx264 is unusable: it is not in this FFmpeg build" in err and "using mpeg4 instead" in err
    with av.open(str(out)) as container:
        assert container.streams.video[0].codec_context.name == "mpeg4"


def test_ctrl_c_mid_conversion_keeps_a_partial_and_leaves_the_target(
    tmp_path: Path, clip: Path, invert_model: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = {"n": 0}
    real_call = Stylizer.__call__

    def interrupted(self: Stylizer, frame: np.ndarray) -> np.ndarray:
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt  # what Ctrl-C raises on the main thread
        return real_call(self, frame)

    monkeypatch.setattr(Stylizer, "__call__", interrupted)
    out = tmp_path / "out.mp4"
    before = clip.read_bytes()
    assert main(["run", "--model", str(invert_model), "--source", str(clip), "-o", str(out), "--smooth", "none"]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "kept the part written so far as" in err
    assert not out.exists() and clip.read_bytes() == before
    assert 1 <= len(decode_all(tmp_path / "out.partial.mp4")) <= 5
    assert sorted(p.name for p in tmp_path.iterdir() if ".tmp" in p.name) == []


def _bad_source(tmp_path: Path, clip: Path, kind: str) -> Path:
    path = tmp_path / "bad.mp4"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "png-named-mp4":
        path.write_bytes(cv2.imencode(".png", make_photo(8, 8))[1].tobytes())
    elif kind == "truncated":
        path.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    return path


@pytest.mark.parametrize(
    ("kind", "code", "message"),
    [
        ("empty", 3, "is empty (0 bytes)"),
        ("png-named-mp4", 3, "is a PNG image, not a video"),
        ("truncated", 3, "is truncated"),
    ],
)
def test_bad_sources_fail_cleanly(
    tmp_path: Path,
    clip: Path,
    invert_model: Path,
    capsys: pytest.CaptureFixture[str],
    kind: str,
    code: int,
    message: str,
) -> None:
    source = _bad_source(tmp_path, clip, kind)
    before = source.read_bytes()
    out = tmp_path / "out.mp4"
    assert main(["run", "--model", str(invert_model), "--source", str(source), "-o", str(out)]) == code
    assert message in _error_line(capsys)
    assert source.read_bytes() == before and not out.exists()


@pytest.mark.parametrize(
    ("output", "code", "message"),
    [
        ("clip.mp4", 4, "is the input file"),
        ("nowhere/out.mp4", 4, "does not exist; create it first"),
        ("out.xyz", 2, "cannot tell what to write"),
        ("out.gif", 2, "cannot tell what to write"),
    ],
)
def test_bad_outputs_are_refused_before_work(
    tmp_path: Path,
    clip: Path,
    invert_model: Path,
    capsys: pytest.CaptureFixture[str],
    output: str,
    code: int,
    message: str,
) -> None:
    before = clip.read_bytes()
    assert main(["run", "--model", str(invert_model), "--source", str(clip), "-o", str(tmp_path / output)]) == code
    assert message in _error_line(capsys) and clip.read_bytes() == before


def test_unwritable_output_folder_is_refused(
    tmp_path: Path, clip: Path, invert_model: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Faked through os.access: the suite runs as root in CI, where chmod does not stop writes.
    folder = tmp_path / "ro"
    folder.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == folder else real_access(p, mode))
    assert main(["run", "--model", str(invert_model), "--source", str(clip), "-o", str(folder / "out.mp4")]) == 4
    assert "is not writable" in _error_line(capsys)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--model", "no_such_style"], 2, "unknown model 'no_such_style'; bundled models: "),
        (["--model", "missing/model.onnx"], 3, "model missing/model.onnx does not exist"),
        (["--frames", "0"], 2, "--frames must be at least 1, got 0"),
        (["--max-size", "4"], 2, "--max-size must be between 16 and 65536"),
        (["--codec", "libnothing", "-o", "OUT"], 2, "--codec libnothing cannot write .mp4 files here"),
        (["--width", "640"], 2, "--width only apply to cameras"),
    ],
)
def test_bad_options_are_one_line_errors(
    tmp_path: Path,
    clip: Path,
    invert_model: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    code: int,
    message: str,
) -> None:
    argv = ["run", "--source", str(clip), *(a.replace("OUT", str(tmp_path / "o.mp4")) for a in args)]
    if "--model" not in args:
        argv += ["--model", str(invert_model)]
    assert main(argv) == code
    assert message in _error_line(capsys)
    assert not (tmp_path / "o.mp4").exists()


def test_frames_above_the_pixel_cap_keep_their_size(
    tmp_path: Path, invert_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = write_clip(tmp_path / "big.mp4", width=160, height=96, frames=3)
    out = tmp_path / "out.mp4"
    assert (
        main(["run", "--model", str(invert_model), "--source", str(big), "-o", str(out), "--max-pixels", "4096"]) == 0
    )
    err = capsys.readouterr().err
    assert "exceed max_pixels" in err and "upscaling back" in err
    assert [f.shape for f in decode_all(out)] == [(96, 160, 3)] * 3


def test_max_size_shrinks_the_output(tmp_path: Path, clip: Path, invert_model: Path) -> None:
    out = tmp_path / "small.mp4"
    assert (
        main(["run", "--model", str(invert_model), "--source", str(clip), "-o", str(out), "--max-size", "32", "-q"])
        == 0
    )
    assert decode_all(out)[0].shape == (24, 32, 3)


CAMERA_RUN = """
import faulthandler, signal, sys
faulthandler.register(signal.SIGUSR1)  # the test asks for every thread's stack if Ctrl-C seems lost
from stylecam.cli import main
from stylecam.runtime.media import webcam
from stylecam.runtime.media.synthetic import SyntheticCamera, SyntheticCameraBus
webcam.default_capture_factory = SyntheticCameraBus({0: SyntheticCamera(64, 48, fps=30)}).open
print("started", flush=True)
sys.exit(main(sys.argv[1:]))
"""


def test_real_ctrl_c_while_recording(tmp_path: Path, invert_model: Path) -> None:
    """SIGINT to a real process recording an endless camera: exit 130, target untouched, partial plays."""
    out = tmp_path / "rec.mp4"
    args = ["run", "--model", str(invert_model), "--source", "0", "-o", str(out), "--smooth", "none", "-q"]
    process = subprocess.Popen(
        [sys.executable, "-c", CAMERA_RUN, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ctrl_c_like_a_terminal,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "started"
    deadline = time.monotonic() + 30
    while not list(tmp_path.glob(".rec.*.tmp.mp4")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.5)  # let some frames through
    recording = bool(list(tmp_path.glob(".rec.*.tmp.mp4")))
    process.send_signal(signal.SIGINT)
    try:
        _, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGUSR1)  # faulthandler: every thread's stack on stderr
        time.sleep(1.0)
        process.kill()
        _, err = process.communicate()
        pytest.fail(f"Ctrl-C did not stop the recording within 60 s (recording had started: {recording}):\n{err}")
    assert process.returncode == 130, err
    assert "interrupted (Ctrl-C)" in err and "Traceback" not in err
    assert not out.exists()
    assert len(decode_all(tmp_path / "rec.partial.mp4")) >= 5


def test_no_runtime_module_imports_torch() -> None:
    """Every module of stylecam.runtime, and a whole `stylecam run`, stay torch-free."""
    code = (
        "import importlib, pkgutil, sys\n"
        "import stylecam.runtime as package\n"
        "for module in pkgutil.iter_modules(package.__path__):\n"
        "    importlib.import_module(f'stylecam.runtime.{module.name}')\n"
        "print('torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_a_whole_run_never_imports_torch(tmp_path: Path, clip: Path, invert_model: Path) -> None:
    code = (
        "import sys\nfrom stylecam.cli import main\n"
        f"code = main(['run', '--model', {str(invert_model)!r}, '--source', {str(clip)!r}, "
        f"'-o', {str(tmp_path / 'o.mp4')!r}, '-q'])\n"
        "print(code, 'torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "0 False"

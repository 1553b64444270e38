"""`stylecam live`, `convert` and `image` end to end on tiny files, and what they refuse.

The issue's bars: a 162x90, 40-frame clip with audio converts with --smooth flow keeping its frame
count, size and audio; an odd-sized image keeps its size (and its alpha); `live --source FILE
--no-window` ends cleanly; the provider actually used is printed.
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from stylecam.cli import main
from stylecam.runtime.inference.stylizer import Stylizer
from stylecam.runtime.live import window
from tests.conftest import make_photo
from tests.runtime.clips import decode_all, gradient, stream_seconds, write_clip
from tests.runtime.live.test_window import Gui
from tests.runtime.onnx_builders import make_contract_model, make_legacy_float_model


@pytest.fixture(scope="module")
def bar_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bar")
    return write_clip(folder / "clip.mp4", width=162, height=90, frames=40, fps=20, audio="aac", painter=gradient)


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return write_clip(tmp_path / "clip.mp4", frames=12, fps=10, audio="aac", painter=gradient)


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("stylecam: error:")]
    assert lines and "Traceback" not in err, err
    return lines[0]


def test_convert_keeps_frames_size_and_audio_with_flow_smoothing(
    tmp_path: Path, bar_clip: Path, conv_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.mp4"
    assert main(["convert", str(bar_clip), "-o", str(out), "--model", str(conv_model), "--smooth", "flow", "-q"]) == 0
    frames = decode_all(out)
    assert len(frames) == 40 and {f.shape for f in frames} == {(90, 162, 3)}
    assert stream_seconds(out, "audio") == pytest.approx(stream_seconds(bar_clip, "audio"), abs=0.03)
    line = capsys.readouterr().out.strip()
    assert line.startswith("stylecam: 40 frames in") and "on CPUExecutionProvider" in line


def test_live_on_a_file_without_window_ends_cleanly_and_names_the_provider(
    bar_clip: Path, invert_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["live", "--model", str(invert_model), "--source", str(bar_clip), "--no-window", "-q"]) == 0
    assert capsys.readouterr().out.strip().endswith("on CPUExecutionProvider -> nowhere")


def test_the_default_command_is_live(bar_clip: Path, invert_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--model", str(invert_model), "--source", str(bar_clip), "--no-window", "--frames", "3", "-q"]) == 0
    assert capsys.readouterr().out.startswith("stylecam: 3 frames in")


def test_live_window_switches_styles_while_recording(
    tmp_path: Path, clip: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    invert = make_contract_model(model_dir / "first_invert.onnx", op="invert")
    identity = make_contract_model(model_dir / "second_identity.onnx", op="identity")
    gui = Gui(["n"])
    real_wait = gui.waitKey

    def wait_for_loads(delay: int) -> int:  # deterministic: the second model is ready by the next frame
        for thread in threading.enumerate():
            if thread.name.startswith("stylecam-load"):
                thread.join(timeout=30)
        return real_wait(delay)

    gui.waitKey = wait_for_loads  # type: ignore[method-assign]
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setattr(window, "default_gui", gui)
    out = tmp_path / "rec.mp4"
    argv = ["live", "--model", str(invert), "--model", str(identity), "--source", str(clip), "-o", str(out)]
    assert main([*argv, "--smooth", "none", "-q"]) == 0
    recorded, source = decode_all(out), decode_all(clip)
    assert len(recorded) == len(source) == len(gui.shown) == 12
    assert np.abs(recorded[0].astype(int) - (255 - source[0].astype(int))).mean() < 4  # style 1: inverted
    assert np.abs(recorded[-1].astype(int) - source[-1].astype(int)).mean() < 4  # switched to style 2
    assert stream_seconds(out, "audio") == pytest.approx(stream_seconds(clip, "audio"), abs=0.03)
    assert capsys.readouterr().out.strip().endswith(f"-> {out} (and a window)")


@pytest.mark.parametrize("command", ["convert", "run", "live", "image"])
def test_an_existing_output_is_refused_before_work_unless_overwrite(
    tmp_path: Path,
    clip: Path,
    invert_model: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), make_photo(20, 30))
    source, out = (photo, tmp_path / "out.png") if command == "image" else (clip, tmp_path / "out.mp4")
    out.write_bytes(b"precious")
    argv = [command, *([str(source)] if command in ("convert", "image") else ["--source", str(source)])]
    argv += ["-o", str(out), "--model", str(invert_model), *(["--no-window"] if command == "live" else [])]
    loads: list[Path] = []
    real_init = Stylizer.__init__
    monkeypatch.setattr(Stylizer, "__init__", lambda self, path, *a: loads.append(path) or real_init(self, path, *a))
    assert main(argv) == 4
    assert _error(capsys) == f"stylecam: error: {out} exists; pass --overwrite to replace it"
    assert out.read_bytes() == b"precious" and loads == []
    assert main([*argv, "--overwrite", "-q"]) == 0
    assert out.read_bytes() != b"precious" and loads == [invert_model]


@pytest.mark.parametrize(
    ("source", "message"),
    [("0", "is a camera; record it with: stylecam live --source 0"), ("photo.png", "stylecam image photo.png")],
)
def test_convert_points_cameras_and_images_to_the_right_command(
    invert_model: Path, capsys: pytest.CaptureFixture[str], source: str, message: str
) -> None:
    assert main(["convert", source, "--model", str(invert_model), "-o", "x.mp4"]) == 2
    assert message in _error(capsys)


def test_convert_an_image_sequence_at_a_given_rate(tmp_path: Path, invert_model: Path) -> None:
    (tmp_path / "frames").mkdir()
    for index in range(6):
        cv2.imwrite(str(tmp_path / "frames" / f"f{index}.png"), make_photo(24, 32, seed=index))
    out = tmp_path / "seq.mp4"
    pattern = str(tmp_path / "frames" / "f*.png")
    assert main(["convert", pattern, "-o", str(out), "--fps", "12", "--model", str(invert_model), "-q"]) == 0
    assert len(decode_all(out)) == 6 and stream_seconds(out, "video") == pytest.approx(0.5, abs=0.01)


def _rgba(tmp_path: Path, name: str, height: int, width: int) -> tuple[Path, np.ndarray]:
    rgba = np.dstack([make_photo(height, width), np.linspace(0, 255, height * width).reshape(height, width)])
    path = tmp_path / name
    cv2.imwrite(str(path), rgba.astype(np.uint8))
    return path, rgba.astype(np.uint8)


def test_an_odd_sized_image_keeps_its_size_and_alpha(tmp_path: Path, conv_model: Path) -> None:
    photo, rgba = _rgba(tmp_path, "odd.png", 37, 53)
    out = tmp_path / "painted.png"
    assert main(["image", str(photo), "-o", str(out), "--model", str(conv_model), "-q"]) == 0
    written = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert written.shape == (37, 53, 4) and np.array_equal(written[..., 3], rgba[..., 3])


def test_a_folder_goes_to_a_folder_and_a_bad_file_is_skipped_with_its_name(
    tmp_path: Path, invert_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    _rgba(photos, "a.png", 21, 33)
    cv2.imwrite(str(photos / "b.jpg"), make_photo(40, 30))
    (photos / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n cut off")
    out = tmp_path / "painted"
    assert main(["image", str(photos), "-o", str(out), "--model", str(invert_model), "-q"]) == 3
    captured = capsys.readouterr()
    assert "broken.png is a damaged or cut-off PNG image" in captured.err and "1 failed" in captured.err
    assert captured.out.startswith("stylecam: 2 of 3 images in")
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.jpg"]
    assert cv2.imread(str(out / "a.png"), cv2.IMREAD_UNCHANGED).shape == (21, 33, 4)


def test_folder_without_output_writes_a_new_folder_beside_it(tmp_path: Path, invert_model: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    cv2.imwrite(str(photos / "a.png"), make_photo(16, 16))
    for expected in ("photos.invert", "photos.invert-1"):
        assert main(["image", str(photos), "--model", str(invert_model), "-q"]) == 0
        assert [p.name for p in (tmp_path / expected).iterdir()] == ["a.png"]
    assert [p.name for p in photos.iterdir()] == ["a.png"]  # nothing written among the inputs


@pytest.mark.parametrize(
    ("case", "code", "message"),
    [
        ("same-names", 2, "would both be written as"),
        ("file-for-several", 2, "several images need a folder"),
        ("into-its-own-folder", 4, "is the input file"),
        ("missing", 3, "does not exist"),
    ],
)
def test_image_refusals(
    tmp_path: Path, invert_model: Path, capsys: pytest.CaptureFixture[str], case: str, code: int, message: str
) -> None:
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        cv2.imwrite(str(tmp_path / folder / "a.png"), make_photo(16, 16))
    before = (tmp_path / "x" / "a.png").read_bytes()
    inputs, output = {
        "same-names": ([tmp_path / "x" / "a.png", tmp_path / "y" / "a.png"], tmp_path / "out"),
        "file-for-several": ([tmp_path / "x", tmp_path / "y" / "a.png"], tmp_path / "out.png"),
        "into-its-own-folder": ([tmp_path / "x"], tmp_path / "x"),
        "missing": ([tmp_path / "nope.png"], tmp_path / "out.png"),
    }[case]
    argv = ["image", *map(str, inputs), "-o", str(output), "--model", str(invert_model), "--overwrite"]
    assert main(argv) == code
    assert message in _error(capsys)
    assert (tmp_path / "x" / "a.png").read_bytes() == before


@pytest.mark.parametrize(
    ("options", "check"),
    [
        (["--strength", "0.5"], lambda src, out: np.all(np.abs(out.astype(int) - 127.5) <= 0.5)),
        (["--strength", "0"], lambda src, out: np.array_equal(out, src)),
        (["--scale", "0.5"], lambda src, out: out.shape == src.shape),
        (["--size", "16x24"], lambda src, out: out.shape == src.shape),
    ],
    ids=["half", "none", "scale", "size"],
)
def test_look_options_on_an_image(tmp_path: Path, invert_model: Path, options: list[str], check: object) -> None:
    photo = tmp_path / "photo.png"
    source = make_photo(30, 46)
    cv2.imwrite(str(photo), source)
    out = tmp_path / "out.png"
    assert main(["image", str(photo), "-o", str(out), "--model", str(invert_model), *options, "-q"]) == 0
    assert check(source, cv2.imread(str(out)))  # type: ignore[operator]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--smooth-strength", "0.5", "--smooth-alpha", "0.5"], "give one of them"),
        (["--smooth-strength", "1.5"], "--smooth-strength must be between 0 and 1"),
        (["--strength", "-0.1"], "--strength must be between 0 and 1"),
        (["--scale", "9"], "--scale must be between 0.1 and 4"),
        (["--size", "8x8"], "--size sides must be between 16 and 16384"),
    ],
)
def test_control_values_are_checked(
    clip: Path, invert_model: Path, capsys: pytest.CaptureFixture[str], options: list[str], message: str
) -> None:
    assert main(["convert", str(clip), "--model", str(invert_model), *options]) == 2
    assert message in _error(capsys)


def test_a_fixed_size_model_without_metadata_runs_on_any_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # ONNX model zoo / pytorch/examples --export_onnx style: float NCHW RGB 0-255, fixed 1x3xHxW, no metadata.
    model = make_legacy_float_model(tmp_path / "zoo.onnx", gains=(0.5, 0.5, 0.5), shape=(1, 3, 16, 16))
    photo = tmp_path / "odd.jpg"
    cv2.imwrite(str(photo), np.full((37, 53, 3), 200, np.uint8))
    out = tmp_path / "out.png"
    assert main(["image", str(photo), "-o", str(out), "--model", str(model)]) == 0
    written = cv2.imread(str(out))
    assert written.shape == (37, 53, 3) and np.abs(written.astype(int) - 100).max() <= 2
    err = capsys.readouterr().err
    assert "zoo.onnx has no stylecam metadata; running it as a float NCHW RGB 0-255 model" in err
    assert "the model only takes 16x16 frames: resizing to it and back" in err


def test_model_all_means_every_bundled_style(
    tmp_path: Path, clip: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from stylecam.runtime.cli import stream as cli_stream
    from stylecam.runtime.inference import models

    monkeypatch.setattr(models, "models_dir", lambda: tmp_path)
    assert main(["live", "--model", "all", "--source", str(clip), "--no-window"]) == 2
    assert "--model all: no style models are bundled" in _error(capsys)
    for name in ("wave", "starry"):
        make_contract_model(tmp_path / f"{name}.onnx", op="invert")
    assert [p.name for p in cli_stream.resolve_models(["all", str(tmp_path / "wave.onnx")])] == [
        "starry.onnx",
        "wave.onnx",
    ]

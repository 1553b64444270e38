"""``stylecam demo``: the bundled clip painted by a bundled style, audio kept, plus a side-by-side image."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from stylecam.cli import main
from stylecam.runtime.inference import models
from stylecam.runtime.pipeline import demo
from stylecam.runtime.pipeline.demo import sheet_indices
from tests.runtime.bundles import make_bundle
from tests.runtime.clips import decode_all, stream_seconds, write_clip


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A two-style bundle and a 12-frame clip with a tone standing in for the packaged ones."""
    folder = make_bundle(tmp_path / "models")
    clip = write_clip(tmp_path / "clip.mp4", frames=12, audio="aac")
    monkeypatch.setattr(models, "models_dir", lambda: folder)
    monkeypatch.setattr(demo, "demo_clip", lambda: clip)
    return tmp_path


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


def test_default_demo_writes_video_with_audio_and_side_by_side(setup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = setup / "out"
    assert main(["demo", "--folder", str(out), "-q"]) == 0
    video, sheet = out / "demo_starry_night.mp4", out / "demo_starry_night_side_by_side.jpg"
    printed = capsys.readouterr().out
    assert f"video:        {video.resolve()}" in printed and f"side by side: {sheet.resolve()}" in printed
    assert "starry_night (reference): 12 frames" in printed
    frames, source = decode_all(video), decode_all(setup / "clip.mp4")
    assert len(frames) == 12
    # the bundled model inverts: the first frame (nothing to smooth yet) is 255 - source, up to H.264 loss
    error = np.abs(frames[0].astype(int) - (255 - source[0].astype(int))).mean()
    assert error < 4, error
    assert stream_seconds(video, "audio") == pytest.approx(stream_seconds(setup / "clip.mp4", "audio"), abs=0.1)
    image = cv2.imread(str(sheet))
    assert image is not None and image.shape[0] > 3 * 100  # three rows of source | stylized


def test_style_by_alias_and_output_path(setup: Path) -> None:
    target = setup / "wave.mp4"
    assert main(["demo", "--style", "hokusai", "-o", str(target), "--smooth", "none", "-q"]) == 0
    assert len(decode_all(target)) == 12 and (setup / "wave_side_by_side.jpg").is_file()


def test_all_renders_every_style(setup: Path) -> None:
    out = setup / "all"
    assert main(["demo", "--all", "--folder", str(out), "-q", "--smooth", "ema"]) == 0
    assert sorted(p.name for p in out.glob("*.mp4")) == ["demo_great_wave.mp4", "demo_starry_night.mp4"]


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--style", "mosaic"], 2, "no bundled style 'mosaic'; choose one of: great_wave (wave, hokusai), starry"),
        (["--all", "--style", "wave"], 2, "--all renders every style into --folder; leave out --style and --output"),
        (["-o", "painted.png"], 2, "--output painted.png: the demo writes a video; end the name with .mp4"),
        (["--arch", "fast"], 2, "style 'starry_night' has no fast variant; it ships: reference"),
    ],
)
def test_bad_requests_fail_before_any_work(
    setup: Path, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    assert main(["demo", "--folder", str(setup / "out"), *argv]) == code
    assert _error(capsys).startswith(f"stylecam: error: {message}")
    assert not list((setup / "out").glob("*.mp4")) if (setup / "out").exists() else True


def test_nothing_bundled_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(models, "models_dir", lambda: tmp_path)
    assert main(["demo", "--folder", str(tmp_path / "out")]) == 2
    assert "no style models are bundled with this installation" in _error(capsys)


@pytest.mark.parametrize(("count", "expected"), [(118, {30, 59, 88}), (12, {3, 6, 9}), (None, {15, 30, 45})])
def test_sheet_frames_are_spread_over_the_clip(count: int | None, expected: set[int]) -> None:
    assert sheet_indices(count) == expected


def test_run_picks_a_bundled_variant_by_arch(setup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `stylecam run --model NAME --arch ...` goes through the same catalog; a path with --arch is refused
    out = setup / "one.png"
    cv2.imwrite(str(setup / "photo.png"), np.full((16, 20, 3), 40, np.uint8))
    argv = ["run", "--model", "starry", "--arch", "reference", "--source", str(setup / "photo.png"), "-o", str(out)]
    assert main([*argv, "-q"]) == 0
    assert (cv2.imread(str(out)) == 215).all()  # the bundled invert model: 255 - 40
    model = setup / "models" / "starry_night.onnx"
    assert main(["run", "--model", str(model), "--arch", "lite", "--source", str(setup / "photo.png")]) == 2
    assert "--arch picks a variant of a bundled style" in _error(capsys)


@pytest.mark.parametrize("command", ["image", "convert"])
def test_image_and_convert_pick_the_variant_like_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """A bundled name runs its lite network on a CPU; --arch reference picks the other one."""
    folder = make_bundle(tmp_path / "models", {"starry_night": ("reference", "lite")})
    monkeypatch.setattr(models, "models_dir", lambda: folder)
    if command == "image":
        source = tmp_path / "photo.png"
        cv2.imwrite(str(source), np.full((16, 20, 3), 40, np.uint8))
    else:
        source = write_clip(tmp_path / "clip.mp4", frames=4)
    for arch, loaded in ((None, "starry_night.lite.onnx"), ("reference", "starry_night.onnx")):
        out = tmp_path / f"out-{arch}{source.suffix}"
        argv = [command, str(source), "-o", str(out), "--model", "starry", "--provider", "cpu"]
        assert main([*argv, *(["--arch", arch] if arch else [])]) == 0
        assert f"loaded {loaded} on CPUExecutionProvider" in capsys.readouterr().err
    assert main([command, str(source), "-o", str(tmp_path / "x.png"), "--model", "starry", "--arch", "fast"]) == 2
    assert "has no fast variant" in _error(capsys)

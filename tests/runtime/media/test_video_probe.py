"""Probing: bad files are refused with a message naming what they are; good ones are described."""

from __future__ import annotations

import os
import shutil
import stat
from fractions import Fraction
from pathlib import Path

import pytest

from stylecam.errors import InputError, SourceError, StylecamError
from stylecam.runtime.media import video_probe as probe
from stylecam.runtime.media.timing import settle_timing
from stylecam.runtime.media.video_probe import probe_video
from tests.conftest import make_photo
from tests.runtime.clips import write_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_clip(tmp_path_factory.mktemp("probe") / "clip.mp4", frames=20, fps=10, audio="aac")


def test_describes_a_good_clip(clip: Path) -> None:
    info = probe_video(clip)
    assert (info.width, info.height, info.frame_count) == (64, 48, 20)
    assert info.fps == pytest.approx(10) and info.measured_fps == pytest.approx(10, rel=0.02)
    assert info.has_audio and info.audio_codec == "aac" and info.codec == "h264"
    assert info.bit_depth == 8 and not info.has_alpha and not info.variable_frame_rate
    assert info.duration == pytest.approx(2.0, abs=0.15)


def _bad_file(tmp_path: Path, kind: str, clip: Path) -> Path:
    path = tmp_path / "in.mp4"
    data = clip.read_bytes()
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "jpeg":
        import cv2

        path.write_bytes(cv2.imencode(".jpg", make_photo(16, 16))[1].tobytes())
    elif kind == "text":
        path.write_text("this is not a video\n")
    elif kind == "zip":
        shutil.make_archive(str(tmp_path / "a"), "zip", root_dir=clip.parent)
        path.write_bytes((tmp_path / "a.zip").read_bytes())
    elif kind == "no-moov":  # PyAV writes the index last: a copy cut short has none
        path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("empty", "is empty (0 bytes)"),
        ("jpeg", "is a JPEG image, not a video; to stylize it as an image"),
        ("text", "is a text file, not a video"),
        ("zip", "is a ZIP archive, not a video"),
        ("no-moov", "is truncated"),
    ],
)
def test_bad_files_are_refused_with_what_they_are(tmp_path: Path, clip: Path, kind: str, message: str) -> None:
    path = _bad_file(tmp_path, kind, clip)
    before = path.read_bytes()
    with pytest.raises(InputError, match="^" + str(path).replace(".", r"\.") if kind != "empty" else None) as exc:
        probe_video(path)
    assert message in str(exc.value) and "\n" not in str(exc.value)
    assert path.read_bytes() == before  # never modified


def test_file_cut_mid_frame_with_index_first(tmp_path: Path) -> None:
    full = write_clip(tmp_path / "full.mp4", frames=20, container_options={"movflags": "+faststart"})
    with open(full, "rb") as handle:
        assert b"moov" in handle.read(200)  # faststart: the index comes before the frames
    data = full.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.8)])
    with pytest.raises(InputError, match=r"truncated: it ends at byte \d+ inside its media data"):
        probe_video(cut)


def test_audio_only_file_has_no_video(tmp_path: Path) -> None:
    import av

    path = tmp_path / "sound.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        stream.layout = "mono"
        from tests.runtime.clips import _write_tone

        _write_tone(container, stream, 0.5)
    with pytest.raises(InputError, match="has no video stream"):
        probe_video(path)


def test_mkv_has_no_frame_count_so_progress_has_no_total(tmp_path: Path) -> None:
    info = probe_video(write_clip(tmp_path / "clip.mkv", frames=10))
    assert info.frame_count is None
    assert any("progress is shown without a total" in note for note in info.notes)


def test_variable_frame_rate_is_detected(tmp_path: Path) -> None:
    stamps = [0, 100, 150, 400, 420, 900, 1000, 1300]
    path = write_clip(tmp_path / "vfr.mp4", frames=len(stamps), pts=stamps, time_base=Fraction(1, 1000))
    info = probe_video(path)
    assert info.variable_frame_rate


def test_probe_timeout_is_a_clear_error(clip: Path) -> None:
    with pytest.raises(SourceError, match="did not finish within"):
        probe_video(clip, timeout=0.001)


def test_crash_in_the_probe_does_not_take_the_process_down(
    tmp_path: Path, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crasher = tmp_path / "crash.sh"
    crasher.write_text("#!/bin/sh\nkill -SEGV $$\n")
    crasher.chmod(crasher.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(probe.sys, "executable", str(crasher))
    with pytest.raises(InputError, match=r"FFmpeg crashed \(signal 11\)"):
        probe_video(clip)


def test_in_process_probe_matches_the_isolated_one(clip: Path) -> None:
    assert probe_video(clip, isolate=False) == probe_video(clip)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StylecamError, match="does not exist"):
        probe_video(tmp_path / "nope.mp4")


def test_unreadable_file(tmp_path: Path, clip: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Faked through os.access: the suite runs as root in CI, where chmod does not stop reads.
    path = tmp_path / "locked.mp4"
    shutil.copy(clip, path)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == path else real_access(p, mode))
    with pytest.raises(InputError, match="not readable"):
        probe_video(path)


@pytest.mark.parametrize(
    ("declared", "measured", "count", "duration", "variable", "fps", "total", "note"),
    [
        (25.0, 25.0, 100, 4.0, False, 25.0, 100, None),
        (None, 12.0, 48, 4.0, False, 12.0, 48, None),
        (90000.0, 30.0, 120, 4.0, False, 30.0, 120, "implausible"),
        (30.0, 15.0, 60, 4.0, False, 15.0, 60, "timestamps run at 15"),
        (30.0, None, None, 4.0, False, 30.0, None, "frame count unknown"),
        (30.0, 30.0, 1000, 4.0, False, 30.0, None, "does not match duration"),
        (None, None, 50, None, False, None, 50, "frame rate unknown"),
        (30.0, 22.0, 90, 4.0, True, 22.0, 90, "variable frame rate"),
    ],
)
def test_settle_timing(
    declared: float | None,
    measured: float | None,
    count: int | None,
    duration: float | None,
    variable: bool,
    fps: float | None,
    total: int | None,
    note: str | None,
) -> None:
    timing = settle_timing(declared, measured, count, duration, variable)
    assert timing.fps == fps and timing.frame_count == total
    if note is None:
        assert timing.notes == ()
    else:
        assert any(note in line for line in timing.notes)


def test_audio_stream_without_a_known_codec_counts_as_no_audio() -> None:
    """A damaged header can leave an audio stream FFmpeg has no codec for (found by fuzzing)."""
    from types import SimpleNamespace

    from stylecam.runtime.media.video_probe import _audio_codec

    unknown = SimpleNamespace(streams=SimpleNamespace(audio=[SimpleNamespace(codec_context=None)]))
    known = SimpleNamespace(streams=SimpleNamespace(audio=[SimpleNamespace(codec_context=SimpleNamespace(name="aac"))]))
    silent = SimpleNamespace(streams=SimpleNamespace(audio=[]))
    assert [_audio_codec(c) for c in (unknown, known, silent)] == ["", "aac", ""]

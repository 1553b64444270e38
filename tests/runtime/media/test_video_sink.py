"""VideoFileSink: same size out, timestamps and audio kept, nothing half-written on errors."""

from __future__ import annotations

import errno
import io
import logging
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from av.video.reformatter import Colorspace

from stylecam.errors import OutputError
from stylecam.runtime.media import video_sink
from stylecam.runtime.media.colour import EXACT
from stylecam.runtime.media.video_file import VideoFileSource
from stylecam.runtime.media.video_sink import VideoFileSink
from tests.runtime.clips import decode_all, frame_times, pattern, stream_seconds, write_clip


def _convert(
    source_path: Path, target: Path, *, limit: int | None = None, audio: bool = True, **options
) -> VideoFileSink:
    source = VideoFileSource(source_path)
    with VideoFileSink(
        target, source.info, audio_from=source_path if audio else None, inputs=[source_path], **options
    ) as sink:
        for frame in source:
            if limit is not None and frame.index >= limit:
                break
            sink.write(frame)
        else:
            sink.source_complete = True
    return sink


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp" in p.name)


@pytest.mark.parametrize(
    "size", [(64, 48), (62, 46), (65, 49), (33, 17)], ids=["mult16", "even-not-4", "odd", "tiny-odd"]
)
def test_any_size_comes_out_the_same_size_without_a_shift(tmp_path: Path, size: tuple[int, int]) -> None:
    width, height = size
    source = write_clip(
        tmp_path / "in.mkv", width=width, height=height, frames=3, codec="ffv1", pix_fmt="bgr0", options={}
    )
    out = tmp_path / "out.mp4"
    _convert(source, out, audio=False)
    frames = [f.image for f in VideoFileSource(out)]
    assert len(frames) == 3 and frames[0].shape == (height, width, 3)
    expected = pattern(height, width, 0).astype(int)
    error = np.abs(frames[0].astype(int) - expected).mean()
    shifted_x = np.abs(frames[0][:, 1:].astype(int) - expected[:, :-1]).mean()
    shifted_y = np.abs(frames[0][1:].astype(int) - expected[:-1]).mean()
    assert error < 4 and error < shifted_x / 4 and error < shifted_y / 4
    luma = frames[0].astype(float) @ [0.114, 0.587, 0.299]
    assert luma[height // 2, -1] > 200  # the white last column is still there (4:2:0 may tint it)


def test_variable_frame_rate_timestamps_are_carried_through(tmp_path: Path) -> None:
    stamps = [0, 40, 80, 200, 230, 500, 510, 900, 1000]
    source = write_clip(tmp_path / "vfr.mp4", frames=len(stamps), pts=stamps, time_base=Fraction(1, 1000))
    out = tmp_path / "out.mp4"
    _convert(source, out, audio=False)
    assert frame_times(out) == pytest.approx([s / 1000 for s in stamps], abs=2e-3)


def test_audio_is_copied_unchanged(tmp_path: Path) -> None:
    source = write_clip(tmp_path / "in.mp4", frames=20, fps=10, audio="aac")
    out = tmp_path / "out.mp4"
    sink = _convert(source, out)
    assert sink.audio is not None and sink.audio.copied
    with av.open(str(out)) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]
        assert container.streams.audio[0].codec_context.name == "aac"
    assert stream_seconds(out, "audio") == pytest.approx(stream_seconds(source, "audio"), abs=0.02)
    assert stream_seconds(out, "video") == pytest.approx(2.0, abs=0.11)


def test_audio_the_container_cannot_hold_is_converted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    source = write_clip(tmp_path / "in.mov", frames=10, fps=10, codec="mpeg4", audio="pcm_s16le", audio_seconds=1.0)
    out = tmp_path / "out.webm"
    with caplog.at_level(logging.WARNING):
        sink = _convert(source, out)
    assert sink.audio is not None and not sink.audio.copied
    assert "audio (pcm_s16le) cannot go into a webm file unchanged; converted to Opus" in caplog.text
    with av.open(str(out)) as container:
        assert container.streams.audio[0].codec_context.name == "opus"
    assert stream_seconds(out, "audio") == pytest.approx(1.0, abs=0.08)


def test_partial_conversion_cuts_the_audio_at_the_last_frame(tmp_path: Path) -> None:
    source = write_clip(tmp_path / "in.mp4", frames=30, fps=10, audio="aac")
    out = tmp_path / "out.mp4"
    _convert(source, out, limit=10)
    assert len(decode_all(out)) == 10
    assert stream_seconds(out, "audio") == pytest.approx(1.0, abs=0.15)


class _FullDisk(io.RawIOBase):
    """A file that fails with ENOSPC after ``limit`` bytes, like a disk filling up."""

    def __init__(self, path: Path, limit: int) -> None:
        self._file = open(path, "w+b")  # noqa: SIM115 (closed in close())
        self._limit = limit

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if self._file.tell() + len(data) > self._limit:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self._file.write(data)

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def close(self) -> None:
        self._file.close()
        super().close()


def test_disk_full_removes_the_partial_file_and_leaves_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_clip(
        tmp_path / "in.mkv",
        frames=30,
        codec="ffv1",
        options={},
        painter=lambda h, w, i: np.random.default_rng(i).integers(0, 256, (h, w, 3), dtype=np.uint8),
    )
    target = tmp_path / "out.mp4"
    target.write_bytes(b"the previous result")
    monkeypatch.setattr(
        video_sink, "_open_container", lambda path, muxer: av.open(_FullDisk(path, 20_000), "w", format=muxer)
    )
    with pytest.raises(OutputError, match=r"disk full while writing .*out\.mp4.*untouched"):
        _convert(source, target, audio=False, crf=0)
    assert target.read_bytes() == b"the previous result"
    assert _leftovers(tmp_path) == []


def test_ctrl_c_keeps_a_playable_partial_file_and_leaves_the_target(tmp_path: Path) -> None:
    source_path = write_clip(tmp_path / "in.mp4", frames=20, fps=10, audio="aac")
    target = tmp_path / "out.mp4"
    source = VideoFileSource(source_path)
    with pytest.raises(KeyboardInterrupt), VideoFileSink(target, source.info, audio_from=source_path) as sink:
        for frame in source:
            if frame.index == 8:
                raise KeyboardInterrupt
            sink.write(frame)
    assert not target.exists() and _leftovers(tmp_path) == []
    partial = tmp_path / "out.partial.mp4"
    assert len(decode_all(partial)) == 8
    assert stream_seconds(partial, "audio") == pytest.approx(0.8, abs=0.15)


def test_error_mid_write_leaves_nothing(tmp_path: Path) -> None:
    source_path = write_clip(tmp_path / "in.mp4", frames=10)
    target = tmp_path / "out.mp4"
    source = VideoFileSource(source_path)
    with pytest.raises(RuntimeError, match="boom"), VideoFileSink(target, source.info) as sink:
        for frame in source:
            sink.write(frame)
            if frame.index == 3:
                raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


@pytest.mark.parametrize(
    ("target", "message"),
    [("in.mp4", "is the input file"), ("missing/out.mp4", "does not exist; create it first"), (".", "is a folder")],
)
def test_bad_targets_are_refused_before_any_work(tmp_path: Path, target: str, message: str) -> None:
    source_path = write_clip(tmp_path / "in.mp4", frames=3)
    before = source_path.read_bytes()
    info = VideoFileSource(source_path).info
    with pytest.raises(OutputError, match=message):
        VideoFileSink(tmp_path / target, info, inputs=[source_path])
    assert source_path.read_bytes() == before


def test_frames_of_another_size_are_scaled_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    source_path = write_clip(tmp_path / "in.mp4", frames=4)
    source = VideoFileSource(source_path)
    with caplog.at_level(logging.WARNING), VideoFileSink(tmp_path / "out.mp4", source.info) as sink:
        for frame in source:
            sink.write(frame.with_image(np.zeros((30, 40, 3), np.uint8)) if frame.index == 2 else frame)
    assert "frame size changed to 40x30; the file keeps 64x48" in caplog.text
    assert [f.shape for f in decode_all(tmp_path / "out.mp4")] == [(48, 64, 3)] * 4


def _soft(height: int, width: int, index: int = 0) -> np.ndarray:
    """Gentle unclipped colour ramps: chroma subsampling leaves their mean colour alone."""
    y, x = np.mgrid[0:height, 0:width] / np.array([height, width])[:, None, None]
    return np.stack([40 + 150 * x, 40 + 150 * y, 200 - 100 * (x + y) / 2], axis=-1).astype(np.uint8)


def test_hd_colours_survive_a_round_trip(tmp_path: Path) -> None:
    """Untagged HD is read as BT.709 (as players do) and written BT.709-tagged: no colour shift."""
    source = tmp_path / "hd.mp4"
    with av.open(str(source), "w") as container:  # BT.709 pixels, no colour tags: typical camera HD
        stream = container.add_stream("libx264", rate=10, options={"crf": "0"})
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        frame = av.VideoFrame.from_ndarray(_soft(720, 1280), format="bgr24")
        yuv = frame.reformat(format="yuv420p", dst_colorspace=Colorspace.ITU709, interpolation=EXACT)
        container.mux(stream.encode(yuv))
        container.mux(stream.encode(None))
    out = tmp_path / "out.mp4"
    _convert(source, out, audio=False)
    original = next(iter(VideoFileSource(source))).image.astype(float)
    again = next(iter(VideoFileSource(out))).image.astype(float)
    assert np.abs((original - _soft(720, 1280)).mean(axis=(0, 1))).max() < 0.75  # the source was read as BT.709
    assert np.abs(original - again).mean() < 2.5  # crf 18 and 4:2:0 twice
    assert np.abs((original - again).mean(axis=(0, 1))).max() < 0.75  # no per-channel shift

"""VideoFileSource: ordered frames with timestamps, damage, deep colour, alpha, grayscale, rotation."""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from stylecam.errors import SourceError
from stylecam.runtime.media.video_file import VideoFileSource
from tests.runtime.clips import decode_all, gradient, pattern, write_clip


def _frames(source: VideoFileSource) -> list:
    return list(source)


def test_every_frame_in_order_with_its_timestamp(tmp_path: Path) -> None:
    path = write_clip(tmp_path / "clip.mp4", frames=15, fps=10)
    frames = _frames(VideoFileSource(path))
    assert [f.index for f in frames] == list(range(15))
    assert [f.time for f in frames] == pytest.approx([i / 10 for i in range(15)], abs=1e-6)
    reference = decode_all(path)  # plain PyAV: a slightly different (biased) colour conversion
    assert all(np.abs(f.image.astype(int) - ref).mean() < 3 for f, ref in zip(frames, reference, strict=True))


def test_variable_frame_rate_timestamps_survive(tmp_path: Path) -> None:
    stamps = [0, 40, 80, 200, 230, 500, 510, 900]
    path = write_clip(tmp_path / "vfr.mp4", frames=len(stamps), pts=stamps, time_base=Fraction(1, 1000))
    times = [f.time for f in VideoFileSource(path)]
    assert times == pytest.approx([s / 1000 for s in stamps], abs=1e-3)


def _damage(path: Path, packets: list[int], out: Path) -> Path:
    with av.open(str(path)) as container:
        spans = [(p.pos, p.size) for p in container.demux(video=0) if p.size]
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(0)
    for index in packets:
        pos, size = spans[index]
        start, length = pos + size // 4, max(8, size // 2)
        data[start : start + length] = rng.integers(0, 256, length, dtype=np.uint8).tobytes()
    out.write_bytes(bytes(data))
    return out


@pytest.mark.parametrize(("codec", "suffix"), [("libx264", ".mp4"), ("mpeg4", ".mp4"), ("mjpeg", ".avi")])
def test_damaged_packets_are_skipped_and_counted(tmp_path: Path, codec: str, suffix: str) -> None:
    pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
    clean = write_clip(tmp_path / f"clean{suffix}", frames=24, codec=codec, pix_fmt=pix_fmt, options={"g": "100"})
    damaged = _damage(clean, [10, 11, 17], tmp_path / f"damaged{suffix}")
    source = VideoFileSource(damaged)
    frames = _frames(source)
    assert 1 <= source.corrupt <= 3
    assert len(frames) + source.corrupt >= 24 - 1  # skipped or repeated, never silently lost
    assert all(f.image.shape == (48, 64, 3) for f in frames)


def test_too_much_damage_fails_naming_the_frame(tmp_path: Path) -> None:
    clean = write_clip(tmp_path / "clean.avi", frames=24, codec="mjpeg", pix_fmt="yuvj420p")
    damaged = _damage(clean, [5, 6, 7, 8], tmp_path / "damaged.avi")
    with pytest.raises(SourceError, match=r"badly damaged: more than 2 damaged packets, the last near frame \d+ \(at"):
        _frames(VideoFileSource(damaged, max_corrupt=2))


def test_mostly_damaged_short_clip_fails_like_ffmpeg_max_error_rate(tmp_path: Path) -> None:
    """Below the absolute limit, but more than 2/3 of the packets broken: an error, not a 'success'."""
    clean = write_clip(tmp_path / "clean.avi", frames=9, codec="mjpeg", pix_fmt="yuvj420p")
    damaged = _damage(clean, [1, 2, 3, 4, 5, 6, 7], tmp_path / "damaged.avi")
    with pytest.raises(SourceError, match=r"badly damaged: 7 of its 9 packets could not be decoded \(more than 2/3"):
        _frames(VideoFileSource(damaged))
    partly = _damage(clean, [2, 5], tmp_path / "partly.avi")  # 2 of 9: skipped and counted, no error
    source = VideoFileSource(partly)
    assert len(_frames(source)) + source.corrupt >= 9 and source.corrupt >= 1


def test_ten_bit_input_is_converted_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write_clip(
        tmp_path / "deep.mkv", frames=4, codec="ffv1", pix_fmt="yuv420p10le", options={}, painter=gradient, color_trc=16
    )
    with caplog.at_level(logging.WARNING):
        source = VideoFileSource(path)
    assert "10-bit (yuv420p10le, HDR PQ (SMPTE 2084)): converted to 8 bits" in caplog.text
    assert "no tone mapping" in caplog.text
    frames = _frames(source)
    assert frames[0].image.dtype == np.uint8
    assert np.abs(frames[0].image.astype(int) - gradient(48, 64, 0)).mean() < 2.5  # same picture, same range


@pytest.mark.parametrize(("codec", "pix_fmt"), [("png", "rgba"), ("prores_ks", "yuva444p10le")])
def test_alpha_video_is_warned_and_dropped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, codec: str, pix_fmt: str
) -> None:
    path = write_clip(tmp_path / "alpha.mov", frames=3, codec=codec, pix_fmt=pix_fmt, options={})
    with caplog.at_level(logging.WARNING):
        source = VideoFileSource(path)
    assert "has an alpha channel" in caplog.text and "dropped" in caplog.text
    assert all(f.image.shape == (48, 64, 3) for f in source)


def test_grayscale_video_gives_three_equal_channels(tmp_path: Path) -> None:
    path = write_clip(tmp_path / "gray.mkv", frames=3, codec="ffv1", pix_fmt="gray", options={})
    source = VideoFileSource(path)
    assert source.info.is_grayscale
    image = _frames(source)[0].image
    assert image.shape == (48, 64, 3)
    assert np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 1], image[..., 2])


def test_rotated_video_is_turned_upright(tmp_path: Path) -> None:
    path = tmp_path / "phone.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10, options={"crf": "0"})
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv444p"
        stream.set_display_rotation(90)
        for i in range(3):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(pattern(48, 64, i), format="bgr24")))
        container.mux(stream.encode(None))
    source = VideoFileSource(path)
    assert (source.info.width, source.info.height, source.info.rotation) == (48, 64, 90)
    image = _frames(source)[0].image
    assert image.shape == (64, 48, 3)
    expected = np.rot90(pattern(48, 64, 0))  # counter-clockwise, as the display matrix says
    assert np.abs(image.astype(int) - expected).mean() < 3


def test_max_size_shrinks_frames(tmp_path: Path) -> None:
    source = VideoFileSource(write_clip(tmp_path / "clip.mp4", frames=3), max_size=32)
    assert (source.info.width, source.info.height) == (32, 24)
    assert all(f.image.shape == (24, 32, 3) for f in source)

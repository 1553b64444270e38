"""Encoder choice: checked before work starts, odd sizes kept, a missing encoder falls back by name."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from stylecam.errors import UsageError
from stylecam.runtime.media.encoders import choose_encoder, encoder_available


@pytest.mark.parametrize(
    ("suffix", "size", "codec", "pix_fmt"),
    [
        (".mp4", (64, 48), "libx264", "yuv420p"),
        (".mp4", (62, 46), "libx264", "yuv420p"),  # even but not a multiple of 4 or 16
        (".mp4", (65, 49), "libx264", "yuv444p"),  # odd: 4:4:4 keeps every pixel
        (".mov", (64, 48), "libx264", "yuv420p"),
        (".mkv", (64, 48), "libx264", "yuv420p"),
        (".webm", (64, 48), "libvpx-vp9", "yuv420p"),
        (".avi", (64, 48), "libx264", "yuv420p"),
    ],
)
def test_default_choice(suffix: str, size: tuple[int, int], codec: str, pix_fmt: str) -> None:
    choice = choose_encoder(suffix, *size, 25.0)
    assert (choice.codec, choice.pix_fmt) == (codec, pix_fmt)
    if codec == "libx264":
        assert choice.options["crf"] == "18"
    assert ("odd frame size" in choice.note) == (pix_fmt == "yuv444p")


def test_missing_encoder_falls_back_and_names_it() -> None:
    choice = choose_encoder(".mp4", 64, 48, 25.0, exists=lambda name: name != "libx264" and encoder_available(name))
    assert choice.codec == "mpeg4" and choice.bit_rate and choice.bit_rate >= 1_000_000
    assert "libx264 is unusable: it is not in this FFmpeg build" in choice.note
    assert "using mpeg4 instead" in choice.note


def test_explicit_codec_that_cannot_work_lists_the_ones_that_do() -> None:
    with pytest.raises(
        UsageError, match=r"--codec libnothing cannot write \.mp4 files here .* encoders that work: libx264"
    ):
        choose_encoder(".mp4", 64, 48, 25.0, codec="libnothing")


def test_explicit_codec_the_container_cannot_hold() -> None:
    with pytest.raises(UsageError, match="webm files cannot hold it"):
        choose_encoder(".webm", 64, 48, 25.0, codec="libx264")


def test_explicit_codec_and_crf_are_used() -> None:
    choice = choose_encoder(".mkv", 64, 48, 25.0, codec="libx265", crf=24)
    assert choice.codec == "libx265" and choice.options["crf"] == "24"


@pytest.mark.parametrize("suffix", [".gif", ".txt", ""])
def test_unknown_container_lists_the_suffixes(suffix: str) -> None:
    with pytest.raises(UsageError, match=r"use one of: \.mp4, \.m4v, \.mov, \.mkv, \.webm, \.avi"):
        choose_encoder(suffix, 64, 48, 25.0)


def test_nothing_works_is_an_error_not_a_crash() -> None:
    with pytest.raises(UsageError, match=r"no video encoder can write \.mp4 files here"):
        choose_encoder(".mp4", 64, 48, 25.0, exists=lambda name: False)


@pytest.mark.parametrize(("realtime", "preset"), [(False, "medium"), (True, "veryfast")])
def test_live_recordings_use_a_faster_preset(realtime: bool, preset: str) -> None:
    assert choose_encoder(".mp4", 64, 48, 30.0, realtime=realtime).options["preset"] == preset


@pytest.mark.skipif(not encoder_available("libsvtav1"), reason="this FFmpeg build has no SVT-AV1")
def test_listing_encoders_prints_nothing_from_native_code() -> None:
    """An unknown --codec lists the working encoders by opening each; SVT-AV1 would print a banner."""
    code = (
        "from stylecam.runtime.media.encoders import choose_encoder\n"
        "try:\n    choose_encoder('.webm', 64, 48, 10.0, codec='libnosuch')\n"
        "except Exception as exc:\n    print(exc)\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "SVT_LOG"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert "encoders that work:" in done.stdout and "libsvtav1" in done.stdout
    assert done.stderr == ""


@pytest.mark.parametrize("realtime", [False, True])
def test_a_chosen_preset_wins_and_a_wrong_one_lists_the_presets(realtime: bool) -> None:
    choice = choose_encoder(".mp4", 64, 48, 25.0, preset="faster", realtime=realtime)
    assert choice.codec == "libx264" and choice.options["preset"] == "faster"
    with pytest.raises(UsageError, match="ultrafast, superfast, veryfast"):
        choose_encoder(".mp4", 64, 48, 25.0, preset="quick")

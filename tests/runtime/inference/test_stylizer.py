"""Stylizer on tiny synthetic ONNX graphs: outputs against numpy references, sizes, batches, frame checks."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from stylecam.contract import INPUT_NAME, OUTPUT_NAME
from stylecam.errors import ModelLoadError, UsageError
from stylecam.runtime.inference import stylizer as stylizer_module
from stylecam.runtime.inference.stylizer import Stylizer
from tests.conftest import make_photo
from tests.runtime.conftest import FAST
from tests.runtime.onnx_builders import (
    conv_reference,
    legacy_reference,
    make_contract_model,
    make_legacy_float_model,
)


@pytest.mark.parametrize(("height", "width"), [(32, 32), (33, 47), (37, 64), (64, 45)])
def test_conv_model_matches_reference_at_odd_sizes(conv_model: Path, height: int, width: int) -> None:
    frame = make_photo(height, width, seed=height)
    with Stylizer(conv_model, FAST) as stylizer:
        out = stylizer(frame)
    assert out.shape == frame.shape and out.dtype == np.uint8
    # float32 in ORT vs float64 in numpy: a value on a .5 boundary may round the other way
    difference = np.abs(out.astype(int) - conv_reference(frame[None])[0])
    assert difference.max() <= 1 and np.mean(difference) < 0.01


@pytest.mark.parametrize(("height", "width"), [(1, 1), (5, 200), (31, 31)])
def test_tiny_frames_are_scaled_up_for_models_without_metadata(model_dir: Path, height: int, width: int) -> None:
    seen: list[tuple[int, ...]] = []
    frame = np.full((height, width, 3), 90, np.uint8)
    path = make_contract_model(model_dir / "bare_invert.onnx", op="invert", metadata=False)
    with Stylizer(path, FAST) as stylizer:
        original = stylizer._run
        stylizer._run = lambda feed: (seen.append(feed.shape), original(feed))[1]  # type: ignore[method-assign]
        out = stylizer(frame)
    assert out.shape == frame.shape and np.all(out == 165)
    assert min(seen[0][1:3]) == 32 and abs(seen[0][2] / seen[0][1] - width / height) < 0.05 * width / height


def test_contract_models_get_tiny_frames_as_they_are(invert_model: Path) -> None:
    frame = make_photo(3, 5)
    with Stylizer(invert_model, FAST) as stylizer:
        np.testing.assert_array_equal(stylizer(frame), 255 - frame)


def test_runtime_failure_names_the_frame_size(conv_model: Path) -> None:
    # The test conv model reflect-pads by 1 without padding tiny frames first (a real export
    # would): ORT fails on a 1x1 input, and the error must be ours, naming the size.
    with Stylizer(conv_model, FAST) as stylizer, pytest.raises(ModelLoadError, match=r"1x1x1 input.*frame size"):
        stylizer(np.zeros((1, 1, 3), np.uint8))


def test_metadata_and_providers_come_from_the_session(conv_model: Path) -> None:
    with Stylizer(conv_model, FAST) as stylizer:
        assert stylizer.metadata.arch == "test-conv" and stylizer.metadata.input_name == INPUT_NAME
        assert stylizer.providers == ["CPUExecutionProvider"] and stylizer.device == "cpu"
        assert stylizer.io.contract == "stylecam" and stylizer.io.output_name == OUTPUT_NAME


def test_fp16_model_stays_close(model_dir: Path) -> None:
    path = make_contract_model(model_dir / "conv16.onnx", op="conv", precision="fp16")
    frame = make_photo(32, 40)
    with Stylizer(path, FAST) as stylizer:
        out = stylizer(frame)
        assert stylizer.precision == "fp16"
    assert np.abs(out.astype(int) - conv_reference(frame[None])[0]).max() <= 2


def test_batch_equals_frame_by_frame(conv_model: Path) -> None:
    frames = np.stack([make_photo(34, 40, seed=s) for s in range(3)])
    with Stylizer(conv_model, FAST) as stylizer:
        batch = stylizer.stylize_batch(frames)
        singles = np.stack([stylizer(frame) for frame in frames])
        listed = stylizer.stylize_batch(list(frames))
    np.testing.assert_array_equal(batch, singles)
    np.testing.assert_array_equal(listed, singles)


def test_iobinding_gives_the_same_output_as_session_run(conv_model: Path) -> None:
    frame = make_photo(31, 45)
    with (
        Stylizer(conv_model, replace(FAST, iobinding=True)) as bound,
        Stylizer(conv_model, replace(FAST, iobinding=False)) as plain,
    ):
        assert bound._run.uses_iobinding and not plain._run.uses_iobinding
        np.testing.assert_array_equal(bound(frame), plain(frame))


def test_resolution_change_mid_stream(invert_model: Path) -> None:
    with Stylizer(invert_model, FAST) as stylizer:
        for height, width in [(36, 64), (72, 128), (35, 63), (36, 64)]:
            frame = make_photo(height, width)
            np.testing.assert_array_equal(stylizer(frame), 255 - frame)


def test_grayscale_frames_are_converted_with_a_note(invert_model: Path, caplog: pytest.LogCaptureFixture) -> None:
    gray = make_photo(32, 40)[..., 1]
    with caplog.at_level(logging.INFO), Stylizer(invert_model, FAST) as stylizer:
        out2d, out3d = stylizer(gray), stylizer(gray[..., None])
    assert out2d.shape == (32, 40, 3)
    np.testing.assert_array_equal(out2d, 255 - np.repeat(gray[..., None], 3, axis=2))
    np.testing.assert_array_equal(out2d, out3d)
    assert sum("grayscale" in r.message for r in caplog.records) == 1


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (np.zeros((8, 8, 3), np.float32), "dtype float32"),
        (np.zeros((8, 8, 4), np.uint8), "COLOR_BGRA2BGR"),
        (np.zeros((8, 8, 2), np.uint8), r"shape \(8, 8, 2\)"),
        (np.zeros((2, 8, 8, 3), np.uint8), "stylize_batch|shape"),
        (np.zeros((0, 8, 3), np.uint8), "empty"),
        ([[1, 2, 3]], "not a numpy array"),
    ],
)
def test_bad_frames_name_expected_and_actual(invert_model: Path, frame: object, expected: str) -> None:
    with Stylizer(invert_model, FAST) as stylizer, pytest.raises(UsageError, match=expected):
        stylizer(frame)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("frames", "context"),
    [
        (np.zeros((2, 8, 8, 3), np.uint8), nullcontext()),
        (np.zeros((8, 8, 3), np.uint8), pytest.raises(UsageError, match=r"\(N, H, W, 3\)")),
        ([np.zeros((8, 8, 3), np.uint8), np.zeros((9, 8, 3), np.uint8)], pytest.raises(UsageError, match="differ")),
        ([], pytest.raises(UsageError, match="empty")),
    ],
)
def test_batch_validation(invert_model: Path, frames: object, context: AbstractContextManager[object]) -> None:
    with Stylizer(invert_model, FAST) as stylizer, context:
        assert stylizer.stylize_batch(frames).shape == (2, 8, 8, 3)  # type: ignore[arg-type]


def test_closed_stylizer_refuses_work(invert_model: Path) -> None:
    with Stylizer(invert_model, FAST) as stylizer:
        pass
    with pytest.raises(UsageError, match="closed"):
        stylizer(make_photo(8, 8))


def test_pixel_cap_downscales_and_upscales_once_noted(invert_model: Path, caplog: pytest.LogCaptureFixture) -> None:
    seen: list[tuple[int, ...]] = []
    config = replace(FAST, max_pixels=64 * 64)
    frame = np.full((128, 256, 3), 200, np.uint8)
    with caplog.at_level(logging.INFO), Stylizer(invert_model, config) as stylizer:
        original = stylizer._run
        stylizer._run = lambda feed: (seen.append(feed.shape), original(feed))[1]  # type: ignore[method-assign]
        out1, out2 = stylizer(frame), stylizer(frame)
    assert out1.shape == frame.shape and np.all(out1 == 55) and np.array_equal(out1, out2)
    height, width = seen[0][1:3]
    assert height * width <= 64 * 64 and abs(width / height - 2) < 0.1
    assert sum("exceed max_pixels" in r.message for r in caplog.records) == 1


def test_memory_check_runs_before_inference(invert_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(count: int, height: int, width: int) -> None:
        raise UsageError(f"needs too much memory for {width}x{height}; lower max_pixels")

    monkeypatch.setattr(stylizer_module, "check_memory", refuse)
    with Stylizer(invert_model, FAST) as stylizer:
        stylizer._run = None  # type: ignore[assignment]  # inference must not be reached
        with pytest.raises(UsageError, match="max_pixels"):
            stylizer(make_photo(10, 12))


@pytest.mark.parametrize(("height", "width"), [(33, 33), (32, 64), (45, 38)])
def test_legacy_float_model_is_converted_in_numpy(legacy_model: Path, height: int, width: int) -> None:
    frame = make_photo(height, width)
    with Stylizer(legacy_model, FAST) as stylizer:
        out = stylizer(frame)
        assert stylizer.io.contract == "legacy" and stylizer.metadata.extra["stylecam.inferred_contract"] == "legacy"
        assert stylizer.metadata.pixel_contract["channels"] == "RGB"
    np.testing.assert_array_equal(out, legacy_reference(frame, (1.0, 0.5, 0.25), (300.0, 0.0, -50.0)))


def test_legacy_model_warns_about_inferred_contract(legacy_model: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING), Stylizer(legacy_model, FAST):
        pass
    assert any("no stylecam metadata" in r.message and "RGB" in r.message for r in caplog.records)


def test_static_size_legacy_model_resizes_in_and_out(model_dir: Path) -> None:
    # ONNX model zoo style nets take exactly 1x3x224x224; here 1x3x8x8 with a uniform gain.
    path = make_legacy_float_model(model_dir / "fixed.onnx", gains=(0.5, 0.5, 0.5), shape=(1, 3, 8, 8))
    frames = np.full((3, 20, 30, 3), 100, np.uint8)
    with Stylizer(path, FAST) as stylizer:
        assert stylizer.io.fixed_hw == (8, 8) and stylizer.io.batch == 1
        out = stylizer.stylize_batch(frames)
    assert out.shape == frames.shape and np.all(out == 50)


def test_contract_model_without_metadata_is_inferred(model_dir: Path) -> None:
    path = make_contract_model(model_dir / "bare.onnx", op="invert", metadata=False)
    with Stylizer(path, FAST) as stylizer:
        assert stylizer.metadata.extra["stylecam.inferred_contract"] == "stylecam"
        frame = make_photo(40, 41)
        np.testing.assert_array_equal(stylizer(frame), 255 - frame)


def test_unclamped_legacy_values_are_clipped(model_dir: Path) -> None:
    path = make_legacy_float_model(model_dir / "hot.onnx", gains=(3.0, 1.0, -1.0))
    frame = np.full((4, 4, 3), 120, np.uint8)
    with Stylizer(path, FAST) as stylizer:
        out = stylizer(frame)
    assert out[0, 0].tolist() == [0, 120, 255]  # BGR of (R=360 -> 255, G=120, B=-120 -> 0)


def test_8k_frame_is_capped_to_4k_and_comes_back_8k(invert_model: Path, caplog: pytest.LogCaptureFixture) -> None:
    seen: list[tuple[int, ...]] = []
    frame = np.full((4320, 7680, 3), 10, np.uint8)
    with caplog.at_level(logging.INFO), Stylizer(invert_model, FAST) as stylizer:
        original = stylizer._run
        stylizer._run = lambda feed: (seen.append(feed.shape), original(feed))[1]  # type: ignore[method-assign]
        out = stylizer(frame)
    assert out.shape == frame.shape and out[0, 0].tolist() == [245, 245, 245] and out[-1, -1, 2] == 245
    assert seen[0][1:3] == (2160, 3840)  # 8K has exactly 4x the pixels of the default cap
    assert any(
        "7680x4320 (33.2 MP) exceed max_pixels (8.3 MP): stylizing at 3840x2160" in r.message for r in caplog.records
    )


def test_device_out_of_memory_names_max_pixels(invert_model: Path) -> None:
    def out_of_memory(feed: np.ndarray) -> np.ndarray:
        raise RuntimeError(
            "[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Failed to allocate memory for requested buffer"
        )

    with Stylizer(invert_model, FAST) as stylizer:
        stylizer._run = out_of_memory  # type: ignore[method-assign]
        with pytest.raises(ModelLoadError, match="out of memory: lower max_pixels"):
            stylizer(make_photo(32, 32))

"""Shared fixtures: tiny synthetic images made fresh for each test (the suite needs no data files)."""

from __future__ import annotations

import importlib.util
import signal
from pathlib import Path

import cv2
import numpy as np
import pytest

HAS_TORCH = importlib.util.find_spec("torch") is not None


def _cuda_ep_available() -> bool:
    try:
        import onnxruntime as ort
    except ImportError:
        return False
    return "CUDAExecutionProvider" in ort.get_available_providers()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # `gpu` tests run only where ONNX Runtime has the CUDA execution provider.
    if _cuda_ep_available():
        return
    skip = pytest.mark.skip(reason="CUDA execution provider not available")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


def ctrl_c_like_a_terminal() -> None:
    """``preexec_fn`` for a child that a test interrupts with SIGINT, as Ctrl-C in a terminal would.

    A test run started in the background (``make test &``, nohup, some CI runners) ignores SIGINT,
    and a child inherits that: Python then installs no KeyboardInterrupt handler and the signal
    never arrives (seen once: a recording child kept writing for an hour). Foreground shells
    deliver it, so the child gets the default disposition back.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def make_photo(height: int = 96, width: int = 128, seed: int = 0) -> np.ndarray:
    """A smooth synthetic 'photo' (gradients + shapes), BGR uint8."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.stack([x / width * 200, y / height * 200, (x + y) / (width + height) * 255], axis=-1)
    cv2.circle(img, (width // 3, height // 2), max(4, height // 5), (30, 200, 60), -1)
    cv2.rectangle(img, (width // 2, height // 4), (width - 8, height - 8), (220, 40, 40), -1)
    img += rng.normal(0, 4, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def make_painting(height: int = 96, width: int = 96, seed: int = 1) -> np.ndarray:
    """A synthetic 'painting': high-contrast coloured stripes and swirls, BGR uint8."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    r = np.sin(x / 3.0 + np.sin(y / 5.0) * 2) * 127 + 128
    g = np.sin(y / 2.5 + np.cos(x / 7.0) * 3) * 127 + 128
    b = np.cos((x + y) / 4.0) * 127 + 128
    return np.stack([b, g, r], axis=-1).astype(np.uint8)


@pytest.fixture
def photo_file(tmp_path: Path) -> Path:
    path = tmp_path / "photo.png"
    cv2.imwrite(str(path), make_photo())
    return path


@pytest.fixture
def painting_file(tmp_path: Path) -> Path:
    path = tmp_path / "painting.jpg"
    cv2.imwrite(str(path), make_painting())
    return path

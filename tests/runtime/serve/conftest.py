"""Servers on a free loopback port with tiny contract models (invert, identity), stopped after each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from stylecam.runtime.inference.stylizer import Stylizer
from stylecam.runtime.serve.clients import ClientSettings
from stylecam.runtime.serve.config import ServeConfig
from stylecam.runtime.serve.server import StyleServer
from stylecam.runtime.serve.styles import StylePool
from tests.conftest import make_photo
from tests.runtime.conftest import FAST
from tests.runtime.onnx_builders import make_contract_model

pytest.importorskip("starlette", reason="the serve extra is not installed: pip install -e '.[dev]'")
pytest.importorskip("uvicorn", reason="the serve extra is not installed: pip install -e '.[dev]'")


@pytest.fixture(scope="session")
def serve_models(model_dir: Path) -> list[Path]:
    return [
        make_contract_model(model_dir / "first_invert.onnx", op="invert"),
        make_contract_model(model_dir / "second_identity.onnx", op="identity"),
    ]


@pytest.fixture
def start_server(serve_models: list[Path]) -> Iterator[Callable[..., StyleServer]]:
    """``start_server(**ServeConfig fields)`` -> a running server on 127.0.0.1 and a free port."""
    servers: list[StyleServer] = []

    def start(settings: ClientSettings | None = None, **config: Any) -> StyleServer:
        pool = StylePool(serve_models, lambda path: Stylizer(path, FAST))
        defaults = settings or ClientSettings(smoothing="none")
        server = StyleServer(ServeConfig(port=0, **config), pool, defaults=defaults)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


def jpeg(width: int = 160, height: int = 120, seed: int = 0, quality: int = 85) -> bytes:
    return cv2.imencode(".jpg", make_photo(height, width, seed=seed), [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()


def decode_reply(message: bytes) -> tuple[int, np.ndarray]:
    image = cv2.imdecode(np.frombuffer(message[4:], np.uint8), cv2.IMREAD_COLOR)
    return int.from_bytes(message[:4], "big"), image

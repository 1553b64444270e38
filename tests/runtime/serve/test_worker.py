"""The inference worker: round-robin over tabs, newest frame only, styles loaded without stalling anyone."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import numpy as np

from stylecam.errors import ModelLoadError
from stylecam.runtime.serve.clients import Client, ClientSettings, Pending
from stylecam.runtime.serve.styles import StylePool
from stylecam.runtime.serve.worker import InferenceWorker

FRAME = np.full((24, 32, 3), 100, np.uint8)


class SlowModel:
    """Adds its style number to the frame after ``delay`` seconds; loading takes ``load_delay``."""

    providers: ClassVar[list[str]] = ["CPUExecutionProvider"]
    closed: ClassVar[list[str]] = []

    def __init__(self, path: Path, delay: float = 0.004, load_delay: float = 0.0) -> None:
        if path.stem == "broken":
            raise ModelLoadError("broken.onnx is not a model")
        time.sleep(load_delay)
        self.name, self.delay = path.stem, delay
        self.value = int(path.stem[-1]) if path.stem[-1].isdigit() else 0

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        time.sleep(self.delay)
        return np.clip(frame.astype(int) + self.value, 0, 255).astype(np.uint8)

    def close(self) -> None:
        SlowModel.closed.append(self.name)


def _worker(names: list[str], load_delay: float = 0.0) -> InferenceWorker:
    pool = StylePool([Path(f"{name}.onnx") for name in names], lambda p: SlowModel(p, load_delay=load_delay))
    return InferenceWorker(pool)


def _client(number: int, settings: ClientSettings | None = None) -> Client:
    # The loop never runs here: replies pile up as callbacks, which is all these tests need.
    return Client(number, asyncio.new_event_loop(), settings or ClientSettings(smoothing="none"), max_fps=1000)


def test_every_busy_tab_gets_the_same_share() -> None:
    worker = _worker(["style0"])
    clients = [_client(number) for number in range(4)]
    for client in clients:
        worker.add(client)
    stop = threading.Event()

    def flood(client: Client, interval: float) -> None:
        sequence = 0
        while not stop.is_set():
            sequence += 1
            worker.submit(client, Pending(sequence, FRAME, time.monotonic()))
            time.sleep(interval)

    # One tab floods at ~1000 fps, the others send at ~100 fps: all are always waiting.
    feeders = [threading.Thread(target=flood, args=(c, 0.001 if c.id == 0 else 0.01)) for c in clients]
    worker.start()
    for feeder in feeders:
        feeder.start()
    time.sleep(1.5)
    stop.set()
    for feeder in feeders:
        feeder.join()
    worker.stop()
    processed = [client.processed for client in clients]
    assert min(processed) >= 10 and max(processed) - min(processed) <= max(3, 0.2 * max(processed)), processed
    assert clients[0].dropped > clients[0].processed  # the flood was mostly replaced by newer frames


def test_a_stale_frame_is_replaced_and_counted() -> None:
    worker = _worker(["style0"])
    client = _client(1)
    worker.add(client)
    for sequence in (1, 2, 3):
        worker.submit(client, Pending(sequence, FRAME, time.monotonic()))
    assert client.pending is not None and client.pending.sequence == 3 and client.dropped == 2
    worker.remove(client)
    worker.submit(client, Pending(4, FRAME, time.monotonic()))  # a tab that left: ignored
    assert client.pending is None


def test_a_style_switch_keeps_the_old_style_until_the_new_one_is_loaded() -> None:
    worker = _worker(["style0", "style7"], load_delay=0.5)
    client = _client(1)
    worker.add(client)
    worker.process(client, Pending(1, FRAME, 0.0))
    client.settings = replace(client.settings, style=1)
    worker.process(client, Pending(2, FRAME, 0.0))  # style7 starts loading; style0 meanwhile
    assert client.style_used == 0
    stats = client.stats(worker.pool.names, worker.pool.failed)
    assert stats["loading"] == "style7" and stats["style"] == "style0"
    assert worker.pool.wait_idle(10)
    worker.process(client, Pending(3, FRAME, 0.0))
    assert client.style_used == 1 and client.stats(worker.pool.names, worker.pool.failed)["loading"] is None


def test_a_broken_style_is_reported_and_the_tab_keeps_its_picture() -> None:
    worker = _worker(["style0", "broken"])
    client = _client(1)
    worker.add(client)
    client.settings = replace(client.settings, style=1)
    worker.process(client, Pending(1, FRAME, 0.0))
    assert worker.pool.wait_idle(10)
    worker.process(client, Pending(2, FRAME, 0.0))
    stats = client.stats(worker.pool.names, worker.pool.failed)
    assert client.style_used == 0 and client.processed == 2
    assert stats["error"] == "broken.onnx is not a model" and stats["loading"] is None


def test_at_most_max_alive_styles_stay_loaded() -> None:
    SlowModel.closed.clear()
    worker = _worker([f"style{i}" for i in range(5)])
    client = _client(1)
    for style in range(5):
        client.settings = replace(client.settings, style=style)
        worker.process(client, Pending(style, FRAME, 0.0))
        assert worker.pool.wait_idle(10)
        worker.process(client, Pending(style, FRAME, 0.0))
        assert client.style_used == style
    assert len(worker.pool._loaded) == worker.pool.max_alive == 3
    assert SlowModel.closed == ["style0", "style1"]  # least recently used first
    worker.pool.close()


def test_a_failing_frame_does_not_stop_the_worker() -> None:
    worker = _worker(["style0"])
    client = _client(1)
    worker.add(client)
    worker.start()
    try:
        worker.submit(client, Pending(1, np.zeros((0, 0, 3), np.uint8), 0.0))  # nothing to stylize
        deadline = time.monotonic() + 10
        while worker.failures == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        worker.submit(client, Pending(2, FRAME, 0.0))
        while client.processed == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        worker.stop()
    assert worker.failures == 1 and client.processed == 1 and "frame 1 failed" in (client.last_error or "")
    assert not worker.alive

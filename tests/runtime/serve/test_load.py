"""A bounded load test on loopback: 8 tabs stream at once; nobody starves, nothing crashes, memory stays flat.

Each simulated tab behaves like the page: at most two frames unanswered, a new one as soon as an
answer comes. The default run lasts 10 s; the 30 s run is marked slow. Traffic goes to 127.0.0.1
only, and every loop is bounded in time.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from stylecam.runtime.serve.clients import ClientSettings
from stylecam.runtime.serve.server import StyleServer
from tests.runtime.serve.conftest import jpeg

TABS = 8
IN_FLIGHT = 2


def rss_mb() -> float:
    """This process's resident memory (server and clients both live here)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def run_tab(
    url: str, seconds: float, frame: bytes, replies: list[float], errors: list[str], ready: threading.Barrier
) -> None:
    """Connect, wait until every tab is connected, then stream for ``seconds``; log every reply's time.

    The tabs connect before any of them streams: they are threads of this process, so seven streaming
    tabs would take the GIL from the eighth one's handshake, a cost a real browser does not share.
    """
    try:
        with connect(url, open_timeout=30) as ws:
            ready.wait(timeout=60)
            sent = answered = 0
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                while sent - answered < IN_FLIGHT:
                    ws.send(frame)
                    sent += 1
                try:
                    message = ws.recv(timeout=max(0.01, min(2.0, deadline - time.monotonic())))
                except TimeoutError:
                    answered = sent  # like the page: stop waiting for frames the server dropped
                    continue
                if isinstance(message, bytes):
                    answered = max(answered, int.from_bytes(message[:4], "big"))
                    replies.append(time.monotonic())
                elif (decoded := json.loads(message))["type"] == "skipped":
                    answered = max(answered, decoded["seq"])
    except (ConnectionClosed, OSError, threading.BrokenBarrierError) as exc:
        ready.abort()  # the others stop waiting for this tab
        errors.append(f"{type(exc).__name__}: {exc}")


@pytest.mark.parametrize("seconds", [10, pytest.param(30, marks=pytest.mark.slow)])
def test_eight_tabs_share_the_worker_fairly(
    start_server: Callable[..., StyleServer], seconds: float, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_server(settings=ClientSettings(smoothing="flow"), max_clients=TABS)
    url = f"ws://127.0.0.1:{server.port}/ws"
    replies: list[list[float]] = [[] for _ in range(TABS)]
    errors: list[str] = []
    frame = jpeg(320, 240, seed=3)
    ready = threading.Barrier(TABS + 1)
    tabs = [
        threading.Thread(target=run_tab, args=(url, seconds, frame, replies[i], errors, ready)) for i in range(TABS)
    ]
    for tab in tabs:
        tab.start()
    with contextlib.suppress(threading.BrokenBarrierError):  # a tab failed to connect: asserted below
        ready.wait(timeout=90)  # every tab connected: the clock starts now
    start = time.monotonic()
    time.sleep(min(3.0, seconds / 3))
    memory_early = rss_mb()
    time.sleep(max(0.0, seconds - 1.5 - (time.monotonic() - start)))
    per_tab = [  # the server's view just before the tabs stop, for the failure message
        {key: client[key] for key in ("client", "received", "rate_limited", "dropped", "processed", "sent")}
        for client in server.state.stats()["clients"]
    ]
    for tab in tabs:
        tab.join(seconds + 60)
    memory_late = rss_mb()
    elapsed = time.monotonic() - start

    rates = [len(times) / seconds for times in replies]
    gaps = [max((b - a for a, b in itertools.pairwise(times)), default=seconds) for times in replies]
    stats = server.state.stats()
    with capsys.disabled():
        print(
            f"\n{TABS} tabs x {seconds} s: per-tab fps {', '.join(f'{rate:.1f}' for rate in rates)}; "
            f"total {sum(rates):.1f} fps; longest wait {max(gaps):.2f} s; "
            f"RSS {memory_early:.0f} -> {memory_late:.0f} MB; server frames {stats['frames']}"
        )
    assert errors == [] and not any(tab.is_alive() for tab in tabs) and elapsed < seconds + 60
    assert server.worker.alive and stats["failures"] == 0
    # nobody starved: round robin gives every tab a turn; on a loaded 2-core machine the tabs' own
    # client threads get the CPU unevenly (seen in CI: 6.1 vs a median of 15.6 fps), hence the margin
    assert min(rates) > 0.5 and min(rates) >= 0.25 * statistics.median(rates), (rates, per_tab)
    assert max(gaps) < 5.0, gaps  # no tab waited long for its next frame
    assert memory_late - memory_early < 60, (memory_early, memory_late)  # flat: bounded queues, no leak
    _wait = time.monotonic() + 10
    while server.state.stats()["clients"] and time.monotonic() < _wait:
        time.sleep(0.05)
    assert server.state.stats()["clients"] == []  # every tab forgotten once gone

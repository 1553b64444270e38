"""A tab's settings messages, its rate limit, and its one-frame slots in both directions."""

from __future__ import annotations

import asyncio

import pytest

from stylecam.errors import UsageError
from stylecam.runtime.serve.clients import Client, ClientSettings, RateLimit, updated_settings


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ({"style": 1}, {"style": 1}),
        ({"strength": 0.25, "view": "split"}, {"strength": 0.25, "view": "split"}),
        ({"smoothing": "ema", "smooth_strength": 0.3}, {"smoothing": "ema", "smooth_strength": 0.3}),
        ({"preserve_color": True, "type": "settings"}, {"preserve_color": True}),
    ],
)
def test_settings_messages_change_only_what_they_name(message: dict, expected: dict) -> None:
    settings = updated_settings(ClientSettings(), message, styles=2)
    assert {key: getattr(settings, key) for key in expected} == expected
    untouched = set(ClientSettings.__dataclass_fields__) - set(expected)
    assert all(getattr(settings, key) == getattr(ClientSettings(), key) for key in untouched)


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ({"style": 2}, "style must be between 0 and 1"),
        ({"style": "1"}, "style must be a number"),
        ({"strength": float("nan")}, "strength must be a number"),
        ({"strength": True}, "strength must be a number"),
        ({"smoothing": "blur"}, "smoothing must be one of none, ema, flow"),
        ({"smooth_strength": 1.0}, "smooth_strength must be between 0 and 0.9"),
        ({"view": "original"}, "view must be one of stylized, split"),
        ({"volume": 11}, "unknown setting 'volume'"),
    ],
)
def test_bad_settings_name_the_key_and_the_valid_values(message: dict, reason: str) -> None:
    with pytest.raises(UsageError, match=reason):
        updated_settings(ClientSettings(), message, styles=2)


@pytest.mark.parametrize(
    ("settings", "mode", "alpha"),
    [
        (ClientSettings(), "flow", 0.4),
        (ClientSettings(smoothing="ema"), "ema", 0.5),
        (ClientSettings(smoothing="flow", smooth_strength=0.8), "flow", 0.2),
        (ClientSettings(smoothing="flow", smooth_strength=0.0), "none", 1.0),
        (ClientSettings(smoothing="none", smooth_strength=0.5), "none", 1.0),
    ],
)
def test_smoothing_settings(settings: ClientSettings, mode: str, alpha: float) -> None:
    config = settings.smoothing_config()
    assert (config.mode, config.alpha) == (mode, pytest.approx(alpha))


def test_rate_limit_allows_a_burst_then_the_rate() -> None:
    limit = RateLimit(10, burst=2)
    start = limit._last
    assert [limit.allow(start) for _ in range(3)] == [True, True, False]
    assert limit.allow(start + 0.11) and not limit.allow(start + 0.11)  # one more per 1/10 s
    passed = sum(limit.allow(start + 0.11 + i / 100) for i in range(1, 101))  # 1 s more at 100 fps
    assert 9 <= passed <= 11


def test_a_newer_result_replaces_one_not_sent_yet() -> None:
    async def scenario() -> tuple[bytes, int]:
        client = Client(1, asyncio.get_running_loop(), ClientSettings(), max_fps=30)
        client.deliver(b"first")
        client.deliver(b"second")
        await asyncio.sleep(0)  # the worker's call_soon_threadsafe callbacks run
        out = await asyncio.wait_for(client.outgoing(), 1)
        return out.reply, client.replaced_results

    assert asyncio.run(scenario()) == (b"second", 1)


def test_a_result_for_a_closed_loop_is_dropped_quietly() -> None:
    loop = asyncio.new_event_loop()
    client = Client(1, loop, ClientSettings(), max_fps=30)
    loop.close()
    client.deliver(b"late")  # the server is shutting down: no exception in the worker
    assert client.closed

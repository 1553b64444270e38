"""The server over real loopback sockets: frames in and out, settings, and every kind of bad input.

A WebSocket client (the ``websockets`` library) plays the browser tab; HTTP goes through urllib.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from stylecam.errors import UsageError
from stylecam.runtime.serve.clients import ClientSettings
from stylecam.runtime.serve.config import ServeConfig, is_loopback
from stylecam.runtime.serve.server import StyleServer
from tests.runtime.serve.conftest import decode_reply, jpeg

TOKEN = "0123456789abcdef0123"


def ws_url(server: StyleServer, query: str = "") -> str:
    return f"ws://127.0.0.1:{server.port}/ws{query}"


def receive_until(ws: ClientConnection, wanted: Callable[[Any], bool], timeout: float = 20) -> Any:
    """The first message (bytes, or a decoded JSON dict) for which ``wanted`` is true."""
    deadline = time.monotonic() + timeout
    while True:
        message = ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        decoded = message if isinstance(message, bytes) else json.loads(message)
        if wanted(decoded):
            return decoded


def is_reply(message: Any) -> bool:
    return isinstance(message, bytes)


def of_type(kind: str) -> Callable[[Any], bool]:
    return lambda message: isinstance(message, dict) and message.get("type") == kind


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def close_code(ws: ClientConnection, timeout: float = 20) -> int | None:
    with pytest.raises(ConnectionClosed) as closed:
        receive_until(ws, lambda message: False, timeout)
    return closed.value.rcvd.code if closed.value.rcvd else None


# -- the normal path ---------------------------------------------------------------------------------
def test_a_tab_gets_hello_then_stylized_frames_in_order(start_server: Callable[..., StyleServer]) -> None:
    server = start_server()
    with connect(ws_url(server)) as ws:
        hello = receive_until(ws, of_type("hello"))
        assert hello["styles"] == ["first_invert", "second_identity"]
        assert hello["limits"]["max_fps"] == 30 and hello["settings"]["style"] == 0
        frame = jpeg(160, 120)
        ws.send(frame)
        sequence, image = decode_reply(receive_until(ws, is_reply))
        sent = decode_reply(b"\0\0\0\0" + frame)[1]
        assert sequence == 1 and image.shape == (120, 160, 3)
        assert np.abs(image.astype(int) - (255 - sent.astype(int))).mean() < 8  # the invert style
        stats = receive_until(ws, of_type("stats"))
        assert stats["processed"] == 1 and stats["style"] == "first_invert"


def test_settings_switch_style_and_view(start_server: Callable[..., StyleServer]) -> None:
    server = start_server()
    with connect(ws_url(server)) as ws:
        receive_until(ws, of_type("hello"))
        ws.send(json.dumps({"type": "settings", "style": 1, "view": "split"}))
        assert receive_until(ws, of_type("settings"))["settings"]["style"] == 1
        frame = jpeg(160, 120)
        sent = decode_reply(b"\0\0\0\0" + frame)[1].astype(int)
        deadline = time.monotonic() + 20
        while True:  # the identity style loads in the background; the first replies may still invert
            ws.send(frame)
            answer = receive_until(ws, lambda m: is_reply(m) or of_type("skipped")(m))
            if not is_reply(answer):  # faster than the rate limit: the frame was skipped
                time.sleep(0.1)
                continue
            _, image = decode_reply(answer)
            right = np.abs(image[:, 90:].astype(int) - sent[:, 90:]).mean()
            if right < 8 or time.monotonic() > deadline:
                break
        left = np.abs(image[:, :70].astype(int) - sent[:, :70]).mean()
        assert right < 8 and left < 8  # split: the source left, identity-styled right


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("not json", "Expecting value"),
        ('["settings"]', "expected"),
        ('{"type": "settings", "style": 9}', "style must be between 0 and 1"),
        ('{"type": "settings", "smoothing": "sharpen"}', "smoothing must be one of"),
        ("x" * 5000, "control message over 4096 bytes"),
    ],
)
def test_bad_control_messages_get_an_error_and_the_tab_goes_on(
    start_server: Callable[..., StyleServer], message: str, reason: str
) -> None:
    server = start_server()
    with connect(ws_url(server)) as ws:
        receive_until(ws, of_type("hello"))
        ws.send(message)
        assert reason in receive_until(ws, of_type("error"))["message"]
        ws.send(jpeg())
        assert decode_reply(receive_until(ws, is_reply))[0] == 1


# -- bad frames ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"hello", "not a JPEG"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "no frame header"),
        (jpeg(160, 120)[:300], "damaged JPEG"),  # cut inside the header or just after it
    ],
)
def test_malformed_frames_are_skipped_with_the_reason(
    start_server: Callable[..., StyleServer], frame: bytes, reason: str
) -> None:
    server = start_server()
    with connect(ws_url(server)) as ws:
        receive_until(ws, of_type("hello"))
        ws.send(frame)
        message = receive_until(ws, lambda m: is_reply(m) or of_type("skipped")(m))
        if is_reply(message):  # libjpeg made a grey-filled picture of a truncated frame: still fine
            assert frame[:3] == b"\xff\xd8\xff"
        else:
            assert message["seq"] == 1 and reason in message["reason"]
        ws.send(jpeg())
        assert decode_reply(receive_until(ws, is_reply))[0] == 2  # the tab goes on


def test_a_frame_claiming_too_many_pixels_is_skipped(start_server: Callable[..., StyleServer]) -> None:
    server = start_server(max_frame_pixels=320 * 240)
    with connect(ws_url(server)) as ws:
        receive_until(ws, of_type("hello"))
        ws.send(jpeg(640, 480))
        assert "640x480 is over the 76800 pixel limit" in receive_until(ws, of_type("skipped"))["reason"]
        assert server.state.stats()["frames"] == 0


def test_a_frame_over_the_byte_limit_closes_the_tab(start_server: Callable[..., StyleServer]) -> None:
    server = start_server(max_frame_bytes=64 * 1024)
    with connect(ws_url(server), max_size=None) as ws:
        receive_until(ws, of_type("hello"))
        ws.send(b"\xff\xd8\xff" + bytes(100 * 1024))  # under the protocol cap, over the frame limit
        assert close_code(ws) == 1009
    with connect(ws_url(server)) as ws:
        receive_until(ws, of_type("hello"))
        try:
            ws.send(bytes(4 * 2**20))  # over the protocol cap: the WebSocket layer refuses it unread
        except ConnectionClosed as closed:  # refused while still being sent: a close frame, or a cut
            assert closed.rcvd is None or closed.rcvd.code == 1009
        else:
            assert close_code(ws) == 1009
    _wait_for(lambda: server.state.stats()["clients"] == [], "the tabs to be forgotten")


@pytest.mark.parametrize(
    "garbage",
    [b"garbage", jpeg(160, 120)[:300]],  # refused at the header (event loop), or when decoded (worker)
    ids=["not-jpeg", "undecodable"],
)
def test_a_stream_of_garbage_is_disconnected(start_server: Callable[..., StyleServer], garbage: bytes) -> None:
    server = start_server(max_fps=120)
    with connect(ws_url(server)) as ws:
        receive_until(ws, of_type("hello"))
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(30):  # one at a time: a stale frame is replaced, never decoded nor counted
                ws.send(garbage)
                assert "JPEG" in receive_until(ws, of_type("skipped"))["reason"]
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1003
        assert "25 bad frames in a row" in closed.value.rcvd.reason
    _wait_for(lambda: server.state.stats()["clients"] == [], "the tab to be forgotten")
    assert server.worker.alive and server.state.stats()["failures"] == 0


def test_frames_over_the_rate_limit_are_dropped_and_counted(start_server: Callable[..., StyleServer]) -> None:
    server = start_server(max_fps=5)
    with connect(ws_url(server)) as ws:
        receive_until(ws, of_type("hello"))
        frame = jpeg(64, 48)
        for _ in range(20):  # a burst far above 5 fps
            ws.send(frame)
        skipped = receive_until(ws, of_type("skipped"))
        assert "over 5 fps" in skipped["reason"]
        stats = receive_until(ws, of_type("stats"), timeout=5)
        assert stats["rate_limited"] >= 15 and stats["received"] == 20


# -- tabs coming and going -------------------------------------------------------------------------------
def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_tab_vanishing_mid_stream_is_cleaned_up_and_others_go_on(start_server: Callable[..., StyleServer]) -> None:
    server = start_server()
    with connect(ws_url(server)) as steady:
        receive_until(steady, of_type("hello"))
        with connect(ws_url(server)) as vanishing:
            receive_until(vanishing, of_type("hello"))
            for _ in range(3):
                vanishing.send(jpeg())
            vanishing.socket.shutdown(socket.SHUT_RDWR)  # no closing handshake: the tab's machine is gone
            vanishing.socket.close()
        _wait_for(lambda: len(server.state.stats()["clients"]) == 1, "the vanished tab to be dropped")
        steady.send(jpeg())
        assert decode_reply(receive_until(steady, is_reply))[0] == 1
    assert server.worker.alive and server.state.stats()["failures"] == 0


def test_a_full_server_refuses_more_tabs_with_try_again_later(start_server: Callable[..., StyleServer]) -> None:
    server = start_server(max_clients=1)
    with connect(ws_url(server)) as first:
        receive_until(first, of_type("hello"))
        with connect(ws_url(server)) as second:
            assert close_code(second) == 1013
        first.send(jpeg())
        assert decode_reply(receive_until(first, is_reply))[0] == 1
    assert server.state.stats()["refused"] == 1


# -- access ------------------------------------------------------------------------------------------------
def test_the_page_and_its_assets_and_nothing_else(start_server: Callable[..., StyleServer]) -> None:
    server = start_server()
    base = f"http://127.0.0.1:{server.port}"
    status, body, headers = get(f"{base}/")
    assert status == 200 and b"<title>stylecam</title>" in body
    assert (
        "frame-ancestors 'none'" in headers["content-security-policy"] and headers["referrer-policy"] == "no-referrer"
    )
    assert get(f"{base}/app.js")[0] == 200 and get(f"{base}/style.css")[0] == 200
    for path in ("/static/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/index.html/../config.py", "/app.py"):
        assert get(base + path)[0] == 404, path
    stats = json.loads(get(f"{base}/api/stats")[1])
    assert stats["styles"] == ["first_invert", "second_identity"] and stats["clients"] == []


def test_a_foreign_host_name_is_refused_on_loopback(start_server: Callable[..., StyleServer]) -> None:
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 must not reach the server."""
    server = start_server()
    assert get(f"http://127.0.0.1:{server.port}/", {"Host": f"evil.example:{server.port}"})[0] == 403
    assert get(f"http://127.0.0.1:{server.port}/", {"Host": f"localhost:{server.port}"})[0] == 200
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(server), additional_headers={"Origin": "http://evil.example"})
    assert refused.value.response.status_code == 403


@pytest.fixture
def remote_server(start_server: Callable[..., StyleServer]) -> StyleServer:
    """A token-protected server (what --allow-remote gives), still bound to loopback for the test."""
    return start_server(token=TOKEN)


@pytest.mark.parametrize("query", ["", "?token=", "?token=wrong-token-wrong-token", f"?token={TOKEN[:-1]}"])
def test_a_missing_or_wrong_token_is_refused_everywhere(remote_server: StyleServer, query: str) -> None:
    base = f"http://127.0.0.1:{remote_server.port}"
    for path in ("/", "/app.js", "/api/stats"):
        assert get(f"{base}{path}{query}")[0] == 403, path
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(remote_server, query))
    assert refused.value.response.status_code == 403
    assert remote_server.state.stats()["refused"] == 1


def test_the_right_token_opens_the_page_and_sets_a_strict_cookie(remote_server: StyleServer) -> None:
    base = f"http://127.0.0.1:{remote_server.port}"
    status, _, headers = get(f"{base}/?token={TOKEN}")
    cookie = headers["set-cookie"]
    assert status == 200 and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert get(f"{base}/app.js", {"Cookie": f"stylecam_token={TOKEN}"})[0] == 200
    with connect(ws_url(remote_server, f"?token={TOKEN}")) as ws:
        receive_until(ws, of_type("hello"))
        ws.send(jpeg())
        assert decode_reply(receive_until(ws, is_reply))[0] == 1


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"host": "0.0.0.0"}, "needs an access token"),
        ({"host": "192.0.2.1", "token": None}, "needs an access token"),
        ({"token": "short"}, "at least 16 characters"),
        ({"port": 70000}, "--port must be between 0 and 65535"),
        ({"max_fps": 0}, "--max-fps must be between 1 and 120"),
        ({"max_frame_bytes": 1024}, "--max-frame-kb must be between 16 and 65536"),
    ],
)
def test_config_refuses_what_is_unsafe_or_out_of_range(kwargs: dict, reason: str) -> None:
    with pytest.raises(UsageError, match=reason):
        ServeConfig(**kwargs)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.9.1", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("0.0.0.0", False), ("192.168.1.5", False), ("example.com", False), ("::", False)],
)  # fmt: skip
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_port_in_use_is_an_error_naming_the_fix(start_server: Callable[..., StyleServer]) -> None:
    server = start_server()
    from stylecam.runtime.serve.styles import StylePool

    second = StyleServer(ServeConfig(port=server.port), StylePool(server.worker.pool.paths, lambda p: None))
    with pytest.raises(UsageError, match=f"port {server.port} is in use; pick another with --port"):
        second.bind()


def test_default_settings_for_new_tabs(start_server: Callable[..., StyleServer]) -> None:
    server = start_server(settings=ClientSettings(strength=0.5, smoothing="ema"))
    with connect(ws_url(server)) as ws:
        settings = receive_until(ws, of_type("hello"))["settings"]
    assert (settings["strength"], settings["smoothing"]) == (0.5, "ema")


def test_a_tab_that_stops_reading_is_still_read_and_the_others_go_on(start_server: Callable[..., StyleServer]) -> None:
    """Receiving never waits on sending: a tab whose replies back up is still read, so it never stalls.

    A client that holds a lock while it sends and reads only when it can take that lock (the
    ``websockets`` sync client does; so may a busy browser) deadlocks with a server that stops
    reading whenever its replies to that client are stuck. Here the tab reads nothing at all (a
    one-message queue, then nothing) while it streams frames far over the rate limit, which the
    server answers with "skipped" notes and stylized replies that pile up unread. Against the
    server before the fix, the tab's sends blocked after 124-1,285 frames (3 runs of 3).
    """
    server = start_server(max_fps=30)
    assert server._socket is not None  # small send buffers (accepted sockets inherit them): stuck at once
    server._socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)
    frame = jpeg(640, 480, seed=5, quality=95)
    sock = socket.create_connection(("127.0.0.1", server.port))
    sent = 0
    with connect(ws_url(server), sock=sock, max_queue=1, close_timeout=1) as stalled, connect(ws_url(server)) as steady:
        receive_until(steady, of_type("hello"))
        stalled_client = max(client["client"] for client in server.state.stats()["clients"]) - 1

        def received() -> int:
            clients = {client["client"]: client for client in server.state.stats()["clients"]}
            return clients[stalled_client]["received"]

        stalled.socket.settimeout(3.0)  # a send blocked this long: the server is not reading
        try:
            while sent < 2000:
                stalled.send(frame)
                sent += 1
        except (TimeoutError, ConnectionClosed):
            pass
        assert sent == 2000, f"the tab's send blocked after {sent} frames: the server stopped reading it"
        _wait_for(lambda: received() >= sent, f"the server to read all {sent} frames", timeout=10)
        for number in range(1, 4):  # the other tab is served as usual meanwhile
            steady.send(jpeg())
            assert decode_reply(receive_until(steady, is_reply))[0] == number
    assert server.worker.alive

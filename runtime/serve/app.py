"""The web app of ``stylecam serve`` (Starlette): the page, its two assets, stats, and the frame socket.

Every route checks access first: on a loopback address the ``Host`` header must name this
machine (so a web page elsewhere cannot reach the server through DNS rebinding); with a token
(``--allow-remote``) every request must carry it, as ``?token=`` or as the cookie the page gets
with its first load; a WebSocket must come from the page's own origin. Only the files of
``static/`` listed in :data:`ASSETS` are served, from memory: no path from a request ever
reaches the file system.

Socket protocol (one WebSocket per tab):

* tab -> server, binary: a JPEG frame. Text: ``{"type": "settings", ...}`` (style, strength,
  preserve_color, smoothing, smooth_strength, view).
* server -> tab, binary: 4-byte big-endian sequence number of the frame answered, then the
  stylized JPEG. Text: ``hello`` (styles, settings, limits) once, ``settings`` after each change,
  ``stats`` every second, ``skipped`` for a frame not stylized (seq, reason), ``error``.

Each tab has a receive loop that never waits for anything but the next message (frames are only
header-checked there; the worker decodes them), and one sender task, the only one that writes to
the socket: see :mod:`stylecam.runtime.serve.clients` for why receiving must not wait on sending.
"""

from __future__ import annotations

import asyncio
import hmac
import importlib.resources
import json
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from stylecam.errors import UsageError
from stylecam.runtime.serve.clients import (
    CLOSE_FULL,
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    Client,
    ClientSettings,
    Pending,
    updated_settings,
)
from stylecam.runtime.serve.config import ServeConfig, is_loopback
from stylecam.runtime.serve.frames import FrameRejected, check_frame
from stylecam.runtime.serve.worker import InferenceWorker

log = logging.getLogger(__name__)

ASSETS = {"index.html": "text/html", "app.js": "text/javascript", "style.css": "text/css"}
TOKEN_COOKIE = "stylecam_token"
STATS_INTERVAL_S = 1.0
MAX_TEXT_BYTES = 4096
CLOSE_WAIT_S = 5.0  # how long a close waits for the notes before it to go out
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' blob: data:; "
    "media-src 'self' blob: mediastream:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",  # the token in the URL never leaves in a Referer header
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def load_assets() -> dict[str, bytes]:
    """The page's files, read once from the package (never from a path a request names)."""
    folder = importlib.resources.files("stylecam.runtime.serve").joinpath("static")
    return {name: folder.joinpath(name).read_bytes() for name in ASSETS}


@dataclass
class ServerState:
    """What the routes share: the config, the worker and its styles, the assets and totals."""

    config: ServeConfig
    worker: InferenceWorker
    defaults: ClientSettings = field(default_factory=ClientSettings)
    assets: dict[str, bytes] = field(default_factory=load_assets)
    started: float = field(default_factory=time.monotonic)
    connections: int = 0
    refused: int = 0
    _next_id: int = 0

    def new_client_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def stats(self) -> dict[str, Any]:
        pool = self.worker.pool
        clients = [client.stats(pool.names, pool.failed) for client in self.worker.clients]
        return {
            "uptime_s": round(time.monotonic() - self.started, 1),
            "styles": pool.names,
            "providers": pool.providers,
            "frames": self.worker.frames,
            "failures": self.worker.failures,
            "connections": self.connections,
            "refused": self.refused,
            "clients": clients,
        }


# -- access -----------------------------------------------------------------------------------------
def access_problem(connection: HTTPConnection, config: ServeConfig) -> str | None:
    """Why this request or socket may not be served (None: it may)."""
    host = connection.headers.get("host", "")
    if not config.remote and not is_loopback(urlsplit(f"//{host}").hostname or ""):
        return f"Host {host!r} is not this machine"
    if config.token is not None:
        given = connection.query_params.get("token") or connection.cookies.get(TOKEN_COOKIE) or ""
        if not hmac.compare_digest(given.encode(), config.token.encode()):
            return "missing or wrong access token"
    origin = connection.headers.get("origin")
    if connection.scope["type"] == "websocket" and origin is not None and urlsplit(origin).netloc != host:
        return f"origin {origin!r} is not this server"
    return None


def _refuse(reason: str) -> Response:
    return PlainTextResponse(f"forbidden: {reason}\n", status_code=403)


# -- routes -------------------------------------------------------------------------------------------
def create_app(state: ServerState) -> Starlette:
    """The Starlette app over ``state`` (the worker is started and stopped by the server)."""
    config = state.config

    def asset_route(path: str, name: str) -> Route:
        async def endpoint(request: Request) -> Response:
            problem = access_problem(request, config)
            if problem is not None:
                return _refuse(problem)
            response = Response(state.assets[name], media_type=ASSETS[name], headers=SECURITY_HEADERS)
            token = request.query_params.get("token")
            if config.token is not None and token:
                # The page's own requests (assets, socket) then carry the token without it in more URLs.
                response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict", secure=request.url.is_secure)
            return response

        return Route(path, endpoint, methods=["GET"])

    async def stats(request: Request) -> Response:
        problem = access_problem(request, config)
        return _refuse(problem) if problem else JSONResponse(state.stats(), headers=SECURITY_HEADERS)

    async def socket(websocket: WebSocket) -> None:
        problem = access_problem(websocket, config)
        if problem is not None:
            log.warning("refused a connection from %s: %s", _peer(websocket), problem)
            state.refused += 1
            await websocket.close(code=CLOSE_POLICY)  # before accept: the browser sees HTTP 403
            return
        await websocket.accept()
        if len(state.worker.clients) >= config.max_clients:
            state.refused += 1
            await websocket.close(code=CLOSE_FULL, reason=f"server full ({config.max_clients} tabs); retry later")
            return
        await _serve_tab(websocket, state)

    routes = [
        asset_route("/", "index.html"),
        asset_route("/app.js", "app.js"),
        asset_route("/style.css", "style.css"),
        Route("/api/stats", stats, methods=["GET"]),
        WebSocketRoute("/ws", socket),
    ]
    return Starlette(routes=routes)


def _peer(connection: HTTPConnection) -> str:
    return f"{connection.client.host}:{connection.client.port}" if connection.client else "?"


class _Tab:
    """One tab's connection: a receive loop that never waits on sending, one sender, a stats ticker."""

    def __init__(self, websocket: WebSocket, state: ServerState, client: Client) -> None:
        self.websocket, self.state, self.client = websocket, state, client

    async def send(self) -> None:
        """The only writer to the socket: notes, then the newest reply, then the close if one is asked."""
        client, websocket = self.client, self.websocket
        while True:
            out = await client.outgoing()
            for note in out.notes:
                await websocket.send_text(note)
            if out.reply is not None:
                await websocket.send_bytes(out.reply)
                client.mark_sent()
            if out.close is not None:
                code, reason = out.close
                await websocket.close(code=code, reason=reason)
                return

    async def tick_stats(self) -> None:
        pool = self.state.worker.pool
        while True:
            await asyncio.sleep(STATS_INTERVAL_S)
            self.client.post({"type": "stats", **self.client.stats(pool.names, pool.failed)})

    async def receive(self) -> None:
        """Read until the tab leaves or is to be closed; nothing here waits on anything else."""
        client = self.client
        while not client.closing:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("bytes") is not None:
                self.on_frame(message["bytes"])
            elif message.get("text") is not None:
                self.on_text(message["text"])

    def on_frame(self, data: bytes) -> None:
        """Take one frame: rate and size limits, the JPEG header, then the worker's slot."""
        client, config = self.client, self.state.config
        client.received += 1
        sequence = client.received
        if not client.limit.allow():
            client.rate_limited += 1
            client.skip(sequence, f"over {config.max_fps:g} fps")
            return
        if len(data) > config.max_frame_bytes:
            client.rejected += 1
            reason = f"frame of {len(data) // 1024} KiB is over the {config.max_frame_bytes // 1024} KiB limit"
            client.request_close(CLOSE_TOO_BIG, reason)
            return
        try:
            check_frame(data, max_bytes=config.max_frame_bytes, max_pixels=config.max_frame_pixels)
        except FrameRejected as exc:
            client.reject(sequence, str(exc))
            return
        self.state.worker.submit(client, Pending(sequence, data, time.monotonic()))

    def on_text(self, text: str) -> None:
        try:
            if len(text) > MAX_TEXT_BYTES:
                raise UsageError(f"control message over {MAX_TEXT_BYTES} bytes")
            message = json.loads(text)
            if not isinstance(message, dict) or message.get("type") != "settings":
                raise UsageError('expected {"type": "settings", ...}')
            self.client.settings = updated_settings(self.client.settings, message, len(self.state.worker.pool.paths))
        except (ValueError, UsageError) as exc:  # json.JSONDecodeError is a ValueError
            self.client.post({"type": "error", "message": str(exc)})
            return
        self.client.post({"type": "settings", "settings": asdict(self.client.settings)})


async def _serve_tab(websocket: WebSocket, state: ServerState) -> None:
    config = state.config
    state.connections += 1
    client = Client(state.new_client_id(), asyncio.get_running_loop(), state.defaults, config.max_fps)
    tab = _Tab(websocket, state, client)
    log.info("tab %d connected from %s", client.id, _peer(websocket))
    state.worker.add(client)
    client.post(
        {
            "type": "hello",
            "client": client.id,
            "styles": state.worker.pool.names,
            "settings": asdict(client.settings),
            "limits": {
                "max_frame_bytes": config.max_frame_bytes,
                "max_frame_pixels": config.max_frame_pixels,
                "max_fps": config.max_fps,
            },
        }
    )
    sender = asyncio.create_task(tab.send())
    ticker = asyncio.create_task(tab.tick_stats())
    try:
        await tab.receive()
        if client.closing:  # the server closes the tab: the sender sends what is queued, then the close
            await asyncio.wait([sender], timeout=CLOSE_WAIT_S)  # a tab that reads nothing is cut after it
    except WebSocketDisconnect:
        pass  # the tab closed or vanished mid-stream: the same clean-up
    finally:
        state.worker.remove(client)
        for task in (sender, ticker):
            task.cancel()
        for result in await asyncio.gather(sender, ticker, return_exceptions=True):
            # a cancelled task gives a CancelledError, a BaseException: not logged
            if isinstance(result, Exception) and not isinstance(result, WebSocketDisconnect):
                log.debug("tab %d: sending ended with %r", client.id, result)
        log.info("tab %d left after %d frames", client.id, client.sent)

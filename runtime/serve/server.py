"""Running ``stylecam serve``: bind, start the inference worker, serve with uvicorn, stop cleanly.

The socket is bound before anything is printed or served, so "port in use" is an error naming
the fix rather than a traceback from inside the server. Ctrl-C (or SIGTERM) lets uvicorn close
the open sockets (the tabs see code 1012 and say so), then the worker stops after the frame in
hand and the models are closed.
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import uvicorn

from stylecam.errors import OutputError, UsageError
from stylecam.runtime.serve.app import ServerState, create_app
from stylecam.runtime.serve.clients import ClientSettings
from stylecam.runtime.serve.config import ServeConfig
from stylecam.runtime.serve.styles import StylePool
from stylecam.runtime.serve.worker import InferenceWorker

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_S = 3  # open sockets get this long to close before uvicorn cuts them
WS_SLACK_BYTES = 64 * 1024  # protocol-level cap above the frame limit: bigger messages never reach the app


@dataclass(frozen=True)
class TLSFiles:
    """A certificate and its key, for serving https/wss to other machines."""

    certfile: str
    keyfile: str


class StyleServer:
    """The server of ``stylecam serve``: :meth:`bind`, then :meth:`serve_forever` (or start/stop in tests).

    Args:
        config: address, token and limits.
        pool: the style models (the first is loaded already).
        defaults: the settings a new tab starts with.
        tls: serve https/wss with these files (browsers give pages on other hosts a camera only then).
    """

    def __init__(
        self,
        config: ServeConfig,
        pool: StylePool,
        *,
        defaults: ClientSettings | None = None,
        tls: TLSFiles | None = None,
    ) -> None:
        self.config = config
        self.tls = tls
        self.worker = InferenceWorker(pool, jpeg_quality=config.jpeg_quality)
        self.state = ServerState(config, self.worker, defaults or ClientSettings())
        self.app = create_app(self.state)
        self._socket: socket.socket | None = None
        self._uvicorn: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- address ---------------------------------------------------------------------------------
    def bind(self) -> None:
        """Bind the listening socket; UsageError/OutputError naming the fix if it cannot be had."""
        family = socket.AF_INET6 if ":" in self.config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.config.host.strip("[]"), self.config.port))
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EADDRINUSE:
                raise UsageError(f"port {self.config.port} is in use; pick another with --port") from exc
            if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT) or isinstance(exc, socket.gaierror):
                raise UsageError(f"cannot listen on {self.config.host}: {exc.strerror or exc}; check --host") from exc
            raise OutputError(f"cannot listen on {self.config.host}:{self.config.port}: {exc}") from exc
        sock.listen(128)
        sock.setblocking(False)
        self._socket = sock

    @property
    def port(self) -> int:
        assert self._socket is not None, "bind() first"
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        """The page's address (with the token when there is one)."""
        host = self.config.host
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else (f"[{host}]" if ":" in host else host)
        scheme = "https" if self.tls else "http"
        token = f"?token={self.config.token}" if self.config.token else ""
        return f"{scheme}://{shown}:{self.port}/{token}"

    # -- running ---------------------------------------------------------------------------------
    def _uvicorn_config(self) -> uvicorn.Config:
        return uvicorn.Config(
            self.app,
            host=self.config.host,
            port=self.port,
            ws="websockets-sansio",
            ws_max_size=self.config.max_frame_bytes + WS_SLACK_BYTES,
            ws_per_message_deflate=False,  # JPEGs do not compress; deflate would only cost CPU
            lifespan="off",
            log_config=None,
            log_level="warning",
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
            ssl_certfile=self.tls.certfile if self.tls else None,
            ssl_keyfile=self.tls.keyfile if self.tls else None,
        )

    def serve_forever(self) -> None:
        """Serve until Ctrl-C/SIGTERM (which then propagates as KeyboardInterrupt); always cleans up."""
        if self._socket is None:
            self.bind()
        assert self._socket is not None
        self._uvicorn = uvicorn.Server(self._uvicorn_config())
        self.worker.start()
        try:
            self._uvicorn.run(sockets=[self._socket])
        finally:
            self.close()

    def start(self, timeout: float = 30.0) -> StyleServer:
        """Serve on a background thread (tests, embedding); returns once it accepts connections."""
        if self._socket is None:
            self.bind()
        self._thread = threading.Thread(target=self.serve_forever, name="stylecam-serve", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not (self._uvicorn is not None and self._uvicorn.started):
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise OutputError("the server did not start")
            time.sleep(0.02)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Ask a :meth:`start`-ed server to shut down and wait for it."""
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> StyleServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def close(self) -> None:
        """Stop the worker and close the models and the socket (idempotent)."""
        self.worker.stop()
        self.worker.pool.close()
        if self._socket is not None:
            self._socket.close()

    def summary(self) -> dict[str, Any]:
        """Totals for the closing line: tabs served, frames stylized, refused connections."""
        stats = self.state.stats()
        return {"tabs": stats["connections"], "frames": stats["frames"], "refused": stats["refused"]}

"""What ``stylecam serve`` is allowed to do: where it listens, who may connect, how much they may send.

No third-party imports: the CLI checks its options and the optional packages with this module alone.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import secrets
from dataclasses import dataclass

from stylecam.errors import DependencyError, UsageError

# The optional packages of the `serve` extra (module names).
SERVE_MODULES = ("starlette", "uvicorn", "websockets")
INSTALL_HINT = "pip install 'stylecam[serve]'"
LOCAL_NAMES = ("localhost",)


def missing_modules(modules: tuple[str, ...] = SERVE_MODULES) -> list[str]:
    """The modules of the serve extra that cannot be imported here."""
    return [name for name in modules if importlib.util.find_spec(name) is None]


def require_serve_dependencies() -> None:
    """DependencyError naming the extra to install when starlette, uvicorn or websockets is missing."""
    missing = missing_modules()
    if missing:
        names = " and ".join([", ".join(missing[:-1]), missing[-1]] if len(missing) > 1 else missing)
        raise DependencyError(f"stylecam serve needs {names} (not installed): {INSTALL_HINT}")


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def new_token() -> str:
    """A random access token for the URL (128 bits, URL-safe)."""
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class ServeConfig:
    """The server's address, access rule and per-client limits.

    Attributes:
        host: address to bind (``127.0.0.1``: this machine only).
        port: TCP port (0: any free port).
        token: access token every request must carry (``?token=`` or the cookie the page sets);
            None only on a loopback address. Required when ``host`` is reachable from elsewhere.
        max_clients: browser tabs served at once; more are refused (they may retry).
        max_frame_bytes: largest JPEG accepted from a client.
        max_frame_pixels: largest frame (width x height) accepted; checked from the JPEG header
            before anything is decoded.
        max_fps: frames per second accepted from one client; faster ones are dropped and counted.
        jpeg_quality: quality of the stylized JPEGs sent back (50-95).
    """

    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = None
    max_clients: int = 8
    max_frame_bytes: int = 2 * 2**20
    max_frame_pixels: int = 1920 * 1080
    max_fps: float = 30.0
    jpeg_quality: int = 80

    def __post_init__(self) -> None:
        if not is_loopback(self.host) and not self.token:
            raise UsageError(
                f"serving on {self.host} lets other machines connect; it needs an access token (--allow-remote)"
            )
        if self.token is not None and len(self.token) < 16:
            raise UsageError("the access token must be at least 16 characters")
        if not 0 <= self.port <= 65535:
            raise UsageError(f"--port must be between 0 and 65535, got {self.port}")
        for name, value, low, high in (
            ("--max-clients", self.max_clients, 1, 256),
            ("--max-frame-kb", self.max_frame_bytes / 1024, 16, 65536),
            ("--max-frame-pixels", self.max_frame_pixels, 64 * 64, 7680 * 4320),
            ("--max-fps", self.max_fps, 1, 120),
            ("--jpeg-quality", self.jpeg_quality, 50, 95),
        ):
            if not low <= value <= high:
                raise UsageError(f"{name} must be between {low:g} and {high:g}, got {value:g}")

    @property
    def remote(self) -> bool:
        return not is_loopback(self.host)

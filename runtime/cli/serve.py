"""``stylecam serve``: a web page that paints the browser's camera live, stylized on this machine.

    stylecam serve                                    # every bundled style, http://127.0.0.1:8765/
    stylecam serve --model starry_night --model udnie --port 9000
    stylecam serve --host 0.0.0.0 --allow-remote --certfile cert.pem --keyfile key.pem

The page sends its camera as JPEG frames over a WebSocket and shows what comes back; one inference
thread serves every open tab in turn. Local by default: another address needs --allow-remote, and
then every request needs the random token printed at start. Needs the `serve` extra
(pip install 'stylecam[serve]'); nothing heavy is imported until ``run``.
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from stylecam.errors import UsageError
from stylecam.runtime.cli import options

if TYPE_CHECKING:
    from stylecam.runtime.serve.config import ServeConfig

DEFAULT_PORT = 8765


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``stylecam serve`` (argparse only)."""
    styles = parser.add_argument_group("styles")
    styles.add_argument(
        "--model",
        action="append",
        metavar="PATH|NAME",
        help="style model: an .onnx file or a bundled model name; repeat it to offer several "
        "(default: every bundled style)",
    )
    styles.add_argument(
        "--arch",
        choices=("reference", "lite", "fast"),
        help="variant of bundled styles (default: lite on a CPU, fast on a GPU, where shipped; else reference)",
    )
    net = parser.add_argument_group("network")
    net.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1: this machine only)")
    net.add_argument("--port", type=int, default=DEFAULT_PORT, help="TCP port (0: any free port)")
    net.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host other machines can reach; every request then needs the printed access token",
    )
    net.add_argument("--certfile", metavar="PEM", help="TLS certificate: serve https (browsers want it off localhost)")
    net.add_argument("--keyfile", metavar="PEM", help="TLS private key for --certfile")
    limits = parser.add_argument_group("limits per tab")
    limits.add_argument("--max-clients", type=int, default=8, metavar="N", help="browser tabs served at once")
    limits.add_argument("--max-fps", type=float, default=30.0, metavar="FPS", help="frames accepted per second")
    limits.add_argument("--max-frame-kb", type=int, default=2048, metavar="KB", help="largest JPEG frame accepted")
    limits.add_argument(
        "--max-frame-pixels", type=int, default=1920 * 1080, metavar="N", help="largest frame (width x height)"
    )
    limits.add_argument(
        "--jpeg-quality", type=int, default=80, metavar="Q", help="quality of the frames sent back (50-95)"
    )
    options.add_provider(parser)


def _config(args: argparse.Namespace) -> ServeConfig:
    from stylecam.runtime.serve.config import ServeConfig, is_loopback, new_token

    if not is_loopback(args.host) and not args.allow_remote:
        raise UsageError(
            f"--host {args.host} lets other machines see and use your camera stream; add --allow-remote "
            "to mean it (an access token is then required), or keep the default 127.0.0.1"
        )
    if bool(args.certfile) != bool(args.keyfile):
        raise UsageError("--certfile and --keyfile go together; give both or neither")
    for path in filter(None, (args.certfile, args.keyfile)):
        if not Path(path).is_file():
            raise UsageError(f"no such file: {path}")
    return ServeConfig(
        host=args.host,
        port=args.port,
        token=new_token() if args.allow_remote else None,
        max_clients=args.max_clients,
        max_frame_bytes=args.max_frame_kb * 1024,
        max_frame_pixels=args.max_frame_pixels,
        max_fps=args.max_fps,
        jpeg_quality=args.jpeg_quality,
    )


def run(args: argparse.Namespace) -> int:
    """Run ``stylecam serve`` until Ctrl-C; returns the exit code (errors are raised as StylecamError)."""
    from stylecam.runtime.serve.config import require_serve_dependencies

    require_serve_dependencies()
    config = _config(args)  # checked before any model loads
    from stylecam.runtime.cli.stream import ALL_MODELS, resolve_models
    from stylecam.runtime.config import RuntimeConfig
    from stylecam.runtime.inference.stylizer import Stylizer
    from stylecam.runtime.serve.server import StyleServer, TLSFiles
    from stylecam.runtime.serve.styles import StylePool

    models = resolve_models(args.model or [ALL_MODELS], arch=args.arch, gpu=False if args.provider == "cpu" else None)
    runtime = RuntimeConfig(provider=args.provider, device_id=args.device_id, require_gpu=args.require_gpu)
    tls = TLSFiles(args.certfile, args.keyfile) if args.certfile else None
    pool = StylePool(models, lambda path: Stylizer(path, runtime))
    server = StyleServer(config, pool, tls=tls)
    try:
        server.bind()
    except BaseException:
        pool.close()
        raise
    names = ", ".join(pool.names)
    print(f"stylecam: serving {len(models)} style{'s' if len(models) != 1 else ''} ({names}) on {pool.providers[0]}")
    print(f"stylecam: open {server.url} in a browser (Ctrl-C stops)", flush=True)
    if config.token:
        print("stylecam: anyone with this URL (it holds the access token) can use the server", flush=True)
    # Ctrl-C or SIGTERM is how a server stops: the sockets, the worker and the models are closed by then.
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    done = server.summary()
    print(f"stylecam: stopped; {done['frames']} frames painted for {done['tabs']} tab(s)")
    return 0

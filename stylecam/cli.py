"""The ``stylecam`` command: a thin dispatcher over per-package subcommand modules.

Each subcommand lives in its package's ``cli`` module, which exposes ``add_arguments(parser)`` and
``run(args) -> int`` and imports heavy libraries (torch) only inside ``run``. Only the chosen
subcommand's module is imported, so ``stylecam --help`` and the runtime commands never load torch.
This is the only place that turns :class:`StylecamError` into a message and an exit code.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import shlex
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from stylecam import __version__
from stylecam.errors import StylecamError


@dataclass(frozen=True)
class Command:
    module: str
    summary: str


# name -> module. Add a command here only once it works.
COMMANDS: dict[str, Command] = {
    "paint": Command("stylecam.train.paint.cli", "optimisation-based style transfer of one image (Gatys)"),
    "live": Command("stylecam.runtime.cli.live", "stylize a webcam in a window with hotkeys (styles, smoothing, view)"),
    "convert": Command("stylecam.runtime.cli.convert", "stylize a video file, audio kept (or an image sequence)"),
    "image": Command("stylecam.runtime.cli.image", "stylize image files or folders, any size, transparency kept"),
    "run": Command("stylecam.runtime.cli.run", "any source to any output: camera, video, image sequence or image"),
    "serve": Command(
        "stylecam.runtime.cli.serve", "a local web page that paints the browser's camera live (needs [serve])"
    ),
    "train": Command("stylecam.train.cli", "train a fast feed-forward style network on a folder of photos"),
    "learn": Command(
        "stylecam.train.learn.cli", "your own painting -> a ready-to-run style model in minutes (needs [train])"
    ),
    "eval": Command(
        "stylecam.train.evaluation.cli", "temporal stability (warping error) and style/content loss on a video"
    ),
    "bench": Command("stylecam.runtime.cli.bench", "measure FPS and latency of a model (p50/p95, host recorded)"),
    "export": Command("stylecam.export.cli", "checkpoint -> checked ONNX model with metadata and a parity report"),
    "info": Command("stylecam.info_cli", "show an exported model: metadata, inputs/outputs, opset, size, parameters"),
    "doctor": Command("stylecam.doctor_cli", "check this machine: OpenCV, PyAV encoders, ONNX Runtime, GPU, cameras"),
    "styles": Command(
        "stylecam.runtime.cli.styles", "list the bundled style models (painting, size, parity) and how to use one"
    ),
    "demo": Command(
        "stylecam.runtime.cli.demo", "paint the bundled demo clip with a bundled style (no downloads, no torch)"
    ),
}
# `stylecam --model starry.onnx` (no subcommand) means `stylecam live --model starry.onnx`.
DEFAULT_COMMAND = "live"

log = logging.getLogger("stylecam")


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("general")
    group.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    group.add_argument("-v", "--verbose", action="store_true", help="more log output")
    group.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    return common


def _top_level_help() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [f"  {name.ljust(width)}  {cmd.summary}" for name, cmd in COMMANDS.items()]
    default = (
        f"\n`stylecam --model M [...]` is short for `stylecam {DEFAULT_COMMAND} --model M [...]`."
        if DEFAULT_COMMAND in COMMANDS
        else ""
    )
    return (
        f"usage: stylecam <command> [options]   (stylecam <command> --help for its options)\n\n"
        f"stylecam {__version__}: real-time neural style transfer.\n\ncommands:\n" + "\n".join(lines) + default + "\n"
    )


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Appends ``(default: X)`` only where it says something: not for None, False, or a help text
    that already names its default."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default in (None, False, []) or "default" in text.lower():
            return action.help
        return super()._get_help_string(action)


def build_parser(name: str) -> argparse.ArgumentParser:
    """Build the parser of one subcommand (imports only that subcommand's module)."""
    module = importlib.import_module(COMMANDS[name].module)
    parser = argparse.ArgumentParser(
        prog=f"stylecam {name}",
        description=COMMANDS[name].summary,
        parents=[_common_options()],
        formatter_class=_HelpFormatter,
    )
    module.add_arguments(parser)
    parser.set_defaults(_run=module.run)
    return parser


def _split_command(argv: list[str]) -> tuple[str | None, list[str]]:
    if not argv:
        return None, argv
    if argv[0] in COMMANDS:
        return argv[0], argv[1:]
    is_option = argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")
    if is_option and DEFAULT_COMMAND in COMMANDS:
        return DEFAULT_COMMAND, argv
    return None, argv


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record comes, not the one it was made with.

    A handler that keeps the stream of its creation goes on writing into a replaced stream once
    the caller put the real one back (tests capturing output, an embedding application), and
    every later log line then ends in "ValueError: I/O operation on closed file".
    """

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:  # StreamHandler.__init__ assigns it: ignored
        pass


def _configure_logging(args: argparse.Namespace) -> None:
    level = logging.INFO
    if args.quiet:
        level = logging.WARNING
    if args.verbose or args.debug:
        level = logging.DEBUG
    logging.basicConfig(level=level, format="stylecam: %(message)s", handlers=[_StderrHandler()], force=True)
    if not args.debug:
        # Third-party chatter stays out of a normal run.
        for noisy in ("PIL", "matplotlib", "h5py", "tensorboard", "onnxscript", "onnx_ir", "torch.onnx"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def _fail(message: str, code: int) -> int:
    # One line, no traceback: the message itself names the problem and the fix. Messages can quote
    # text from a damaged file or a native library: keep them on one line, without control characters.
    text = " ".join("".join(ch if ch.isprintable() or ch.isspace() else "?" for ch in message).split())
    print(f"stylecam: error: {text}", file=sys.stderr)
    return code


class _Interruption:
    """SIGTERM (kill, docker stop, a scheduler) stops a command the way Ctrl-C does.

    Python's default for SIGTERM ends the process on the spot: no partial file kept, a hidden
    temporary file left beside the target. Raising KeyboardInterrupt instead runs the same clean
    stop as Ctrl-C. Commands with their own handler (training saves first) replace it meanwhile.
    """

    def __init__(self) -> None:
        self.cause, self.exit_code = "Ctrl-C", 130

    def _handler(self, signum: int, _frame: object) -> None:
        self.cause, self.exit_code = signal.Signals(signum).name, 128 + signum
        raise KeyboardInterrupt

    @contextlib.contextmanager
    def on_sigterm(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # signal handlers can only be installed from the main thread
            return
        previous = signal.signal(signal.SIGTERM, self._handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``stylecam`` console script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    name, rest = _split_command(argv)
    if name is None:
        if argv and argv[0] == "--version":
            print(f"stylecam {__version__}")
            return 0
        if argv and argv[0] not in ("-h", "--help"):
            choices = ", ".join(COMMANDS)
            return _fail(f"unknown command {argv[0]!r}; choose one of: {choices}", 2)
        print(_top_level_help(), end="")
        return 0 if argv else 2
    parser = build_parser(name)
    args = parser.parse_args(rest)
    # What a result file records as the command that made it (bench --json, eval --json).
    args.command_line = shlex.join(["stylecam", name, *rest])
    _configure_logging(args)
    stop = _Interruption()
    try:
        with stop.on_sigterm():
            return int(args._run(args) or 0)
    except StylecamError as exc:
        if args.debug:
            raise
        return _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        if args.debug:
            raise
        return _fail(f"interrupted ({stop.cause}); nothing was left half-written", stop.exit_code)
    except Exception as exc:  # a bug: say so in one line, keep the traceback for --debug
        if args.debug:
            raise
        return _fail(
            f"unexpected {type(exc).__name__}: {exc} (a bug in stylecam; rerun with --debug for the traceback)",
            70,
        )


if __name__ == "__main__":
    raise SystemExit(main())

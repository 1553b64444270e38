"""`stylecam serve` from the command line: what it refuses up front, a real run stopped by Ctrl-C, no torch."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from stylecam.cli import main
from stylecam.runtime.serve import config as serve_config
from tests.conftest import ctrl_c_like_a_terminal

pytest.importorskip("uvicorn", reason="the serve extra is not installed: pip install -e '.[dev]'")
ROOT = Path(__file__).resolve().parents[3]


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    (line,) = [line for line in err.splitlines() if line.startswith("stylecam: error:")]
    return line


def test_without_the_extra_it_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(serve_config, "missing_modules", lambda modules=(): ["starlette", "uvicorn"])
    assert main(["serve"]) == 6
    assert _error(capsys) == (
        "stylecam: error: stylecam serve needs starlette and uvicorn (not installed): pip install 'stylecam[serve]'"
    )


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (
            ["--host", "0.0.0.0"],
            "--host 0.0.0.0 lets other machines see and use your camera stream; add --allow-remote",
        ),
        (["--host", "192.0.2.7"], "add --allow-remote"),
        (["--certfile", "cert.pem"], "--certfile and --keyfile go together"),
        (["--certfile", "missing.pem", "--keyfile", "missing.key"], "no such file: missing.pem"),
        (["--max-fps", "0"], "--max-fps must be between 1 and 120"),
        (["--port", "99999"], "--port must be between 0 and 65535"),
    ],
)
def test_unsafe_or_bad_options_fail_before_any_model_loads(
    argv: list[str], reason: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import stylecam.runtime.cli.stream as stream

    monkeypatch.setattr(stream, "resolve_models", lambda *a, **k: pytest.fail("got as far as the models"))
    assert main(["serve", *argv]) == 2
    assert reason in _error(capsys)


def _start(*args: str) -> tuple[subprocess.Popen[str], str]:
    """``stylecam serve`` in a subprocess; returns it and the URL it printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "stylecam", "serve", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=ctrl_c_like_a_terminal,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    lines = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        match = re.search(r"open (http://\S+) in a browser", line)
        if match:
            return process, match.group(1)
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError(f"no URL printed: {lines} {process.stderr.read() if process.stderr else ''}")


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize("remote", [False, True])
def test_a_real_run_serves_the_page_and_stops_cleanly_on_ctrl_c(invert_model: Path, remote: bool) -> None:
    # --allow-remote on a loopback address: the token path, without listening beyond this machine.
    process, url = _start("--model", str(invert_model), *(["--allow-remote"] if remote else []))
    try:
        assert _status(url) == 200
        if remote:
            assert re.search(r"\?token=[\w-]{16,}$", url)
            assert _status(url.split("?")[0]) == 403
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "stylecam: stopped; 0 frames painted for 0 tab(s)" in out and "Traceback" not in err


def test_sigterm_stops_it_too(invert_model: Path) -> None:
    process, url = _start("--model", str(invert_model))
    try:
        assert _status(url) == 200
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0 and "stylecam: stopped" in out, err


def test_the_server_and_its_command_never_import_torch() -> None:
    probe = (
        "import sys\n"
        "from stylecam.cli import build_parser\n"
        "build_parser('serve')\n"
        "print('uvicorn' in sys.modules)\n"  # the parser alone stays light
        "import stylecam.runtime.serve.server, stylecam.runtime.cli.serve\n"
        "print('torch' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["False", "False"], result.stderr

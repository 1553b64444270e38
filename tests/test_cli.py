"""The top-level dispatcher: help, version, unknown commands, exit codes, no torch for runtime paths."""

from __future__ import annotations

import argparse
import io
import logging
import os
import signal
import subprocess
import sys
import time

import pytest

from stylecam import __version__, cli
from stylecam.cli import COMMANDS, main
from stylecam.errors import ModelLoadError


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"stylecam {__version__}"


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out


def test_no_arguments_prints_usage_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage" in capsys.readouterr().out


def test_unknown_command_names_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fly"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown command 'fly'" in err and "paint" in err


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([name, "--help"])
    assert exc.value.code == 0
    assert f"stylecam {name}" in capsys.readouterr().out


def _imports_torch(code: str) -> bool:
    probe = f"import sys\n{code}\nprint('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1] == "True"


def test_runtime_package_never_imports_torch() -> None:
    assert not _imports_torch("import stylecam, stylecam.runtime, stylecam.images, stylecam.atomic")


def test_building_any_parser_never_imports_torch() -> None:
    code = "from stylecam.cli import COMMANDS, build_parser\nfor name in COMMANDS: build_parser(name)"
    assert not _imports_torch(code)


def test_console_script_runs_as_module() -> None:
    out = subprocess.run([sys.executable, "-m", "stylecam", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and __version__ in out.stdout


def test_an_error_quoting_damaged_text_is_still_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import stylecam.runtime.cli.run as run_cli

    def fail(_args: object) -> int:
        raise ModelLoadError("model.onnx uses operators from 'evil\n\x07ops';\r\nre-export it")

    monkeypatch.setattr(run_cli, "run", fail)
    assert main(["run", "--model", "model.onnx"]) == ModelLoadError.exit_code
    assert capsys.readouterr().err == "stylecam: error: model.onnx uses operators from 'evil ?ops'; re-export it\n"


def test_sigterm_stops_a_command_like_ctrl_c(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """kill / docker stop: without a handler Python dies on the spot and leaves temporary files behind."""
    import stylecam.runtime.cli.run as run_cli

    def terminated(_args: object) -> int:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # interrupted before this ends
        return 0

    before = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(run_cli, "run", terminated)
    assert main(["run", "--model", "model.onnx"]) == 143
    assert capsys.readouterr().err == "stylecam: error: interrupted (SIGTERM); nothing was left half-written\n"
    assert signal.getsignal(signal.SIGTERM) is before


def test_log_lines_go_to_the_current_stderr_not_a_replaced_one(monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    cli._configure_logging(argparse.Namespace(quiet=False, verbose=False, debug=False))
    monkeypatch.setattr(sys, "stderr", second)
    first.close()  # what a finished test's captured stream looks like
    logging.getLogger("stylecam.test").info("still heard")
    assert second.getvalue() == "stylecam: still heard\n"

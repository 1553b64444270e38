"""Pre-emption and crashes of a real `stylecam train` process: SIGTERM saves, SIGKILL loses nothing saved.

A scheduler stops a job with SIGTERM (then SIGKILL if it lingers); a machine can die at any
moment. The checkpoint on disk must always be a complete one that ``--resume`` continues from.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from stylecam.train.config import RunOptions  # noqa: E402
from stylecam.train.loop.runner import train  # noqa: E402
from tests.train.loop.test_run import FAST, TINY  # noqa: E402

FAST_FLAGS = ["--content-layers", "relu2_1", "--style-layers", "relu1_1,relu2_1", "--size", "32", "--batch", "2"]


def _saved_step(path: Path) -> int:
    """The step of the checkpoint at ``path`` (-1 while there is none); it must always load."""
    if not path.exists():
        return -1
    return int(torch.load(path, weights_only=True)["step"])


def _start(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "stylecam", "train", *args, "--save-every", "1", "--sample-every", "0", "-q"]
    return subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_step(process: subprocess.Popen[str], checkpoint: Path, step: int, timeout: float = 240) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        saved = _saved_step(checkpoint)
        if saved >= step:
            return saved
        time.sleep(0.2)
    process.kill()
    raise AssertionError(f"no checkpoint at step {step} within {timeout:.0f} s")


def test_sigkill_mid_run_keeps_the_last_checkpoint_and_resume_finishes(
    photo_dir: Path, painting: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run.pt"
    args = ["--style", str(painting), "--data", str(photo_dir), "-o", str(out), "--steps", "400", *FAST_FLAGS]
    first = _start(args, tmp_path)
    _wait_for_step(first, out, 2)
    first.kill()  # a crash: no handler runs, whatever was being written is abandoned
    first.communicate(timeout=60)
    crashed = torch.load(out, weights_only=True)  # still a complete checkpoint: the rename is atomic
    assert crashed["complete"] is False and crashed["step"] >= 2

    second = _start(["--resume", str(out), "--steps", str(crashed["step"] + 1)], tmp_path)
    out_text, err = second.communicate(timeout=240)
    assert second.returncode == 0 and "Traceback" not in err, err
    final = torch.load(out, weights_only=True)
    assert final["complete"] is True and final["step"] == crashed["step"] + 1
    assert f"wrote {out} ({crashed['step'] + 1} steps" in out_text
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".run."))
    assert len(leftovers) <= 1, leftovers  # at most the temp file the kill interrupted mid-save


def test_sigterm_from_a_scheduler_saves_and_names_the_resume_command(
    photo_dir: Path, painting: Path, tmp_path: Path, one_thread, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "job.pt"
    options = RunOptions(style=str(painting), data=photo_dir, output=out, sample_every=0, save_every=0, progress=False)

    def preempt_at_step_2(state, _terms) -> None:
        if state.step == 2:
            os.kill(os.getpid(), signal.SIGTERM)  # what SLURM/Kubernetes send before the kill

    with pytest.raises(KeyboardInterrupt):
        train(options, {"size": 32, "batch_size": 2, "steps": 6, **FAST}, model_config=TINY, on_step=preempt_at_step_2)
    saved = torch.load(out, weights_only=True)
    assert saved["step"] == 2 and saved["complete"] is False
    assert "SIGTERM: finishing this step" in caplog.text and f"stylecam train --resume {out}" in caplog.text

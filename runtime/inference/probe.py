"""Load a model once in a throw-away subprocess, so a crash inside ONNX Runtime cannot take us down.

Why a subprocess: ONNX Runtime is native code, and crafted graphs have crashed it (segfaults in
shape inference and kernels have been reported and fixed over the years). A Python ``try`` cannot
catch a segfault, and in ``stylecam run`` that would kill the process mid-stream. The probe costs
about a second (a fresh interpreter importing onnxruntime, one CPU session, one tiny run), so
``RuntimeConfig(probe="auto")`` spends it only on models *without* stylecam metadata: files that
did not come from ``stylecam export`` (which already checked them and ran them in ORT) and whose
origin we know nothing about. Metadata is not a signature, so ``probe="always"`` exists for
untrusted sources; ``never`` skips it.

A Python exception in the probe is not a verdict: the in-process load raises the same error with
a proper message. Only a death by signal or a hang condemns the file.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from stylecam.errors import ModelLoadError

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 120.0

# Runs in a fresh interpreter: a CPU session and one run on a tiny input shaped by the signature.
PROBE_SCRIPT = """
import sys
import numpy as np
import onnxruntime as ort
options = ort.SessionOptions()
options.log_severity_level = 3
session = ort.InferenceSession(sys.argv[1], options, providers=["CPUExecutionProvider"])
dtypes = {"tensor(uint8)": np.uint8, "tensor(float)": np.float32, "tensor(float16)": np.float16}
feeds = {}
for arg in session.get_inputs():
    shape = [dim if isinstance(dim, int) and dim > 0 else 16 for dim in arg.shape]
    feeds[arg.name] = np.full(shape, 100, dtypes.get(arg.type, np.float32))
session.run(None, feeds)
"""


def probe_model(path: Path, *, timeout_s: float = PROBE_TIMEOUT_S, script: str = PROBE_SCRIPT) -> None:
    """Load and run ``path`` in a subprocess; ModelLoadError if that crashes or hangs ONNX Runtime."""
    # A fresh empty working folder: the interpreter puts the cwd on sys.path, and the model's own
    # folder could hold a planted `onnxruntime.py`.
    with tempfile.TemporaryDirectory(prefix="stylecam-probe-") as workdir:
        try:
            result = subprocess.run(
                [sys.executable, "-c", script, str(Path(path).resolve())],
                cwd=workdir,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ModelLoadError(
                f"{path} made ONNX Runtime hang for {timeout_s:.0f} s in a test load; the file is damaged or "
                "hostile: do not use it (re-export it, or pass probe='never' only if you trust it)"
            ) from exc
    if result.returncode < 0:
        name = _signal_name(-result.returncode)
        raise ModelLoadError(
            f"{path} crashed ONNX Runtime ({name}) in a test load in a separate process; the file is corrupt "
            "or hostile: do not use it, re-export or download it again"
        )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["?"])[-1]
        log.debug("probe of %s raised (the in-process load reports it): %s", path, last[:300])


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"

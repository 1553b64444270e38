"""What machine a benchmark ran on: CPU, GPU and driver, library versions, date, and load.

A speed number is only meaningful with its machine, and on a shared machine with its load: the
load average is recorded at the start and end of every run so numbers taken under load can be
recognised (and re-taken).
"""

from __future__ import annotations

import datetime
import logging
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

NO_GPU = "none"


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's marketing name (Linux /proc/cpuinfo; elsewhere what :mod:`platform` knows)."""
    try:
        for line in cpuinfo.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Hardware", "Processor") and value.strip():
                return " ".join(value.split())
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def usable_cores() -> int:
    """Cores this process may run on (the affinity mask, which containers narrow), else the CPU count."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def gpus(nvidia_smi: str | None = None, *, timeout: float = 10.0) -> list[dict[str, str]]:
    """NVIDIA GPUs as ``[{"name", "driver", "memory"}]`` from ``nvidia-smi`` (empty when there is none)."""
    command = nvidia_smi or shutil.which("nvidia-smi")
    if not command:
        return []
    query = ["--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"]
    try:
        out = subprocess.run([command, *query], capture_output=True, text=True, timeout=timeout, check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        log.debug("nvidia-smi failed (%s): reporting no GPU", exc)
        return []
    found = []
    for line in out.strip().splitlines():
        parts = [part.strip() for part in line.split(",")]
        if len(parts) >= 3 and parts[0]:
            found.append({"name": parts[0], "driver": parts[1], "memory": parts[2]})
    return found


def load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages (None where the OS has none)."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def library_versions() -> dict[str, Any]:
    """Versions of what the runtime measures with, and every ONNX Runtime package installed."""
    import av
    import cv2
    import numpy
    import onnxruntime

    import stylecam
    from stylecam.ortcheck import installed_ort_distributions

    return {
        "stylecam": stylecam.__version__,
        "python": platform.python_version(),
        "onnxruntime": onnxruntime.__version__,
        "onnxruntime_packages": installed_ort_distributions(),
        "onnxruntime_providers": list(onnxruntime.get_available_providers()),
        "numpy": numpy.__version__,
        "opencv": cv2.__version__,
        "av": av.__version__,
        "ffmpeg": ".".join(str(part) for part in av.library_versions.get("libavcodec", ())) or "unknown",
        "torch": _torch_version(),
    }


def _torch_version() -> str | None:
    # Only reported if something already imported it: the runtime never imports torch itself.
    module = sys.modules.get("torch")
    return getattr(module, "__version__", None) if module is not None else None


def host_info() -> dict[str, Any]:
    """The machine description stored with every benchmark and eval result."""
    found = gpus()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "os": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
        "cpu": cpu_model(),
        "cores": usable_cores(),
        "gpu": ", ".join(gpu["name"] for gpu in found) or NO_GPU,
        "gpu_driver": found[0]["driver"] if found else NO_GPU,
        "gpus": found,
        "libraries": library_versions(),
        "opencv_threads": _opencv_threads(),
    }


def _opencv_threads() -> int:
    import cv2

    return int(cv2.getNumThreads())


def device_name(device: str, host: dict[str, Any], device_id: int = 0) -> str:
    """A row's device in words: the GPU's name for ``cuda``, else the CPU's."""
    if device == "cuda":
        gpus_found = host.get("gpus") or []
        name = gpus_found[device_id]["name"] if device_id < len(gpus_found) else host.get("gpu", "GPU")
        return f"cuda:{device_id} ({name})"
    return f"cpu ({host.get('cpu', 'unknown')}, {host.get('cores', '?')} cores)"

"""``stylecam doctor``: is this machine ready to run stylecam, and if not, what to do. Torch-free.

One function per item, each returning a :class:`CheckResult` (ok / warn / fail, what was found,
and the fix). ``fail`` means a stylecam feature is broken here; ``warn`` means an optional part is
missing (no GPU, no camera) and stylecam still works without it. Small helpers that touch the
system (library lookup, codec lookup, device listing, camera opening) are module functions so
tests can swap them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import importlib
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from stylecam.ortcheck import installed_ort_distributions, ort_conflict_message

log = logging.getLogger(__name__)

STATUSES = ("ok", "warn", "fail")
ENCODERS = {"h264": ("libx264", "h264"), "hevc": ("libx265", "hevc"), "mpeg4": ("mpeg4",), "aac": ("aac",)}
GPU_LIBRARIES = {
    "CUDA runtime": ("cudart", "libcudart.so.12", "libcudart.so.13", "libcudart.so.11.0"),
    "cuDNN": ("cudnn", "libcudnn.so.9", "libcudnn.so.8"),
    "TensorRT": ("nvinfer", "libnvinfer.so.10", "libnvinfer.so.8"),
}
MIN_PYTHON = (3, 10)
CAMERA_TIMEOUT_S = 3.0
MAX_CAMERAS = 4


@dataclass(frozen=True)
class CheckResult:
    """One line of the doctor's report."""

    name: str
    status: str
    detail: str
    fix: str = ""


def _import(name: str) -> Any:
    return importlib.import_module(name)


def check_python() -> CheckResult:
    version = ".".join(map(str, sys.version_info[:3]))
    if tuple(sys.version_info[:2]) < MIN_PYTHON:
        return CheckResult("python", "fail", f"Python {version}", "stylecam needs Python >= 3.10; upgrade Python")
    return CheckResult("python", "ok", f"Python {version} ({sys.executable})")


def _package(name: str, module: str, pip_name: str) -> tuple[Any, CheckResult | None]:
    try:
        return _import(module), None
    except ImportError as exc:
        return None, CheckResult(name, "fail", f"cannot import {module}: {exc}", f"pip install {pip_name}")


def check_numpy() -> CheckResult:
    numpy, problem = _package("numpy", "numpy", "'numpy>=1.24'")
    return problem or CheckResult("numpy", "ok", f"numpy {numpy.__version__}")


def check_opencv() -> CheckResult:
    cv2, problem = _package("opencv", "cv2", "opencv-python")
    if problem:
        return problem
    registry = cv2.videoio_registry
    cameras = sorted({registry.getBackendName(b) for b in registry.getCameraBackends()})
    gui = next((line.split(":", 1)[1].strip() for line in cv2.getBuildInformation().splitlines() if "GUI:" in line), "")
    detail = f"OpenCV {cv2.__version__}; camera backends: {', '.join(cameras) or 'none'}; GUI: {gui or 'none'}"
    if not cameras:
        return CheckResult("opencv", "fail", detail, "this OpenCV build cannot open cameras: pip install opencv-python")
    if not gui or gui.upper() == "NONE":
        fix = "preview windows need a GUI build: pip uninstall -y opencv-python-headless && pip install opencv-python"
        return CheckResult("opencv", "warn", detail, fix)
    return CheckResult("opencv", "ok", detail)


def _encoder(name: str) -> str | None:
    """The encoder PyAV would use for ``name``, or None."""
    import av

    try:
        return av.codec.Codec(name, "w").name
    except Exception:  # UnknownCodecError, or a codec that exists only as a decoder
        return None


def check_pyav() -> CheckResult:
    av, problem = _package("pyav", "av", "'av>=12'")
    if problem:
        return problem
    found = {kind: next(filter(None, (_encoder(n) for n in names)), None) for kind, names in ENCODERS.items()}
    listed = ", ".join(f"{kind}={enc or 'missing'}" for kind, enc in found.items())
    detail = f"PyAV {av.__version__}; encoders: {listed}"
    if not found["h264"] and not found["mpeg4"]:
        return CheckResult(
            "pyav", "fail", detail, "no video encoder: pip install --force-reinstall av (wheels bundle x264)"
        )
    missing = [kind for kind, enc in found.items() if not enc]
    if missing:
        fix = (
            f"{', '.join(missing)} output unavailable; the PyPI av wheels bundle them: pip install --force-reinstall av"
        )
        return CheckResult("pyav", "warn", detail, fix)
    return CheckResult("pyav", "ok", detail)


def check_onnx() -> CheckResult:
    onnx, problem = _package("onnx", "onnx", "'onnx>=1.16'")
    return problem or CheckResult("onnx", "ok", f"onnx {onnx.__version__}")


def check_onnxruntime() -> CheckResult:
    conflict = ort_conflict_message(installed_ort_distributions())
    if conflict:
        return CheckResult(
            "onnxruntime", "fail", "several ONNX Runtime packages installed", conflict.split("fix: ")[-1]
        )
    ort, problem = _package("onnxruntime", "onnxruntime", "onnxruntime (or onnxruntime-gpu for NVIDIA GPUs)")
    if problem:
        return problem
    providers = ort.get_available_providers()
    detail = f"onnxruntime {ort.__version__}; providers: {', '.join(providers)}"
    return CheckResult("onnxruntime", "ok", detail)


def _find_library(names: Sequence[str]) -> str | None:
    """The first of ``names`` the dynamic loader can open (a bare name goes through find_library)."""
    for name in names:
        candidate = name if name.startswith("lib") else ctypes.util.find_library(name)
        if not candidate:
            continue
        try:
            ctypes.CDLL(candidate)
            return candidate
        except OSError:
            continue
    return None


def _gpu_providers() -> list[str]:
    ort = _import("onnxruntime")
    return [p for p in ort.get_available_providers() if p in ("CUDAExecutionProvider", "TensorrtExecutionProvider")]


def check_gpu_libraries() -> CheckResult:
    found = {name: _find_library(names) for name, names in GPU_LIBRARIES.items()}
    detail = "; ".join(f"{name}: {lib or 'not found'}" for name, lib in found.items())
    providers = _gpu_providers()
    if not providers:
        fix = (
            "CPU only. For NVIDIA GPUs: pip install 'stylecam[gpu]' && pip uninstall -y onnxruntime (CUDA 12 + cuDNN 9)"
        )
        return CheckResult("gpu", "warn", f"no GPU provider in ONNX Runtime; {detail}", fix)
    if not found["CUDA runtime"] or not found["cuDNN"]:
        fix = "onnxruntime-gpu cannot load without them: pip install 'nvidia-cudnn-cu12' 'nvidia-cuda-runtime-cu12'"
        return CheckResult("gpu", "fail", f"{', '.join(providers)} listed, but {detail}", fix)
    if "TensorrtExecutionProvider" in providers and not found["TensorRT"]:
        return CheckResult(
            "gpu", "warn", detail, "TensorRT EP needs libnvinfer: pip install tensorrt (else CUDA is used)"
        )
    return CheckResult("gpu", "ok", f"{', '.join(providers)}; {detail}")


def _video_devices() -> list[int]:
    """Camera indices worth probing: /dev/videoN on Linux, else the first few indices."""
    if sys.platform.startswith("linux"):
        return sorted(int(p.removeprefix("/dev/video")) for p in glob.glob("/dev/video[0-9]*"))[:MAX_CAMERAS]
    return list(range(2))


def _open_camera(index: int, timeout: float) -> str | None:
    """Open camera ``index`` and read one frame within ``timeout`` s; return "WxH" or None."""
    result: list[str] = []

    def probe() -> None:
        import cv2

        capture = cv2.VideoCapture(index)
        try:
            ok, frame = capture.read() if capture.isOpened() else (False, None)
            if ok and frame is not None:
                result.append(f"{frame.shape[1]}x{frame.shape[0]}")
        finally:
            capture.release()

    # A daemon thread: a driver that hangs in open() cannot hang the doctor.
    thread = threading.Thread(target=probe, daemon=True, name=f"camera-probe-{index}")
    thread.start()
    thread.join(timeout)
    return result[0] if result else None


def check_cameras(timeout: float = CAMERA_TIMEOUT_S) -> CheckResult:
    indices = _video_devices()
    if not indices:
        return CheckResult(
            "cameras", "warn", "no camera found", "connect a webcam for live mode (files and images work)"
        )
    opened = {i: _open_camera(i, timeout) for i in indices}
    working = [f"{i} ({size})" for i, size in opened.items() if size]
    if not working:
        fix = "close other apps using the camera, and check permissions (Linux: add yourself to the 'video' group)"
        return CheckResult("cameras", "warn", f"camera(s) {indices} did not deliver a frame in {timeout:.0f} s", fix)
    return CheckResult("cameras", "ok", f"working: {', '.join(working)} (use --source INDEX)")


VCAM_FIX = (
    "Linux: sudo apt install v4l2loopback-dkms && sudo modprobe v4l2loopback devices=1 exclusive_caps=1; "
    "Windows/macOS: install OBS Studio and start its Virtual Camera once"
)


def _open_virtual_camera(timeout: float) -> tuple[str | None, str | None]:
    """Open and close a tiny virtual camera: (device, None) if one works, else (None, why not)."""
    result: list[tuple[str | None, str | None]] = []

    def probe() -> None:
        pyvirtualcam = _import("pyvirtualcam")
        try:
            with pyvirtualcam.Camera(width=64, height=48, fps=5, print_fps=False) as camera:
                result.append((str(camera.device), None))
        except Exception as exc:  # pyvirtualcam reports a missing backend as RuntimeError
            result.append((None, " ".join(str(exc).split()) or type(exc).__name__))

    thread = threading.Thread(target=probe, daemon=True, name="virtual-camera-probe")
    thread.start()
    thread.join(timeout)
    return result[0] if result else (None, f"no answer in {timeout:.0f} s")


def check_virtual_camera(timeout: float = CAMERA_TIMEOUT_S) -> CheckResult:
    """``stylecam live --virtual-camera``: pyvirtualcam and a backend (v4l2loopback, OBS) to send to."""
    try:
        pyvirtualcam = _import("pyvirtualcam")
    except ImportError:
        return CheckResult(
            "virtual-camera",
            "warn",
            "pyvirtualcam not installed (live --virtual-camera)",
            "pip install 'stylecam[vcam]'",
        )
    version = getattr(pyvirtualcam, "__version__", "?")
    device, problem = _open_virtual_camera(timeout)
    if device is None:
        return CheckResult("virtual-camera", "warn", f"pyvirtualcam {version}; no backend: {problem}", VCAM_FIX)
    return CheckResult("virtual-camera", "ok", f"pyvirtualcam {version}; sends to {device}")


CHECKS: tuple[Callable[[], CheckResult], ...] = (
    check_python,
    check_numpy,
    check_opencv,
    check_pyav,
    check_onnx,
    check_onnxruntime,
    check_gpu_libraries,
    check_cameras,
    check_virtual_camera,
)


def run_checks(checks: Sequence[Callable[[], CheckResult]] = CHECKS) -> list[CheckResult]:
    """Run every check; one that crashes is reported as a failure instead of stopping the doctor."""
    results = []
    for check in checks:
        name = check.__name__.removeprefix("check_")
        try:
            results.append(check())
        except Exception as exc:  # the doctor must report, never crash
            log.debug("check %s crashed", name, exc_info=True)
            results.append(CheckResult(name, "fail", f"check crashed: {type(exc).__name__}: {exc}", "please report"))
    return results

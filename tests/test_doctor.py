"""`stylecam doctor` with monkeypatched environments: each problem is found and comes with a fix."""

from __future__ import annotations

import json

import pytest

from stylecam import doctor
from stylecam.cli import main
from stylecam.doctor import CheckResult, run_checks


def test_every_check_returns_a_valid_result() -> None:
    for result in run_checks():
        assert result.status in doctor.STATUSES and result.detail
        if result.status != "ok":
            assert result.fix


def test_no_camera_is_a_warning_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor, "_video_devices", lambda: [])
    result = doctor.check_cameras()
    assert (result.status, result.detail) == ("warn", "no camera found")


def test_camera_that_hangs_or_fails_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor, "_video_devices", lambda: [0, 2])
    monkeypatch.setattr(doctor, "_open_camera", lambda index, timeout: "640x480" if index == 2 else None)
    assert doctor.check_cameras(timeout=0.1) == CheckResult(
        "cameras", "ok", "working: 2 (640x480) (use --source INDEX)"
    )
    monkeypatch.setattr(doctor, "_open_camera", lambda index, timeout: None)
    assert doctor.check_cameras(timeout=0.1).status == "warn"


def test_camera_probe_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    import cv2

    release = threading.Event()

    class Hanging:
        def __init__(self, index: int) -> None:
            release.wait(5)  # a driver stuck in open()

        def isOpened(self) -> bool:
            return False

        def release(self) -> None:
            pass

    monkeypatch.setattr(cv2, "VideoCapture", Hanging)
    try:
        assert doctor._open_camera(0, timeout=0.2) is None
    finally:
        release.set()


@pytest.mark.parametrize(
    ("available", "status"),
    [
        ({"libx264", "libx265", "mpeg4", "aac"}, "ok"),
        ({"mpeg4", "aac"}, "warn"),  # no h264/hevc: other codecs still write video
        ({"aac"}, "fail"),  # no video encoder at all
    ],
)
def test_pyav_encoders(monkeypatch: pytest.MonkeyPatch, available: set[str], status: str) -> None:
    monkeypatch.setattr(doctor, "_encoder", lambda name: name if name in available else None)
    result = doctor.check_pyav()
    assert result.status == status
    if status != "ok":
        assert "pip install" in result.fix


def test_two_onnxruntime_packages_fail_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        doctor, "installed_ort_distributions", lambda: {"onnxruntime": "1.20", "onnxruntime-gpu": "1.20"}
    )
    result = doctor.check_onnxruntime()
    assert result.status == "fail" and "pip uninstall -y onnxruntime onnxruntime-gpu" in result.fix


@pytest.mark.parametrize(
    ("providers", "libs", "status"),
    [
        ([], {}, "warn"),
        (["CUDAExecutionProvider"], {"cudart": "libcudart.so.12"}, "fail"),  # no cuDNN
        (["CUDAExecutionProvider"], {"cudart": "libcudart.so.12", "cudnn": "libcudnn.so.9"}, "ok"),
        (["TensorrtExecutionProvider", "CUDAExecutionProvider"], {"cudart": "a", "cudnn": "b"}, "warn"),
    ],
)
def test_gpu_libraries(
    monkeypatch: pytest.MonkeyPatch, providers: list[str], libs: dict[str, str], status: str
) -> None:
    monkeypatch.setattr(doctor, "_gpu_providers", lambda: providers)
    monkeypatch.setattr(doctor, "_find_library", lambda names: libs.get(names[0]))
    assert doctor.check_gpu_libraries().status == status


def test_missing_package_fails_with_pip_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_av(name: str):
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(doctor, "_import", no_av)
    result = doctor.check_pyav()
    assert result.status == "fail" and result.fix.startswith("pip install")


def test_crashing_check_is_reported_not_raised() -> None:
    def check_boom() -> CheckResult:
        raise RuntimeError("driver exploded")

    (result,) = run_checks([check_boom])
    assert result.name == "boom" and result.status == "fail" and "driver exploded" in result.detail


@pytest.mark.parametrize(("statuses", "code"), [(["ok", "warn"], 0), (["ok", "fail"], 1)])
def test_exit_code(monkeypatch: pytest.MonkeyPatch, capsys, statuses: list[str], code: int) -> None:
    results = [CheckResult(f"c{i}", s, "detail", "the fix") for i, s in enumerate(statuses)]
    monkeypatch.setattr(doctor, "run_checks", lambda: results)
    assert main(["doctor"]) == code
    out = capsys.readouterr().out
    assert ("fix: the fix" in out) == (statuses != ["ok"])
    assert main(["doctor", "--json"]) == code
    assert [r["status"] for r in json.loads(capsys.readouterr().out)] == statuses


@pytest.mark.parametrize(
    ("installed", "backend", "status", "words"),
    [
        (False, False, "warn", "pip install 'stylecam[vcam]'"),  # pyvirtualcam missing
        (True, False, "warn", "modprobe v4l2loopback"),  # installed, no v4l2loopback / OBS (this machine)
        (True, True, "ok", "sends to /dev/video7"),
    ],
)
def test_virtual_camera_backend(
    monkeypatch: pytest.MonkeyPatch, installed: bool, backend: bool, status: str, words: str
) -> None:
    from tests.runtime.live import fake_pyvirtualcam

    fake = fake_pyvirtualcam.make(backend=backend)

    def importer(name: str):
        if name != "pyvirtualcam" or not installed:
            raise ImportError(f"No module named {name!r}")
        return fake

    monkeypatch.setattr(doctor, "_import", importer)
    result = doctor.check_virtual_camera(timeout=5)
    assert result.status == status and words in (result.fix if status == "warn" else result.detail)
    if installed:
        assert all(camera.closed for camera in fake.cameras)  # the probe never holds the device

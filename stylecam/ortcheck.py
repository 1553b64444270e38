"""Detect ONNX Runtime packages installed over each other.

``onnxruntime`` (CPU) and ``onnxruntime-gpu`` (and the other ORT builds) install the same
``onnxruntime`` Python package, so whichever was installed last silently wins. We detect the pair
and name the package to uninstall.
"""

from __future__ import annotations

from importlib import metadata

ORT_DISTRIBUTIONS = (
    "onnxruntime",
    "onnxruntime-gpu",
    "onnxruntime-directml",
    "onnxruntime-openvino",
    "onnxruntime-qnn",
    "onnxruntime-silicon",
)


def installed_ort_distributions() -> dict[str, str]:
    """Return {distribution name: version} for every ONNX Runtime build that is installed."""
    found: dict[str, str] = {}
    for name in ORT_DISTRIBUTIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def ort_conflict_message(found: dict[str, str] | None = None) -> str | None:
    """Return a one-line explanation and fix when more than one ORT build is installed, else None."""
    found = installed_ort_distributions() if found is None else found
    if len(found) < 2:
        return None
    listed = ", ".join(f"{name} {version}" for name, version in sorted(found.items()))
    accelerated = sorted(name for name in found if name != "onnxruntime")
    if "onnxruntime" in found:
        keep = accelerated[0]
        fix = (
            f"pip uninstall -y onnxruntime {keep} && pip install {keep}"
            f" (or keep the CPU build: pip uninstall -y {' '.join(accelerated)} "
            "&& pip install --force-reinstall onnxruntime)"
        )
    else:
        keep = accelerated[0]
        others = " ".join(accelerated[1:])
        fix = f"pip uninstall -y {' '.join(accelerated)} && pip install {keep} (drop {others})"
    return f"several ONNX Runtime packages are installed over each other ({listed}); fix: {fix}"

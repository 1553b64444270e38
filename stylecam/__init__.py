"""stylecam: real-time neural style transfer for webcams, video files and images.

The package is split by concern (see docs/architecture.md): ``stylecam.train`` (torch: networks,
losses, paint, training), ``stylecam.export`` (torch -> checked ONNX) and ``stylecam.runtime``
(ONNX Runtime, numpy and OpenCV only; never imports torch). Importing ``stylecam`` itself is cheap.

The stable API for embedding (docs/api.md) is re-exported here and loaded on first use::

    from stylecam import load_model
    with load_model("starry") as stylizer:
        painted = stylizer(frame)  # BGR uint8 in, BGR uint8 out, same size
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_API = (
    "LookConfig",
    "RunSummary",
    "RuntimeConfig",
    "SmoothingConfig",
    "Stylizer",
    "TemporalSmoother",
    "camera_frames",
    "load_model",
    "style_names",
    "stylize_video",
)
_ERRORS = ("StylecamError",)

__all__ = [  # noqa: RUF022 (grouped: version, API, errors)
    "__version__",
    "LookConfig",
    "RunSummary",
    "RuntimeConfig",
    "SmoothingConfig",
    "Stylizer",
    "TemporalSmoother",
    "camera_frames",
    "load_model",
    "style_names",
    "stylize_video",
    "StylecamError",
]

if TYPE_CHECKING:
    from stylecam.api import (
        LookConfig,
        RunSummary,
        RuntimeConfig,
        SmoothingConfig,
        Stylizer,
        TemporalSmoother,
        camera_frames,
        load_model,
        style_names,
        stylize_video,
    )
    from stylecam.errors import StylecamError


def __getattr__(name: str) -> Any:
    # Lazy: `import stylecam` stays instant; onnxruntime loads only when the API is used.
    if name in _API:
        from stylecam import api

        return getattr(api, name)
    if name in _ERRORS:
        from stylecam import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'stylecam' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)

"""stylecam: real-time neural style transfer for webcams, video files and images.

The package is split by concern (see README): ``stylecam.train`` (torch: networks, losses, paint,
training), ``stylecam.export`` (torch -> checked ONNX) and ``stylecam.runtime`` (ONNX Runtime,
numpy and OpenCV only; never imports torch). Importing ``stylecam`` itself is cheap.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]

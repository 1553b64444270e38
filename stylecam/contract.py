"""The contract between export and runtime: graph inputs/outputs and ``metadata_props`` keys.

The ``.onnx`` file is the only thing the runtime knows about a trained style. Contract version 1:

* input ``frames``: uint8, ``(N, H, W, 3)``, **BGR** (OpenCV's order), any N, H, W;
* output ``stylized``: uint8, ``(N, H, W, 3)``, BGR, the same H and W.

Everything else (channel order, NHWC->NCHW, scaling, padding to the network stride and cropping
back, clamping and rounding) happens inside the graph, so the runtime hands raw frames over
(4x less data to copy than float32) and odd sizes come back the same size.

Torch-free: both ``stylecam.export`` (writes) and ``stylecam.runtime`` (reads) import this.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stylecam.errors import ModelLoadError

CONTRACT_VERSION = 1
INPUT_NAME = "frames"
OUTPUT_NAME = "stylized"
PIXEL_CONTRACT: dict[str, Any] = {"layout": "NHWC", "dtype": "uint8", "range": [0, 255], "channels": "BGR"}
PRECISIONS = ("fp32", "fp16")
PREFIX = "stylecam."

# metadata_props keys (values are strings; dicts are JSON)
K_VERSION = "stylecam.version"
K_CONTRACT = "stylecam.contract_version"
K_ARCH = "stylecam.arch"
K_MODEL_CONFIG = "stylecam.model_config"
K_STYLE_NAME = "stylecam.style_name"
K_STYLE_SHA256 = "stylecam.style_sha256"
K_STYLE_LICENSE = "stylecam.style_license"
K_TRAIN_DIGEST = "stylecam.train_config_digest"
K_PIXEL_CONTRACT = "stylecam.pixel_contract"
K_STRIDE = "stylecam.stride"
K_PRECISION = "stylecam.precision"
K_OPSET = "stylecam.opset"
K_INPUT = "stylecam.input"
K_OUTPUT = "stylecam.output"
# Optional: the smoothing strength (0-1) measured to suit this model; the runtime's default for it.
K_SMOOTH_STRENGTH = "stylecam.recommended_smooth_strength"
REQUIRED_KEYS = (K_CONTRACT, K_ARCH, K_PIXEL_CONTRACT, K_STRIDE, K_PRECISION, K_INPUT, K_OUTPUT)


@dataclass(frozen=True)
class ModelMetadata:
    """What an exported model says about itself (parsed from / written to ``metadata_props``)."""

    arch: str
    stride: int
    precision: str
    stylecam_version: str = ""
    contract_version: int = CONTRACT_VERSION
    model_config: dict[str, Any] = field(default_factory=dict)
    style_name: str = ""
    style_sha256: str = ""
    style_license: str = ""
    train_config_digest: str = ""
    pixel_contract: dict[str, Any] = field(default_factory=lambda: dict(PIXEL_CONTRACT))
    opset: int = 0
    input_name: str = INPUT_NAME
    output_name: str = OUTPUT_NAME
    extra: dict[str, str] = field(default_factory=dict)  # other stylecam.* keys, kept verbatim

    def to_props(self) -> dict[str, str]:
        props = {
            K_VERSION: self.stylecam_version,
            K_CONTRACT: str(self.contract_version),
            K_ARCH: self.arch,
            K_MODEL_CONFIG: json.dumps(self.model_config, sort_keys=True),
            K_STYLE_NAME: self.style_name,
            K_STYLE_SHA256: self.style_sha256,
            K_STYLE_LICENSE: self.style_license,
            K_TRAIN_DIGEST: self.train_config_digest,
            K_PIXEL_CONTRACT: json.dumps(self.pixel_contract, sort_keys=True),
            K_STRIDE: str(self.stride),
            K_PRECISION: self.precision,
            K_OPSET: str(self.opset),
            K_INPUT: self.input_name,
            K_OUTPUT: self.output_name,
        }
        props.update(self.extra)
        return props

    @classmethod
    def from_props(cls, props: Mapping[str, str], *, source: str = "model") -> ModelMetadata:
        """Parse metadata; ModelLoadError names missing keys or a contract this stylecam cannot run."""
        missing = [key for key in REQUIRED_KEYS if key not in props]
        if missing:
            raise ModelLoadError(
                f"{source} has no stylecam metadata ({', '.join(missing)} missing); "
                "export it with `stylecam export CKPT -o MODEL.onnx`"
            )
        try:
            version = int(props[K_CONTRACT])
            stride = int(props[K_STRIDE])
            opset = int(props.get(K_OPSET, "0") or 0)
            pixel = json.loads(props[K_PIXEL_CONTRACT])
            config = json.loads(props.get(K_MODEL_CONFIG, "{}") or "{}")
        except (ValueError, TypeError, RecursionError) as exc:  # RecursionError: absurdly nested JSON
            raise ModelLoadError(f"{source} has malformed stylecam metadata ({exc}); re-export it") from exc
        if not isinstance(pixel, dict) or not isinstance(config, dict):
            raise ModelLoadError(
                f"{source} has malformed stylecam metadata (pixel contract and model config must be JSON objects); "
                "re-export it"
            )
        if version > CONTRACT_VERSION:
            raise ModelLoadError(
                f"{source} uses stylecam model contract {version}, newer than this stylecam runs "
                f"({CONTRACT_VERSION}); upgrade: pip install -U stylecam"
            )
        if props[K_PRECISION] not in PRECISIONS:
            raise ModelLoadError(f"{source} declares precision {props[K_PRECISION]!r}; expected one of {PRECISIONS}")
        known = {K_VERSION, K_MODEL_CONFIG, K_STYLE_NAME, K_STYLE_SHA256, K_STYLE_LICENSE, K_TRAIN_DIGEST, K_OPSET}
        known.update(REQUIRED_KEYS)
        extra = {k: v for k, v in props.items() if k.startswith(PREFIX) and k not in known}
        return cls(
            arch=props[K_ARCH],
            stride=stride,
            precision=props[K_PRECISION],
            stylecam_version=props.get(K_VERSION, ""),
            contract_version=version,
            model_config=config,
            style_name=props.get(K_STYLE_NAME, ""),
            style_sha256=props.get(K_STYLE_SHA256, ""),
            style_license=props.get(K_STYLE_LICENSE, ""),
            train_config_digest=props.get(K_TRAIN_DIGEST, ""),
            pixel_contract=pixel,
            opset=opset,
            input_name=props[K_INPUT],
            output_name=props[K_OUTPUT],
            extra=extra,
        )

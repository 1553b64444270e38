from __future__ import annotations

import pytest

from stylecam.contract import (
    CONTRACT_VERSION,
    INPUT_NAME,
    K_CONTRACT,
    K_MODEL_CONFIG,
    K_PIXEL_CONTRACT,
    K_STRIDE,
    PIXEL_CONTRACT,
    ModelMetadata,
)
from stylecam.errors import ModelLoadError


def _meta(**kw) -> ModelMetadata:
    return ModelMetadata(arch="reference", stride=4, precision="fp16", opset=17, **kw)


def test_round_trip_keeps_everything() -> None:
    meta = _meta(model_config={"arch": "reference", "channels": [32, 64, 128]}, extra={"stylecam.trt_friendly": "1"})
    props = meta.to_props()
    assert all(isinstance(v, str) for v in props.values())
    assert ModelMetadata.from_props(props) == meta
    assert meta.pixel_contract == PIXEL_CONTRACT and meta.input_name == INPUT_NAME


def test_missing_keys_name_the_fix() -> None:
    with pytest.raises(ModelLoadError, match="stylecam export"):
        ModelMetadata.from_props({"producer": "pytorch"}, source="foreign.onnx")


def test_newer_contract_says_upgrade() -> None:
    props = _meta().to_props()
    props[K_CONTRACT] = str(CONTRACT_VERSION + 1)
    with pytest.raises(ModelLoadError, match="upgrade"):
        ModelMetadata.from_props(props)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (K_STRIDE, "four"),
        (K_PIXEL_CONTRACT, "{"),
        (K_PIXEL_CONTRACT, "[1, 2]"),
        (K_MODEL_CONFIG, '"a string"'),
        (K_MODEL_CONFIG, "[" * 5000 + "]" * 5000),  # nested past Python's recursion limit (found by fuzzing)
    ],
)
def test_malformed_values(key: str, value: str) -> None:
    props = _meta().to_props()
    props[key] = value
    with pytest.raises(ModelLoadError, match=r"malformed stylecam metadata .*; re-export it"):
        ModelMetadata.from_props(props)

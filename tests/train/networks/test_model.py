from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from stylecam.errors import UsageError  # noqa: E402
from stylecam.train.networks.model import (  # noqa: E402
    ARCHITECTURES,
    STRIDE,
    ModelConfig,
    build_model,
    count_parameters,
    get_config,
    network_stride,
)


def test_reference_is_the_classic_johnson_network() -> None:
    model = build_model("reference")
    assert 1.6e6 < count_parameters(model) < 1.75e6
    assert sum(isinstance(m, torch.nn.InstanceNorm2d) for m in model.modules()) == 15
    assert sum(isinstance(m, torch.nn.ReflectionPad2d) for m in model.modules()) == 16
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in model.modules())


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
@pytest.mark.parametrize(("rows", "cols"), [(8, 8), (13, 21)])
def test_shape_is_preserved_for_multiples_of_stride(arch: str, rows: int, cols: int) -> None:
    model = build_model(arch).eval()
    height, width = rows * model.stride, cols * model.stride
    with torch.no_grad():
        out = model(torch.rand(2, 3, height, width) * 255)
    assert out.shape == (2, 3, height, width)
    assert network_stride(get_config(arch)) == model.stride
    assert model.min_side % model.stride == 0


def test_reference_stride_is_the_module_constant() -> None:
    assert build_model("reference").stride == STRIDE == 4


def test_config_round_trip_and_validation() -> None:
    config = ModelConfig(channels=(8, 16, 32), residual_blocks=2, norm="none", padding="zeros")
    assert ModelConfig.from_dict(config.to_dict()) == config
    with pytest.raises(UsageError, match="instance, batch, none"):
        ModelConfig(norm="layer")
    with pytest.raises(UsageError, match="unknown model config keys"):
        ModelConfig.from_dict({"arch": "reference", "wings": 2})


def test_unknown_arch_lists_choices() -> None:
    with pytest.raises(UsageError, match="reference, lite, fast"):
        get_config("huge")
    # Other labels name custom TransformerNet configs (experiments, tests).
    assert type(build_model(ModelConfig(arch="tiny-test", channels=(4, 8, 8)))).__name__ == "TransformerNet"


def test_examples_state_dict_key_names() -> None:
    # Same module names as pytorch/examples fast_neural_style, so its .pth files load.
    keys = set(build_model().state_dict())
    assert {"conv1.conv2d.weight", "in1.weight", "res5.conv2.conv2d.bias", "deconv3.conv2d.weight"} <= keys

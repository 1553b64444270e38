"""The compact networks (``lite``, ``fast``): structure, initialisation, training with small batches."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from stylecam.errors import UsageError  # noqa: E402
from stylecam.train.config import RunOptions  # noqa: E402
from stylecam.train.loop.setup import plan_run  # noqa: E402
from stylecam.train.networks.blocks import OUTPUT_FAN_IN_GAIN, ConvNormAct, SubPixelHead, make_norm  # noqa: E402
from stylecam.train.networks.compact import LAYOUTS, CompactNet  # noqa: E402
from stylecam.train.networks.model import build_model, count_parameters, get_config  # noqa: E402
from tests.conftest import make_photo  # noqa: E402


def _convs(net: nn.Module) -> list[nn.Conv2d]:
    return [m for m in net.modules() if isinstance(m, nn.Conv2d)]


@pytest.mark.parametrize(
    ("arch", "low", "high", "depthwise"),
    [("lite", 40e3, 80e3, True), ("fast", 1.2e6, 2.0e6, False)],
)
def test_presets(arch: str, low: float, high: float, depthwise: bool) -> None:
    net = build_model(arch)
    assert isinstance(net, CompactNet) and net.stride == 8 and net.border == LAYOUTS[arch].border
    assert low < count_parameters(net) < high
    assert not any(isinstance(m, (nn.InstanceNorm2d, nn.ReflectionPad2d)) for m in net.modules())
    assert any(c.groups > 1 for c in _convs(net)) == depthwise
    # Every conv sits in a unit with a batch norm it folds into, and pads with zeros inside the conv.
    units = [m for m in net.modules() if isinstance(m, ConvNormAct)]
    assert len(units) == len(_convs(net)) and all(isinstance(u.norm, nn.BatchNorm2d) for u in units)
    assert all(c.padding_mode == "zeros" and c.bias is None for c in _convs(net))
    # Tensor-core friendly widths for the GPU network.
    if arch == "fast":
        assert all(c.out_channels % 32 == 0 for c in _convs(net))


def test_head_starts_without_a_sub_pixel_pattern_and_bakes_its_gain() -> None:
    head = SubPixelHead(8)
    x = torch.randn(1, 8, 5, 7)
    with torch.no_grad():
        out = head(x)
        # Every 2x2 block is one colour at initialisation (phases tied), centred on mid grey.
        assert torch.equal(out[..., 0::2, 0::2], out[..., 1::2, 1::2])
        assert torch.equal(out[..., 0::2, 1::2], out[..., 1::2, 0::2])
        assert head(torch.zeros_like(x)).unique().tolist() == [127.5]
        assert head.gain == OUTPUT_FAN_IN_GAIN / 8
        head.bake_gain()
        assert head.gain == 1.0 and torch.allclose(head(x), out, atol=1e-4)


def test_residual_blocks_start_as_identity() -> None:
    net = build_model("lite").eval()
    x = torch.randn(1, 64, 6, 10)
    with torch.no_grad():
        assert torch.equal(net.residuals(x), x)


@pytest.mark.parametrize(("kind", "module"), [("batch", nn.BatchNorm2d), ("instance", nn.InstanceNorm2d)])
def test_norm_choices(kind: str, module: type) -> None:
    assert isinstance(make_norm(4, kind), module)
    net = CompactNet(replace(get_config("lite"), channels=(8, 8, 16), residual_blocks=1, norm=kind))
    assert any(isinstance(m, module) for m in net.modules())
    assert all((c.bias is None) == (kind == "batch") for c in _convs(net))


def test_hybrid_norm_puts_instance_norm_in_the_residual_blocks_only() -> None:
    net = CompactNet(replace(get_config("lite"), channels=(8, 8, 16), residual_blocks=2, norm="hybrid"))
    inner = [m for m in net.residuals.modules() if isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d))]
    outer = [m for part in (net.encoder, net.decoder) for m in part.modules()]
    assert inner and all(isinstance(m, nn.InstanceNorm2d) for m in inner)
    assert any(isinstance(m, nn.BatchNorm2d) for m in outer)
    assert not any(isinstance(m, nn.InstanceNorm2d) for m in outer)


def test_hybrid_norm_is_refused_for_the_reference_network() -> None:
    from stylecam.train.networks.model import ModelConfig

    with pytest.raises(UsageError, match="hybrid"):
        build_model(ModelConfig(norm="hybrid"))


STEPS = 10


@pytest.fixture
def one_thread() -> Iterator[None]:
    # A tiny network on a shared 2-core machine: two OpenMP threads waiting on each other while
    # other processes hold the cores made each step ~100x slower (2 s instead of 20 ms).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.usefixtures("one_thread")
def test_trains_with_a_small_batch_and_learns() -> None:
    # Batch 4 at small crops is what the CPU recipe affords; batch norm must still train and
    # its running statistics must move, and the encoder list must hold exactly the encoder.
    torch.manual_seed(0)
    net = CompactNet(replace(get_config("lite"), channels=(8, 8, 16), residual_blocks=1))
    photos = [make_photo(32, 32, seed=seed)[:, :, ::-1].copy() for seed in range(4)]
    target = torch.stack([torch.from_numpy(p).permute(2, 0, 1).float() for p in photos])
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    net.train()
    losses = []
    for _ in range(STEPS):
        loss = nn.functional.mse_loss(net(target), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses
    stem = net.encoder[0].norm
    assert stem.num_batches_tracked.item() == STEPS and not torch.equal(
        stem.running_var, torch.ones_like(stem.running_var)
    )
    assert {id(p) for p in net.encoder_parameters()} == {id(p) for p in net.encoder.parameters()}


def test_depthwise_unit_refuses_a_width_change() -> None:
    with pytest.raises(ValueError, match="keeps the width"):
        ConvNormAct(8, 16, depthwise=True)


def test_training_crop_must_fit_the_stride(tmp_path: Path, painting_file: Path, photo_file: Path) -> None:
    options = RunOptions(style=str(painting_file), data=photo_file.parent, output=tmp_path / "out.pt")
    with pytest.raises(UsageError, match=r"--size 132 is not a multiple of 8.*'lite'.*--size 136"):
        plan_run(options, {"arch": "lite", "size": 132, "batch_size": 1}, model_config=None)

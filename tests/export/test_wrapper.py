"""The in-graph frame contract and the export variants, checked in torch (no export needed)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from stylecam.export.variants import (  # noqa: E402
    DecomposedInstanceNorm,
    Float32InstanceNorm,
    SliceReflectionPad2d,
    prepare_network,
)
from stylecam.export.wrapper import MIN_SIDE, ExportWrapper, padded_size, reflect_indices  # noqa: E402
from tests.conftest import make_photo  # noqa: E402
from tests.export.conftest import tiny_net  # noqa: E402


@pytest.mark.parametrize(
    ("size", "target", "expected"),
    [
        (8, 8, [0, 1, 2, 3, 4, 5, 6, 7]),
        (5, 8, [0, 1, 2, 3, 4, 3, 2, 1]),
        (6, 8, [0, 1, 2, 3, 4, 5, 4, 3]),
        (3, 8, [0, 1, 2, 1, 0, 0, 0, 0]),  # reflection runs out: repeat the edge it reached
        (1, 8, [0] * 8),
    ],
)
def test_reflect_indices(size: int, target: int, expected: list[int]) -> None:
    assert reflect_indices(size, target, torch.device("cpu")).tolist() == expected


@pytest.mark.parametrize(("size", "padded"), [(1, 8), (3, 8), (8, 8), (9, 12), (77, 80), (101, 104), (64, 64)])
def test_padded_size_is_a_stride_multiple_and_at_least_min_side(size: int, padded: int) -> None:
    assert padded_size(size, 4, MIN_SIDE) == padded


def test_reflect_padding_matches_torch_reflection_where_it_applies() -> None:
    x = torch.arange(2 * 3 * 9 * 10, dtype=torch.float32).reshape(2, 3, 9, 10)
    rows, cols = reflect_indices(9, 12, x.device), reflect_indices(10, 12, x.device)
    ours = x.index_select(2, rows).index_select(3, cols)
    assert torch.equal(ours, nn.functional.pad(x, (0, 2, 0, 3), mode="reflect"))


@pytest.mark.parametrize(("height", "width"), [(1, 1), (3, 5), (77, 101), (64, 64), (130, 90)])
def test_wrapper_keeps_size_and_dtype(height: int, width: int) -> None:
    frames = torch.from_numpy(make_photo(height, width)[None])
    with torch.no_grad():
        out = ExportWrapper(tiny_net())(frames)
    assert out.shape == frames.shape and out.dtype == torch.uint8


def test_wrapper_swaps_channels_both_ways() -> None:
    # With an identity "network", BGR frames must come back unchanged: the two flips cancel
    # and padding is cropped off again.
    frames = torch.from_numpy(make_photo(13, 21)[None])
    with torch.no_grad():
        assert torch.equal(ExportWrapper(nn.Identity())(frames), frames)

    class RedOnly(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)  # keep RGB channel 0 (red)

    with torch.no_grad():
        out = ExportWrapper(RedOnly())(frames)
    assert torch.equal(out[..., 2], frames[..., 2]) and not out[..., :2].any()  # red is BGR channel 2


def test_decomposed_forms_equal_the_standard_modules() -> None:
    torch.manual_seed(0)
    norm = nn.InstanceNorm2d(6, affine=True)
    with torch.no_grad():
        norm.weight.uniform_(0.5, 2.0)
        norm.bias.uniform_(-1.0, 1.0)
    x = torch.randn(2, 6, 11, 9) * 50 + 20
    assert torch.allclose(DecomposedInstanceNorm(norm)(x), norm(x), atol=1e-4)
    assert torch.equal(SliceReflectionPad2d(4)(x), nn.ReflectionPad2d(4)(x))


@pytest.mark.parametrize(
    ("fp16", "trt", "norm_fp32", "norm_type", "conv_dtype", "norm_dtype"),
    [
        (False, False, True, nn.InstanceNorm2d, torch.float32, torch.float32),
        (True, False, True, Float32InstanceNorm, torch.float16, torch.float32),
        (True, False, False, nn.InstanceNorm2d, torch.float16, torch.float16),
        (False, True, True, DecomposedInstanceNorm, torch.float32, torch.float32),
        (True, True, True, DecomposedInstanceNorm, torch.float16, torch.float32),
        (True, True, False, DecomposedInstanceNorm, torch.float16, torch.float16),
    ],
)
def test_prepare_network_variants(
    fp16: bool, trt: bool, norm_fp32: bool, norm_type: type, conv_dtype: torch.dtype, norm_dtype: torch.dtype
) -> None:
    net = tiny_net()
    variant = prepare_network(net, fp16=fp16, trt_friendly=trt, norm_fp32=norm_fp32)
    assert type(variant.in1) is norm_type
    assert variant.conv1.conv2d.weight.dtype == conv_dtype and variant.in1.weight.dtype == norm_dtype
    assert (type(variant.conv1.pad) is SliceReflectionPad2d) == trt
    assert net.conv1.conv2d.weight.dtype == torch.float32 and type(net.in1) is nn.InstanceNorm2d  # untouched
    assert {n for n, _ in variant.named_parameters()} == {n for n, _ in net.named_parameters()}

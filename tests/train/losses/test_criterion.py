"""The training objective: per-layer style balance, weights from the config, float32 under autocast."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from stylecam.errors import UsageError  # noqa: E402
from stylecam.train.config import TrainConfig  # noqa: E402
from stylecam.train.loop.engine import check_finite  # noqa: E402
from stylecam.train.losses.criterion import PerceptualLoss, style_layer_weights  # noqa: E402
from stylecam.train.losses.functional import gram_matrix, style_loss  # noqa: E402
from stylecam.train.losses.vgg import VGGFeatures, load_vgg_weights  # noqa: E402

LAYERS = ("relu1_1", "relu2_1")


@pytest.fixture(scope="module")
def vgg() -> VGGFeatures:
    return VGGFeatures(LAYERS, load_vgg_weights())


def test_layer_norm_makes_each_layer_a_relative_error() -> None:
    torch.manual_seed(0)
    small, large = torch.rand(1, 4, 8, 8), torch.rand(1, 6, 8, 8) * 1000  # very different scales
    grams = {"a": gram_matrix(small), "b": gram_matrix(large)}
    weights = style_layer_weights(grams, "layer")
    blank = {"a": torch.zeros_like(small), "b": torch.zeros_like(large)}
    # A blank image misses 100 % of every layer's Gram energy: each layer counts 1/2, total 1.
    assert style_loss(blank, grams, weights).item() == pytest.approx(1.0, rel=1e-5)
    assert style_layer_weights(grams, "none") is None
    plain = style_loss(blank, grams)
    assert plain.item() > 1e6  # without the norm the large layer swamps the small one


def test_weights_come_from_the_config(vgg: VGGFeatures) -> None:
    torch.manual_seed(1)
    painting = torch.rand(1, 3, 32, 32) * 255
    photos = torch.rand(2, 3, 32, 32) * 255
    output = torch.rand(2, 3, 32, 32) * 255
    base = {"content_layers": ("relu2_1",), "style_layers": LAYERS}
    one = PerceptualLoss(vgg, painting, TrainConfig(content_weight=1, style_weight=1, tv_weight=1, **base))
    scaled = PerceptualLoss(vgg, painting, TrainConfig(content_weight=2, style_weight=3, tv_weight=4, **base))
    a, b = one(output, photos), scaled(output, photos)
    assert b.content.item() == pytest.approx(2 * a.content.item(), rel=1e-5)
    assert b.style.item() == pytest.approx(3 * a.style.item(), rel=1e-5)
    assert b.tv.item() == pytest.approx(4 * a.tv.item(), rel=1e-5)
    assert b.total.item() == pytest.approx(b.content.item() + b.style.item() + b.tv.item(), rel=1e-5)
    same = one(photos, photos)
    assert same.content.item() == 0.0 and same.style.item() > 0


def test_gram_distillation_matches_each_teacher_outputs_texture_not_its_pixels(vgg: VGGFeatures) -> None:
    torch.manual_seed(2)
    base = {"content_layers": ("relu2_1",), "style_layers": LAYERS, "teacher_sha256": "0" * 64}
    config = TrainConfig(content_weight=1, style_weight=1, distill_gram_weight=5, **base)
    criterion = PerceptualLoss(vgg, torch.rand(1, 3, 32, 32) * 255, config)
    photos, teacher = torch.rand(2, 3, 32, 32) * 255, torch.rand(2, 3, 32, 32) * 255
    assert criterion(teacher, photos, teacher).distill.item() == 0.0  # the teacher's own output: nothing to learn
    # The same texture moved (rolled by 8 px): the Gram matrices, hence the term, barely change (VGG's
    # zero padding sees new borders), while pixel L1 calls it as wrong as another random picture.
    moved = teacher.roll(8, dims=-1)
    output = (torch.rand(2, 3, 32, 32) * 255).requires_grad_()
    terms = criterion(output, photos, teacher)
    grams = {n: gram_matrix(f) for n, f in vgg(teacher, layers=LAYERS).items()}
    expected = 5 * style_loss(vgg(output.detach(), layers=LAYERS), grams, criterion.layer_weights).item()
    assert terms.distill.item() == pytest.approx(expected, rel=1e-4)
    assert criterion(moved, photos, teacher).distill.item() < 0.2 * expected
    assert (moved - teacher).abs().mean() > 0.9 * (output.detach() - teacher).abs().mean()
    assert terms.total.item() == pytest.approx(terms.content.item() + terms.style.item() + expected, rel=1e-4)
    terms.total.backward()
    assert output.grad is not None and output.grad.abs().sum() > 0
    assert criterion(output, photos).distill is None  # no teacher batch: no term
    plain = PerceptualLoss(vgg, torch.rand(1, 3, 32, 32) * 255, TrainConfig(content_weight=1, **base))
    assert plain(output, photos, teacher).distill is None  # weight 0 (the default): no term, no teacher VGG pass


def test_losses_are_float32_under_bf16_autocast(vgg: VGGFeatures) -> None:
    config = TrainConfig(content_layers=("relu1_1",), style_layers=LAYERS)
    criterion = PerceptualLoss(vgg, torch.rand(1, 3, 32, 32) * 255, config)
    photos = torch.rand(2, 3, 32, 32) * 255
    with torch.autocast("cpu", dtype=torch.bfloat16):
        terms = criterion(photos * 0.9, photos)
    assert terms.total.dtype == torch.float32 and math.isfinite(terms.total.item())


def test_divergence_is_reported_with_the_fix() -> None:
    check_finite({"content": 1.0, "style": 2.0}, 5)
    with pytest.raises(UsageError, match=r"diverged at step 7.*--lr"):
        check_finite({"content": 1.0, "style": float("nan")}, 7)


def test_benchmark_times_real_steps(one_thread) -> None:
    from stylecam.train.loop.benchmark import bench_train_step
    from stylecam.train.networks.model import ModelConfig

    tiny = ModelConfig(arch="tiny-test", channels=(4, 8, 8), residual_blocks=1)
    config = TrainConfig(size=32, batch_size=2, content_layers=("relu1_1",), style_layers=LAYERS)
    result = bench_train_step(config, device="cpu", steps=3, warmup=1, model_config=tiny)
    assert result.steps == 3 and result.amp == "off" and result.arch == "tiny-test"
    assert 0 < result.p50_ms <= result.p95_ms and result.images_per_second == pytest.approx(2000 / result.p50_ms)


@pytest.mark.parametrize(
    ("changes", "recipe"),
    [
        ({"teacher_sha256": "x", "content_weight": 0.0, "style_weight": 0.0}, "distill"),
        (
            {"teacher_sha256": "x", "content_weight": 0.0, "style_weight": 0.0, "temporal_weight": 0.1},
            "distill+temporal",
        ),
        ({"temporal_weight": 0.1}, "vgg+temporal"),
        ({"temporal_weight": 0.1, "luminance_weight": 1.0}, "vgg+temporal+luminance"),
    ],
)
def test_benchmark_times_the_distillation_and_temporal_recipes(changes: dict, recipe: str, one_thread) -> None:
    from stylecam.train.loop.benchmark import bench_train_step
    from stylecam.train.networks.model import ModelConfig

    tiny = ModelConfig(arch="tiny-test", channels=(4, 8, 8), residual_blocks=1)
    config = TrainConfig(size=32, batch_size=2, content_layers=("relu1_1",), style_layers=LAYERS, **changes)
    result = bench_train_step(config, device="cpu", steps=2, warmup=1, model_config=tiny)
    assert result.recipe == recipe and result.p50_ms > 0

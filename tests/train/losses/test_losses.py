"""Loss functions with known answers."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from stylecam.train.losses.functional import content_loss, gram_matrix, style_loss, total_variation_loss  # noqa: E402


def test_gram_known_answer() -> None:
    # Two channels over two pixels: a=[1,2], b=[3,4] -> [[5,11],[11,25]] / (C*H*W = 4)
    feats = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 1, 2)
    expected = torch.tensor([[5.0, 11.0], [11.0, 25.0]]) / 4
    assert torch.allclose(gram_matrix(feats)[0], expected)


def test_gram_is_size_invariant_for_repeated_texture() -> None:
    tile = torch.rand(1, 4, 3, 3)
    assert torch.allclose(gram_matrix(tile), gram_matrix(tile.repeat(1, 1, 4, 4)), atol=1e-6)


def test_identical_inputs_give_zero() -> None:
    feats = {"a": torch.rand(2, 3, 5, 5), "b": torch.rand(2, 6, 3, 3)}
    grams = {k: gram_matrix(v) for k, v in feats.items()}
    assert content_loss(feats["a"], feats["a"].clone()) == 0
    assert style_loss(feats, grams) == 0
    assert total_variation_loss(torch.full((1, 3, 8, 8), 42.0)) == 0


def test_scaling_behaviour() -> None:
    a, b = torch.rand(1, 3, 4, 4), torch.rand(1, 3, 4, 4)
    assert torch.allclose(content_loss(3 * a, 3 * b), 9 * content_loss(a, b))
    # Gram is quadratic in the features, so the style loss is quartic.
    target = {"x": gram_matrix(b)}
    scaled = style_loss({"x": 2 * a}, {"x": 4 * target["x"]})
    assert torch.allclose(scaled, 16 * style_loss({"x": a}, target))
    assert torch.allclose(total_variation_loss(5 * a), 5 * total_variation_loss(a))


def test_total_variation_known_answer() -> None:
    ramp = torch.arange(4.0).repeat(4, 1).reshape(1, 1, 4, 4)  # +1 per column, constant rows
    assert torch.isclose(total_variation_loss(ramp), torch.tensor(1.0))


def test_style_target_broadcasts_over_batch() -> None:
    feats = {"x": torch.rand(3, 2, 4, 4)}
    single = gram_matrix(feats["x"][:1])
    loss = style_loss(feats, {"x": single})
    manual = sum(torch.nn.functional.mse_loss(gram_matrix(feats["x"][i : i + 1]), single) for i in range(3)) / 3
    assert torch.isclose(loss, manual)


def test_gradients_flow_and_inputs_are_not_modified() -> None:
    image = torch.rand(1, 3, 6, 6, requires_grad=True)
    before = image.detach().clone()
    target = torch.rand(1, 3, 6, 6)
    loss = content_loss(image, target) + style_loss({"x": image}, {"x": gram_matrix(target)})
    loss = loss + total_variation_loss(image)
    loss.backward()
    assert image.grad is not None and image.grad.abs().sum() > 0
    assert torch.equal(image.detach(), before)


def test_style_loss_needs_layers() -> None:
    with pytest.raises(ValueError):
        style_loss({}, {})

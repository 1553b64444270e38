"""A network rebuilt from an export, back in its training form (``trainable_network``): the inverse of
folding, with batch-norm statistics measured on photos so that training mode starts where eval mode is."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest

torch = pytest.importorskip("torch")


from stylecam.errors import ModelLoadError  # noqa: E402
from stylecam.export.rebuild import trainable_network  # noqa: E402
from stylecam.export.variants import fold_for_export  # noqa: E402
from stylecam.train.networks.model import build_model, get_config  # noqa: E402
from tests.export.test_compact_export import tiny_compact  # noqa: E402


@pytest.mark.parametrize("arch", ["lite", "fast"])
def test_a_folded_network_becomes_its_training_form(arch: str) -> None:
    net = tiny_compact(arch)
    folded = fold_for_export(copy.deepcopy(net))
    photos = torch.rand(4, 3, 32, 40) * 255
    with torch.no_grad():
        expected = folded(photos)
        for images in (None, photos):
            again = trainable_network(folded, net.config, images)
            assert sorted(again.state_dict()) == sorted(net.state_dict())  # what training builds and saves
            assert again.head.gain == net.head.gain != 1.0
            assert torch.allclose(again.eval()(photos), expected, atol=1e-2)
        # Training mode normalises with the batch's statistics: measured on these photos, it starts where
        # the folded network is (unmeasured, it would not).
        measured = (again.train()(photos) - expected).abs().max()
        unmeasured = (trainable_network(folded, net.config).train()(photos) - expected).abs().max()
        assert measured < 1e-2 and unmeasured > 100 * measured, (measured, unmeasured)


def test_a_network_with_nothing_folded_keeps_its_weights() -> None:
    torch.manual_seed(0)
    net = build_model(replace(get_config("reference"), channels=(4, 8, 8), residual_blocks=1)).eval()
    again = trainable_network(copy.deepcopy(net), net.config, torch.rand(1, 3, 16, 16) * 255)
    state = net.state_dict()
    assert all(torch.equal(value, state[key]) for key, value in again.state_dict().items())


def test_weights_of_another_network_are_refused() -> None:
    folded = fold_for_export(tiny_compact("lite"))
    with pytest.raises(ModelLoadError, match=r"does not fit|no weights"):
        trainable_network(folded, get_config("lite"))

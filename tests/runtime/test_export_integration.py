"""A real exported TransformerNet through the Stylizer: the export <-> runtime contract end to end.

Needs torch for the export and the reference output (skipped without it); the runtime itself stays
torch-free.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stylecam.contract import ModelMetadata  # noqa: E402
from stylecam.export.onnx import export_onnx  # noqa: E402
from stylecam.export.wrapper import ExportWrapper  # noqa: E402
from stylecam.runtime.config import SmoothingConfig  # noqa: E402
from stylecam.runtime.inference.stylizer import Stylizer  # noqa: E402
from stylecam.runtime.temporal.smoothing import TemporalSmoother  # noqa: E402
from tests.conftest import make_photo  # noqa: E402
from tests.export.conftest import tiny_net  # noqa: E402
from tests.runtime.conftest import FAST  # noqa: E402


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[torch.nn.Module, Path]:
    net = tiny_net(seed=3)
    metadata = ModelMetadata(arch="tiny", stride=4, precision="fp32", style_name="stripes")
    path = export_onnx(net, tmp_path_factory.mktemp("export") / "tiny.onnx", metadata=metadata)
    return net, path


def _reference(net: torch.nn.Module, frames: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return ExportWrapper(net).eval()(torch.from_numpy(frames)).numpy()


@pytest.mark.parametrize(("height", "width"), [(1, 1), (3, 5), (37, 61), (64, 48), (90, 33)])
def test_real_export_runs_at_odd_sizes(exported: tuple[torch.nn.Module, Path], height: int, width: int) -> None:
    net, path = exported
    frame = make_photo(height, width, seed=width)
    with Stylizer(path, FAST) as stylizer:
        assert stylizer.io.contract == "stylecam" and stylizer.metadata.style_name == "stripes"
        out = stylizer(frame)
    assert out.shape == frame.shape and out.dtype == np.uint8
    expected = _reference(net, frame[None])[0]
    assert np.abs(out.astype(int) - expected).max() <= 1  # float rounding on .5 boundaries only
    if height * width > 100:
        assert out.std() > 5  # a real, non-flat picture came out


def test_real_export_batches_and_binds_like_single_frames(exported: tuple[torch.nn.Module, Path]) -> None:
    _, path = exported
    frames = np.stack([make_photo(40, 56, seed=s) for s in range(3)])
    with Stylizer(path, FAST) as bound, Stylizer(path, replace(FAST, iobinding=False)) as plain:
        batch = bound.stylize_batch(frames)
        np.testing.assert_array_equal(batch, plain.stylize_batch(frames))
        np.testing.assert_array_equal(batch[1], bound(frames[1]))


def test_real_export_with_flow_smoothing_across_a_resolution_change(exported: tuple[torch.nn.Module, Path]) -> None:
    _, path = exported
    smoother = TemporalSmoother(SmoothingConfig(mode="flow"))
    with Stylizer(path, FAST) as stylizer:
        for height, width in [(48, 64), (48, 64), (72, 96), (72, 96)]:
            source = make_photo(height, width)
            assert smoother(source, stylizer(source)).shape == (height, width, 3)
    assert smoother.resets == 1

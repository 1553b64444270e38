"""Export -> checker -> ONNX Runtime: the contract graph, its metadata and its parity report."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from stylecam import __version__
from stylecam.contract import INPUT_NAME, OUTPUT_NAME, REQUIRED_KEYS, ModelMetadata
from stylecam.export.metadata import K_PARAMETERS, K_SOURCE, config_digest
from stylecam.export.verify import DEFAULT_SIZES, report_path_for
from stylecam.onnxfile import load_onnx_safely, props_of
from stylecam.train.networks.model import count_parameters
from tests.conftest import make_photo
from tests.export.conftest import TINY, Exported, tiny_net


@pytest.fixture(scope="module")
def session(exported: Exported) -> ort.InferenceSession:
    return ort.InferenceSession(str(exported.model), providers=["CPUExecutionProvider"])


def test_model_passes_checker_full_check(exported: Exported) -> None:
    onnx.checker.check_model(onnx.load(str(exported.model)), full_check=True)


@pytest.mark.parametrize(
    ("batch", "height", "width"), [(1, 77, 101), (1, 64, 64), (1, 130, 90), (2, 33, 47), (1, 1, 1), (1, 3, 5)]
)
def test_any_size_comes_back_the_same_size(session: ort.InferenceSession, batch: int, height: int, width: int) -> None:
    frames = np.stack([make_photo(height, width, seed=i) for i in range(batch)])
    (out,) = session.run(None, {INPUT_NAME: frames})
    assert out.shape == frames.shape and out.dtype == np.uint8
    assert out.std() > 1.0  # a styled image, not a flat fill


def test_io_is_uint8_nhwc_with_symbolic_dims(exported: Exported) -> None:
    graph = onnx.load(str(exported.model)).graph
    (inp,), (out,) = graph.input, graph.output
    assert (inp.name, out.name) == (INPUT_NAME, OUTPUT_NAME)
    for value in (inp, out):
        assert value.type.tensor_type.elem_type == onnx.TensorProto.UINT8
        dims = value.type.tensor_type.shape.dim
        assert [d.dim_param for d in dims[:3]] == ["batch", "height", "width"] and dims[3].dim_value == 3


def test_uint8_only_at_graph_io(exported: Exported) -> None:
    # TensorRT takes uint8 only as network input/output: one Cast in, one Cast out.
    graph = onnx.load(str(exported.model)).graph
    consumers = [n.op_type for n in graph.node if INPUT_NAME in n.input]
    (producer,) = [n for n in graph.node if OUTPUT_NAME in n.output]
    assert consumers == ["Cast"] and producer.op_type == "Cast"


def test_metadata_round_trips(exported: Exported) -> None:
    model = load_onnx_safely(exported.model)
    props = props_of(model)
    assert set(REQUIRED_KEYS) <= set(props) and len(props) >= 3
    meta = ModelMetadata.from_props(props)
    assert meta.precision == "fp32" and meta.opset == 17 and meta.stride == 4
    assert meta.model_config == TINY.to_dict()
    assert (meta.style_name, meta.style_license) == ("stripes", "CC0")
    assert meta.train_config_digest == config_digest({"size": 64, "style_weight": 1.0})
    assert meta.extra[K_PARAMETERS] == str(count_parameters(tiny_net()))
    assert meta.extra[K_SOURCE] == "tiny.pt"
    assert next(op.version for op in model.opset_import if op.domain == "") == 17
    assert (model.producer_name, model.producer_version) == ("stylecam", __version__)


def test_parity_report_is_written_beside_the_model(exported: Exported) -> None:
    report = json.loads(report_path_for(exported.model).read_text())
    assert report["passed"] is True and report["model"] == "tiny.onnx"
    assert report["providers"][-1] == "CPUExecutionProvider"
    shapes = {tuple(c["shape"]) for c in report["comparisons"]}
    assert shapes == {(b, h, w, 3) for b, h, w in DEFAULT_SIZES}
    for comparison in report["comparisons"]:
        db = comparison["psnr_db"]
        assert comparison["finite"] and (db == "inf" or db >= 45.0)


def test_onnxruntime_matches_torch_wrapper(exported: Exported, session: ort.InferenceSession) -> None:
    import torch

    from stylecam.export.wrapper import ExportWrapper

    frames = make_photo(90, 130, seed=3)[None]
    (out,) = session.run(None, {INPUT_NAME: frames})
    with torch.no_grad():
        ref = ExportWrapper(tiny_net()).eval()(torch.from_numpy(frames)).numpy()
    assert np.abs(out.astype(int) - ref.astype(int)).max() <= 1

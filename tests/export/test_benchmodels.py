"""Models made for `stylecam bench`: the reference network and fp16 twins, through the export package."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stylecam.cli import main  # noqa: E402
from stylecam.runtime.bench.random_models import ensure_reference, fp16_twin_path, reference_path  # noqa: E402
from stylecam.runtime.config import RuntimeConfig  # noqa: E402
from stylecam.runtime.inference.stylizer import Stylizer  # noqa: E402
from stylecam.train.networks.model import build_model, count_parameters  # noqa: E402
from tests.conftest import make_photo  # noqa: E402
from tests.export.conftest import Exported  # noqa: E402

FAST = RuntimeConfig(probe="never")
QUICK = ["--modes", "model", "--size", "48x32", "--frames", "2", "--warmup", "1", "-q"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bench-cache")
    ensure_reference(folder)  # one real export of the reference network (random weights) per module
    return folder


def test_reference_network_is_the_johnson_net_on_the_contract(cache: Path) -> None:
    path = reference_path(cache)
    with Stylizer(path, FAST) as stylizer:
        out = stylizer(make_photo(37, 53))
        meta = stylizer.metadata
    assert out.shape == (37, 53, 3) and out.dtype == np.uint8
    assert meta.arch == "reference" and meta.precision == "fp32" and "random weights" in meta.style_license
    assert int(meta.extra["stylecam.parameters"]) == count_parameters(build_model("reference"))


def test_reference_rows_reuse_the_cache(
    cache: Path, exported: Exported, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stylecam.export import benchmodels

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cached reference must be reused, not exported again")

    monkeypatch.setattr(benchmodels, "export_reference", refuse)
    out = tmp_path / "bench.json"
    args = ["bench", "--model", str(exported.model), "--compare-reference", "--cache-dir", str(cache)]
    assert main([*args, *QUICK, "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [(row["arch"], row["reference"]) for row in rows] == [("reference", False), ("reference", True)]
    assert rows[0]["vs_reference"] > 0


def test_fp16_rows_measure_a_converted_twin(exported: Exported, tmp_path: Path) -> None:
    model = exported.model
    out = tmp_path / "bench.json"
    assert (
        main(["bench", "--model", str(model), "--fp16", "--cache-dir", str(tmp_path), *QUICK, "--json", str(out)]) == 0
    )
    rows = json.loads(out.read_text())["rows"]
    assert [row["precision"] for row in rows] == ["fp32", "fp16"] and all(row["status"] == "ok" for row in rows)
    twin = fp16_twin_path(Path(model), tmp_path)
    assert twin.is_file() and rows[1]["extra"]["file"] == twin.name and rows[1]["model"] == f"{model.name} (fp16)"
    photo = make_photo(40, 56)
    with Stylizer(model, FAST) as fp32, Stylizer(twin, FAST) as fp16:
        difference = np.abs(fp32(photo).astype(int) - fp16(photo).astype(int))
    assert difference.mean() < 2.0  # same weights, half precision

"""Bounded fuzzing: seeded mutations of an ONNX model and of video files through the loaders.

A worker process loads each mutant the way ``stylecam run`` does; it must never die or hang, and
every failure must be a StylecamError. The longer run is ``python benchmarks/fuzz.py --count N``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

FUZZ = Path(__file__).resolve().parents[1] / "benchmarks" / "fuzz.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("stylecam_fuzz", FUZZ)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("kind", "loaded", "refused"),
    [("onnx", "stylizer ok", "stylizer refused"), ("video", "decode ok", "probe refused")],
)
def test_mutants_never_kill_the_loader_and_fail_as_stylecam_errors(kind: str, loaded: str, refused: str) -> None:
    fuzz = _load()
    report = fuzz.fuzz(kind, 40, seed=11, timeout=60, cli=2)
    assert report.tried == 40
    assert report.defects == [], report.defects
    # the mutants reach the loaders: some still load, some are refused (not all stopped at the door)
    assert any(label.startswith(loaded) for label in report.outcomes), report.outcomes
    assert any(label.startswith(refused) for label in report.outcomes), report.outcomes
    assert sum(report.cli.values()) == 2 and all(label in ("exit 0", "exit 3", "exit 5") for label in report.cli)


def test_mutations_are_reproducible_from_seed_and_index(tmp_path: Path) -> None:
    fuzz = _load()
    originals = fuzz.seeds("onnx", tmp_path)
    first = [fuzz.mutant("onnx", 5, index, originals) for index in range(12)]
    assert first == [fuzz.mutant("onnx", 5, index, originals) for index in range(12)]
    assert len({data for _, _, data in first}) == 12 and all(data != originals["model.onnx"] for _, _, data in first)

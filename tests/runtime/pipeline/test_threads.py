"""The thread budget: chosen from the core count, overridable, applied to ORT, OpenCV and the codecs."""

from __future__ import annotations

import cv2
import pytest

from stylecam.errors import UsageError
from stylecam.runtime.config import RuntimeConfig, ThreadBudget, plan_threads, usable_cores
from stylecam.runtime.inference.session import session_options
from stylecam.runtime.pipeline.threads import opencv_threads


@pytest.mark.parametrize(
    ("cores", "inference", "opencv", "encode", "preset"),
    [
        (1, 1, 1, 1, "veryfast"),
        (2, 2, 1, 2, "veryfast"),
        (4, 4, 1, 4, "veryfast"),
        (8, 8, 2, 8, "medium"),
        (64, 64, 2, 16, "medium"),
    ],
)
def test_plan_fits_the_core_count(cores: int, inference: int, opencv: int, encode: int, preset: str) -> None:
    budget = plan_threads(cores)
    assert (budget.cores, budget.inference, budget.opencv, budget.encode) == (cores, inference, opencv, encode)
    assert budget.encoder_preset == preset  # medium made the encoder the slowest stage on 2 cores
    assert not budget.spinning  # spinning ORT threads starve the flow and codec threads (about -1/3 fps)
    assert budget.decode == 0  # FFmpeg's frame threads: one decoder thread was 15 % slower
    assert set(budget.as_dict()) == {"cores", "inference", "opencv", "decode", "encode", "spinning", "encoder_preset"}


@pytest.mark.parametrize("cores", [0, -2, 1.5])
def test_plan_refuses_impossible_core_counts(cores: object) -> None:
    with pytest.raises(UsageError, match="at least 1 core"):
        plan_threads(cores)  # type: ignore[arg-type]


def test_runtime_config_threads_pick_the_budget_and_intra_op_threads_override_it() -> None:
    assert RuntimeConfig().thread_budget is None  # library default: ONNX Runtime keeps its own choice
    assert RuntimeConfig(threads=2).thread_budget == plan_threads(2)
    budget = RuntimeConfig(threads=2, intra_op_threads=1).thread_budget
    assert isinstance(budget, ThreadBudget) and budget.inference == 1 and budget.opencv == 1
    with pytest.raises(UsageError, match="threads must be 0"):
        RuntimeConfig(threads=-1)


def test_session_options_follow_the_budget() -> None:
    default = session_options(RuntimeConfig())
    assert default.intra_op_num_threads == 0
    planned = session_options(RuntimeConfig(threads=2))
    assert planned.intra_op_num_threads == 2
    assert planned.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert session_options(RuntimeConfig(intra_op_threads=3)).intra_op_num_threads == 3


def test_opencv_threads_are_set_for_the_run_and_restored() -> None:
    before = cv2.getNumThreads()
    with opencv_threads(ThreadBudget(cores=2, inference=1, opencv=1, decode=1, encode=2, spinning=False)):
        assert cv2.getNumThreads() == 1
    assert cv2.getNumThreads() == before
    with opencv_threads(None):
        assert cv2.getNumThreads() == before


def test_usable_cores_is_positive() -> None:
    assert usable_cores() >= 1

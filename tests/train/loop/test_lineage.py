"""The runs behind --init: recorded in each checkpoint, kept across --resume, shown on the model card."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import pytest

torch = pytest.importorskip("torch")

from stylecam.export.bundle.model_card import _earlier  # noqa: E402
from stylecam.export.bundle.record import training_record  # noqa: E402
from stylecam.train.config import RunOptions  # noqa: E402
from stylecam.train.loop.lineage import stages_before  # noqa: E402
from stylecam.train.loop.runner import train  # noqa: E402
from tests.conftest import make_painting  # noqa: E402
from tests.train.conftest import write_photos  # noqa: E402
from tests.train.loop.test_run import FAST, TINY  # noqa: E402


def _run(photo_dir: Path, painting: Path, output: Path, steps: int, **options) -> dict:
    run = RunOptions(style=str(painting), data=photo_dir, output=output, sample_every=0, save_every=0,
                     progress=False, **options)  # fmt: skip
    settings = {} if "resume" in options else {"size": 32, "batch_size": 2, **FAST}
    train(run, {**settings, "steps": steps}, model_config=None if "init" in options or "resume" in options else TINY)
    return torch.load(output, weights_only=True)


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three runs, each started from the one before: a.pt (2 steps) -> b.pt (3) -> c.pt (4). Read only."""
    root = tmp_path_factory.mktemp("chain")
    photos, painting = root / "photos", root / "painting.png"
    write_photos(photos, 6)
    cv2.imwrite(str(painting), make_painting(160, 160))
    a, b, c = (root / f"{name}.pt" for name in "abc")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _run(photos, painting, a, 2)
        _run(photos, painting, b, 3, init=a)
        _run(photos, painting, c, 4, init=b)
    finally:
        torch.set_num_threads(before)
    return [a, b, c]


def test_each_run_records_the_runs_behind_its_init(chain: list[Path]) -> None:
    a, b, c = chain
    data = torch.load(c, weights_only=True)
    stages = data["init"]["stages"]
    assert data["init"]["checkpoint"] == str(b)
    assert [s["checkpoint"] for s in stages] == [str(a), str(b)]
    assert [s["step"] for s in stages] == [2, 3]
    assert stages[0]["init"] is None and stages[1]["init"]["checkpoint"] == str(a)
    assert stages[1]["train_config"]["steps"] == 3 and stages[1]["style"]["name"] == "painting"
    # the record is in the checkpoint: the earlier files may go
    gone = {**data, "init": {**data["init"], "checkpoint": "/nowhere/b.pt"}}
    assert [s["checkpoint"] for s in stages_before(gone)] == [str(a), str(b)]


def test_model_card_shows_every_earlier_run_with_its_command(chain: list[Path]) -> None:
    c = chain[2]
    folder = c.parent.name  # a run is named by its folder and file: chains reuse file names
    record = training_record(c, torch.load(c, weights_only=True), output_name="c.pt")
    earlier = record["earlier"]
    assert [s["checkpoint"] for s in earlier] == [f"{folder}/a.pt", f"{folder}/b.pt"]
    assert f"-o {folder}/a.pt" in earlier[0]["command"] and "--init" not in earlier[0]["command"]
    assert f"-o {folder}/b.pt" in earlier[1]["command"] and f"--init {folder}/a.pt" in earlier[1]["command"]
    assert record["command"].endswith(f"--init {folder}/b.pt") and "-o c.pt" in record["command"]
    assert "--steps 3" in earlier[1]["command"] and earlier[1]["batch_size"] == 2 and earlier[1]["size"] == 32
    lines = _earlier(earlier, 10.0)
    assert lines[0].startswith("* before this run, 2 earlier run(s)")
    assert f"`{folder}/a.pt`: 2 steps x batch 2 of 32 px" in lines[1] and "stylecam train" in lines[1]
    assert f"`{folder}/b.pt`: 3 steps x batch 2 of 32 px" in lines[2]
    stopped = _earlier([{**earlier[0], "step": 1}], None)[1]  # a run stopped early, then built on
    assert "1 of 2 planned steps" in stopped


def test_a_resumed_run_keeps_its_init_record(chain: list[Path], tmp_path: Path, one_thread) -> None:
    a = chain[0]
    photos, painting, b = a.parent / "photos", a.parent / "painting.png", tmp_path / "b.pt"
    first = _run(photos, painting, b, 2, init=a)
    resumed = _run(photos, painting, b, 4, resume=b)
    assert resumed["step"] == 4
    assert resumed["init"] == first["init"] and resumed["init"]["stages"][0]["checkpoint"] == str(a)


def test_an_older_checkpoint_without_stages_is_followed_on_disk(chain: list[Path], tmp_path: Path) -> None:
    _a, b, c = chain
    data = torch.load(c, weights_only=True)
    copy = tmp_path / "b.pt"
    shutil.copy(b, copy)
    old_style = {**data, "init": {"checkpoint": str(copy), "style": "painting"}}  # as written before stages existed
    assert [s["checkpoint"] for s in stages_before(old_style)] == [str(chain[0]), str(copy)]
    copy.unlink()  # the file is gone: the chain ends with a stage that says only its name
    assert stages_before(old_style) == [{"checkpoint": str(copy), "unrecorded": True}]
    record = training_record(c, old_style, output_name="c.pt")
    label = f"{tmp_path.name}/b.pt"
    assert record["earlier"] == [{"checkpoint": label, "command": None}]
    assert record["command"].endswith(f"--init {label}")
    assert f"`{label}`: not recorded" in _earlier(record["earlier"], None)[1]


def test_a_run_from_scratch_has_no_earlier_runs(chain: list[Path]) -> None:
    a = chain[0]
    data = torch.load(a, weights_only=True)
    assert data["init"] is None and stages_before(data) == []
    assert training_record(a, data, output_name="a.pt")["earlier"] == []
    assert _earlier([], None) == []


def test_a_long_chain_is_cut_with_a_marker_where_it_was_cut() -> None:
    from stylecam.train.loop.lineage import MAX_STAGES, _cut

    stages = [{"checkpoint": f"run{i}.pt", "train_config": {}} for i in range(MAX_STAGES + 3)]
    cut = _cut(stages)
    assert len(cut) == MAX_STAGES and cut[1:] == stages[-MAX_STAGES + 1 :]
    assert cut[0] == {"checkpoint": "run3.pt", "unrecorded": True}  # the card says it is not recorded
    assert _cut(stages[:MAX_STAGES]) == stages[:MAX_STAGES]

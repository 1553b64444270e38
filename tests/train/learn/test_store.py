"""Names, the model folder and its state: what ``stylecam learn`` refuses before it starts anything."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

from stylecam.cli import main
from stylecam.errors import OutputError, UsageError
from stylecam.train.learn import store
from stylecam.train.learn.store import Layout, existing_job, refuse_bundled_name, style_name, write_state

from ...conftest import make_painting


@pytest.mark.parametrize(
    ("file", "given", "expected"),
    [
        ("My Painting.jpg", None, "my_painting"),
        ("Candy-2.PNG", None, "candy_2"),
        ("__.jpg", None, "my_style"),
        ("x.jpg", "Sunset Sea", "sunset_sea"),
        ("x.jpg", "sunset-sea", "sunset_sea"),
    ],
)
def test_style_names(file: str, given: str | None, expected: str) -> None:
    assert style_name(Path(file), given) == expected


@pytest.mark.parametrize("given", ["../etc", "a/b", "é", "x" * 49, ""])
def test_bad_names_are_refused(given: str) -> None:
    with pytest.raises(UsageError, match="--name"):
        style_name(Path("x.jpg"), given)


@pytest.mark.parametrize("name", ["starry_night", "starry", "hokusai"])
def test_bundled_names_and_aliases_are_taken(name: str) -> None:
    with pytest.raises(UsageError, match="bundled style"):
        refuse_bundled_name(name, explicit=True)


def _painting(tmp_path: Path, name: str = "swirl.png") -> Path:
    path = tmp_path / name
    cv2.imwrite(str(path), make_painting(256, 256))
    return path


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["learn", *args, "--quality", "tiny", "-q"])
    return code, capsys.readouterr().err.strip().splitlines()


def test_a_painting_named_like_a_bundled_style_needs_a_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    painting = _painting(tmp_path, "starry_night.jpg")
    code, err = _run([str(painting), "--out", str(tmp_path / "models")], capsys)
    assert code == 2 and len(err) == 1 and "choose another name with --name" in err[0]
    assert not (tmp_path / "models").exists()


def test_an_existing_style_is_refused_without_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    painting = _painting(tmp_path)
    folder = tmp_path / "models" / "swirl"
    folder.mkdir(parents=True)
    (folder / "catalog.json").write_text("{}")
    code, err = _run([str(painting), "--out", str(tmp_path / "models")], capsys)
    assert code == 4 and len(err) == 1 and "pass --overwrite to replace it" in err[0]
    assert sorted(p.name for p in folder.iterdir()) == ["catalog.json"]


def test_an_unfinished_job_resumes_only_for_the_same_painting(tmp_path: Path) -> None:
    layout = Layout(tmp_path, "swirl")
    layout.work.mkdir(parents=True)
    write_state(layout, {"painting": {"sha256": "a" * 64, "file": "first.png"}, "quality": "good"})
    assert existing_job(layout, "a" * 64, overwrite=False)["quality"] == "good"
    with pytest.raises(OutputError, match="from another painting"):
        existing_job(layout, "b" * 64, overwrite=False)
    assert existing_job(layout, "b" * 64, overwrite=True) is None
    assert json.loads(layout.state_file.read_text())["schema"] == store.STATE_SCHEMA


def test_a_full_disk_is_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    painting = _painting(tmp_path)
    real = store.shutil.disk_usage
    monkeypatch.setattr(store.shutil, "disk_usage", lambda path: real(path)._replace(free=5 * 2**20))
    code, err = _run([str(painting), "--out", str(tmp_path / "models")], capsys)
    assert code == 4 and len(err) == 1 and "is full (5 MB free" in err[0] and "--out" in err[0]
    assert not (tmp_path / "models").exists()


def test_an_out_folder_under_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    painting = _painting(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, err = _run([str(painting), "--out", str(blocker / "models")], capsys)
    assert code == 4 and len(err) == 1 and "is a file" in err[0]


def test_missing_data_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    painting = _painting(tmp_path)
    code, err = _run([str(painting), "--out", str(tmp_path / "models"), "--data", str(tmp_path / "none")], capsys)
    assert code == 3 and len(err) == 1 and "--data" in err[0] and "camera index" in err[0]
    assert not (tmp_path / "models").exists()


def test_a_disk_that_fills_up_during_the_job_leaves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from stylecam.train.learn import job

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(job, "nearest_style", full)
    painting = _painting(tmp_path)
    code, err = _run([str(painting), "--out", str(tmp_path / "models")], capsys)
    assert code == 4 and len(err) == 1 and "filled up while learning" in err[0]
    assert not (tmp_path / "models").exists()

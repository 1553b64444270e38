"""Atomic outputs: the target only ever holds a complete file; inputs are never overwritten."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import pytest

from stylecam.atomic import atomic_output, check_output_path, partial_path
from stylecam.errors import OutputError


def test_success_moves_file_into_place(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with atomic_output(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".txt" and tmp != target
        tmp.write_text("done")
        assert not target.exists()
    assert target.read_text() == "done"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_failure_leaves_previous_target_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_output(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_nothing_written_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="nothing was written"), atomic_output(tmp_path / "x.png"):
        pass
    assert list(tmp_path.iterdir()) == []


def test_disk_full_becomes_a_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "out.mp4"
    with pytest.raises(OutputError, match=r"disk full.*untouched"), atomic_output(target) as tmp:
        tmp.write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_interrupt_keeps_partial_under_a_clear_name(tmp_path: Path) -> None:
    target = tmp_path / "out.mp4"
    with pytest.raises(KeyboardInterrupt), atomic_output(target, keep_partial_on_interrupt=True) as tmp:
        tmp.write_bytes(b"some frames")
        raise KeyboardInterrupt
    assert not target.exists()
    assert partial_path(target).read_bytes() == b"some frames"
    assert partial_path(target).name == "out.partial.mp4"


@pytest.mark.parametrize(
    ("make_target", "message"),
    [
        (lambda d: d / "missing" / "out.png", "does not exist"),
        (lambda d: d, "is a folder"),
        (lambda d: d / "in.png", "is the input"),
        (lambda d: d / "in.png" / "out.png", r"cannot exist: .*in\.png is a file"),
        (lambda d: d / "in.png" / "a" / "b" / "out.png", r"cannot exist: .*in\.png is a file"),
    ],
)
def test_refused_before_work(tmp_path: Path, make_target, message: str) -> None:
    source = tmp_path / "in.png"
    source.write_bytes(b"input data")
    with pytest.raises(OutputError, match=message):
        check_output_path(make_target(tmp_path), inputs=[source])
    assert source.read_bytes() == b"input data"


def test_input_reached_through_a_link_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "in.png"
    source.write_bytes(b"x")
    link = tmp_path / "link.png"
    os.symlink(source, link)
    with pytest.raises(OutputError, match="is the input"):
        check_output_path(link, inputs=[source])


def test_unwritable_folder_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Faked through os.access: the suite runs as root in CI, where chmod does not stop writes.
    folder = tmp_path / "ro"
    folder.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == folder else real_access(p, mode))
    with pytest.raises(OutputError, match="not writable"):
        check_output_path(folder / "out.png")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_folder_that_refuses_files_even_to_root_is_refused() -> None:
    # os.access says yes to root for /proc; only creating a file tells the truth.
    with pytest.raises(OutputError, match=r"/proc is not writable \(files cannot be created there\)"):
        check_output_path("/proc/stylecam-out.mp4")


def test_read_only_filesystem_is_refused_before_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def read_only(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    with pytest.raises(OutputError, match=r"not writable \(read-only filesystem\); choose another"):
        check_output_path(tmp_path / "out.mp4")
    with pytest.raises(OutputError, match="not writable"), atomic_output(tmp_path / "out.mp4"):
        pass
    assert list(tmp_path.iterdir()) == []


def test_output_gets_the_usual_permissions_not_private_ones(tmp_path: Path) -> None:
    """A temp file from mkstemp is 0o600, and the rename would keep that for the user's output."""
    umask = os.umask(0o022)
    try:
        with atomic_output(tmp_path / "out.txt") as tmp:
            tmp.write_text("done")
    finally:
        os.umask(umask)
    assert (tmp_path / "out.txt").stat().st_mode & 0o777 == 0o644

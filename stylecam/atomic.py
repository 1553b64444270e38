"""Atomic output files: write beside the target, rename on success, remove on failure.

Every command that writes a user-named file goes through :func:`atomic_output`, so the target path
only ever holds a complete file (or what was there before), and an input is never overwritten.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from stylecam.errors import OutputError

log = logging.getLogger(__name__)


def check_output_path(target: str | os.PathLike[str], *, inputs: Sequence[str | os.PathLike[str]] = ()) -> Path:
    """Refuse an output path before any work starts; return it as a Path.

    Refused: a target that is an existing folder, whose folder does not exist (or is a file) or is
    not writable (tested by creating a file there), or that is one of the inputs (same file, also
    through links).
    """
    path = Path(target).expanduser()
    if path.is_dir():
        raise OutputError(f"output {path} is a folder; give a file name, e.g. {path / 'out.mp4'}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        blocker = next((p for p in (parent, *parent.parents) if p.exists()), None)
        if blocker is not None and not blocker.is_dir():
            raise OutputError(f"output folder {parent} cannot exist: {blocker} is a file; choose another output path")
        raise OutputError(f"output folder {parent} does not exist; create it first (mkdir -p {parent})")
    why = _cannot_create_in(parent)
    if not os.access(parent, os.W_OK | os.X_OK):
        why = why or "permission denied"
    if why:
        raise OutputError(f"output folder {parent} is not writable ({why}); choose another output path")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputError(f"output {path} exists and is read-only; choose another output path")
    for source in inputs:
        if _same_file(path, Path(source)):
            raise OutputError(f"output {path} is the input file; choose a different output path")
    return path


_CREATE_ERRORS = {
    errno.EROFS: "read-only filesystem",
    errno.EACCES: "permission denied",
    errno.EPERM: "not permitted",
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.ENOENT: "files cannot be created there",  # e.g. /proc
}


def _cannot_create_in(folder: Path) -> str | None:
    """Why a file cannot be created in ``folder`` (None: it can).

    ``os.access`` is not enough: for root it says yes to read-only mounts' neighbours, /proc and
    /sys, so the only honest test is to create (and remove) a file, before any work starts.
    """
    try:
        fd, name = tempfile.mkstemp(prefix=".stylecam-write-test-", dir=folder)
    except OSError as exc:
        return _CREATE_ERRORS.get(exc.errno or 0, exc.strerror or type(exc).__name__)
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(name)
    return None


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def partial_path(target: Path) -> Path:
    """Where an interrupted output is kept: ``name.partial.ext`` beside the target."""
    return target.with_name(f"{target.stem}.partial{target.suffix}")


@contextlib.contextmanager
def atomic_output(
    target: str | os.PathLike[str],
    *,
    inputs: Sequence[str | os.PathLike[str]] = (),
    keep_partial_on_interrupt: bool = False,
) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; move it onto ``target`` only on success.

    The temporary file keeps the target's suffix so encoders pick the right format. On any
    exception the temporary file is removed and the target is left as it was. With
    ``keep_partial_on_interrupt``, Ctrl-C instead keeps what was written as
    ``name.partial.ext`` (for video that the writer closed cleanly). ENOSPC becomes an
    OutputError that says the disk is full and that the target is untouched.
    """
    path = check_output_path(target, inputs=inputs)
    try:
        tmp = _new_temp_file(path)
    except OSError as exc:  # the folder changed since the check (removed, remounted, filled up)
        raise OutputError(f"cannot create a file beside {path} ({exc.strerror}); choose another output path") from exc
    try:
        yield tmp
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise OutputError(f"nothing was written for {path}; the output is left untouched")
        _fsync(tmp)
        os.replace(tmp, path)
    except KeyboardInterrupt:
        if keep_partial_on_interrupt and tmp.exists() and tmp.stat().st_size > 0:
            kept = partial_path(path)
            os.replace(tmp, kept)
            log.warning("interrupted: kept the part written so far as %s (%s untouched)", kept, path)
        raise
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise OutputError(
                f"disk full while writing {path}; free some space or write elsewhere "
                f"(the partial file was removed, {path} is untouched)"
            ) from exc
        raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _new_temp_file(target: Path) -> Path:
    """Create an empty ``.name.XXXX.tmp.ext`` beside ``target`` with the mode a new file gets here.

    Not mkstemp: its 0o600 would survive the rename and make every output private to its owner;
    0o666 minus the umask is what ``open()`` and other tools give a new file.
    """
    for _ in range(100):
        candidate = target.with_name(f".{target.stem}.{secrets.token_hex(4)}.tmp{target.suffix}")
        try:
            os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(target.parent))


def _fsync(path: Path) -> None:
    # Rename is atomic only for data that reached the disk; fsync first so a crash right after
    # the rename cannot leave an empty file at the target.
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())

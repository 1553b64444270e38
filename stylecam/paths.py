"""Checks on user-named paths, done before any work starts."""

from __future__ import annotations

import os
from pathlib import Path

from stylecam.errors import InputError


def check_input_file(path: str | os.PathLike[str], *, what: str = "input") -> Path:
    """Return ``path`` as a Path if it is a readable, non-empty regular file; else InputError."""
    file = Path(path).expanduser()
    if not file.exists():
        raise InputError(f"{what} {file} does not exist; check the path")
    if file.is_dir():
        raise InputError(f"{what} {file} is a folder, not a file; give a file path")
    if not os.access(file, os.R_OK):
        raise InputError(f"{what} {file} is not readable (permission denied); fix its permissions")
    if file.stat().st_size == 0:
        raise InputError(
            f"{what} {file} is empty (0 bytes); it was probably cut off while copying or downloading: copy it again"
        )
    return file

"""Files in the data dir are the hub's alone: the dir is 0700 and every file in it 0600, since they hold the
usage log, e-mail addresses, key hashes, encrypted credentials and the master key."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

import structlog

log = structlog.get_logger("hub_core.infra.files")

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create `path` (and its parents) as 0700, and tighten it to 0700 when it already exists."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _tighten(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty as 0600 unless it exists, and tighten it to 0600 when it does: a database created
    by a library (SQLite) then inherits the mode, as do the files SQLite makes beside it (-wal, -shm)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    _tighten(path, FILE_MODE)
    return path


def private_tree(root: Path) -> None:
    """Tighten `root` and everything below it (files an older hub, a restore or a copy left readable); run
    once at start-up. Symbolic links are left alone: what they point to is not the hub's to change."""
    private_dir(root)
    for path in root.rglob("*"):
        if path.is_symlink():
            continue
        _tighten(path, DIR_MODE if path.is_dir() else FILE_MODE)


def open_private(path: Path, mode: str = "w") -> IO[str]:
    """`open(path, mode)` (text; "w" or "a") for a file created 0600."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode.startswith("a") else os.O_TRUNC)
    return os.fdopen(os.open(path, flags, FILE_MODE), mode)


def write_private_bytes(path: Path, data: bytes) -> None:
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE), "wb") as fh:
        fh.write(data)


def _tighten(path: Path, mode: int) -> None:
    try:
        if path.stat().st_mode & 0o777 != mode:
            os.chmod(path, mode)
    except OSError as exc:  # not ours to change (a shared mount): say so, the hub still works
        log.warning("cannot restrict the permissions of a data file", path=str(path), error=str(exc))

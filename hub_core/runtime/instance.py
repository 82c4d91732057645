"""Which run of which hub this process is, so that after a crash the next start can close what the crashed
run left open (its calls' credit holds) without touching the calls of hubs that are still running.

An installation (a data dir) has a random id; each process serving from it holds an exclusive lock on one
numbered slot file. The kernel drops the lock when the process dies, also on kill -9, so a slot that can be
taken again belongs to no living process, and whatever its earlier holder left open can be closed.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import time
from pathlib import Path

from hub_core.infra.files import private_dir

MAX_SLOTS = 100


class InstanceSlot:
    """The slot this process holds: `tag` (8 characters) prefixes the ids of its billed calls."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = private_dir(data_dir)
        self.install_id = _install_id(data_dir / "instance-id")
        self._fd: int | None = None
        self.slot = -1

    @property
    def tag(self) -> str:
        return f"{self.install_id}{self.slot:02d}"

    def acquire(self) -> str:
        """Take the lowest free slot; returns the tag."""
        for slot in range(MAX_SLOTS):
            fd = os.open(self.data_dir / f"instance-{slot:02d}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self._fd, self.slot = fd, slot
            return self.tag
        raise RuntimeError(f"more than {MAX_SLOTS} hub processes serve from {self.data_dir}")

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor drops the lock
            self._fd = None


def _install_id(path: Path) -> str:
    """The installation's id, created once: the first of several processes starting together writes it (an
    exclusive create), the others read what it wrote."""
    value = secrets.token_hex(3)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            found = path.read_text().strip()
            if len(found) == 6:
                return found
            time.sleep(0.01)  # the first process is writing it
        raise RuntimeError(f"{path} is not a hub installation id; delete it to make a new one") from None
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value

"""Scratch space in the temp folder that a killed process cannot leave behind for good.

A scratch folder holds a `lock` file on which its owner keeps an exclusive `flock` for as
long as it lives; the kernel drops the lock when the process dies, however it dies. Every
new scratch folder first removes the folders of its kind whose lock nobody holds: so the
next command after a `kill -9` cleans up what the killed one left. Folders from earlier
versions, which had no lock file, are removed once they are a day old.

Files that need no name (the import's spool) are better still: they are unlinked as soon
as they are opened (`tempfile.TemporaryFile`), so there is nothing to leave behind.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK = "lock"
UNLOCKED_MAX_AGE = 24 * 3600  # seconds: a lock-less folder of an earlier version


@contextmanager
def folder(prefix: str) -> Iterator[Path]:
    """A private folder `<temp>/<prefix>XXXX`, locked while in use and removed after."""
    remove_stale(prefix)
    # Locked under another name first, then renamed: no one ever sees it unlocked.
    pending = Path(tempfile.mkdtemp(prefix=f".pending-{prefix}"))
    fd = os.open(pending / LOCK, os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    path = pending.with_name(pending.name.removeprefix(".pending-"))
    try:
        pending.rename(path)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(fd)


def remove_stale(prefix: str, temp: Path | None = None) -> list[Path]:
    """Remove the `prefix*` folders in the temp folder that no live process holds; returns them."""
    removed: list[Path] = []
    root = temp or Path(tempfile.gettempdir())
    try:
        candidates = [p for p in root.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return removed
    for path in candidates:
        if _stale(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _stale(path: Path) -> bool:
    try:
        if path.is_symlink() or not path.is_dir():
            return False
        lock = path / LOCK
        if not lock.exists():
            return time.time() - path.stat().st_mtime > UNLOCKED_MAX_AGE
        fd = os.open(lock, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # a live process holds it
    finally:
        os.close(fd)
    return True

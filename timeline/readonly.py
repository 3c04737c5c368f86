"""Reading a SQLite log this process may not write: an auditor's copy, a read-only mount.

The file is opened read-only (`mode=ro`). When the views are up to date every reading
command works on it directly. When they are behind the log (or the folder is read-only
and SQLite cannot make the `-shm` file a WAL database needs), the database is copied into
a scratch folder (`timeline.scratch`) and the command runs on the copy, where the views
can catch up; the original is never written. `app.notes` says when a copy was made.
"""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import ExitStack, closing
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from timeline import scratch
from timeline.config import Target
from timeline.errors import StoreUnavailable

if TYPE_CHECKING:
    from timeline.app import Timeline


def open_read_only(cls: type[Timeline], target: Target) -> Timeline:
    try:
        app = cls._open(target)
    except StoreUnavailable:
        # A WAL database in a folder where SQLite cannot make its -shm file.
        note = f"{target.display} is read-only and cannot be read in place: reading a scratch copy"
        return _open_copy(cls, target, _copy_files, note)
    if _views_current(app):
        return app
    app.close()
    note = f"{target.display} is read-only: its views were brought up to date in a scratch copy"
    return _open_copy(cls, target, _backup, note)


def _views_current(app: Any) -> bool:
    from eventsourcing.persistence import PersistenceError

    from timeline.views.runner import Views

    try:
        views = Views(app)
        return views.stale is None and views.position() == app.event_count()
    except PersistenceError:
        return False  # a view table missing, or the catch-up would have to write


def _open_copy(cls: type[Timeline], target: Target, copy: Any, note: str) -> Timeline:
    stack = ExitStack()
    folder = stack.enter_context(scratch.folder("timeline-readonly-"))
    path = folder / "copy.db"
    try:
        copy(target, path)
        settings = {**target.settings, "SQLITE_DBNAME": str(path)}
        settings.pop("CREATE_TABLE", None)
        app = cls._open(replace(target, settings=settings, read_only=False), display=target.display)
    except BaseException:
        stack.close()
        raise
    app.notes.append(note)
    app.close_scratch = stack.close  # type: ignore[attr-defined]
    return app


def _backup(target: Target, path: Path) -> None:
    """A consistent copy through SQLite's backup API (it reads the WAL too)."""
    try:
        with (
            closing(sqlite3.connect(target.settings["SQLITE_DBNAME"], uri=True)) as src,
            closing(sqlite3.connect(path)) as dst,
        ):
            src.backup(dst)
    except sqlite3.Error as e:
        raise StoreUnavailable(f"cannot read database {target.display}: {e}") from None


def _copy_files(target: Target, path: Path) -> None:
    """The file and its WAL, copied as they are: SQLite could not open them in place."""
    try:
        shutil.copyfile(target.path, path)
        wal = target.path.with_name(target.path.name + "-wal")
        if wal.exists():
            shutil.copyfile(wal, path.with_name(path.name + "-wal"))
    except OSError as e:
        raise StoreUnavailable(f"cannot read database {target.display}: {e.strerror or e}") from None

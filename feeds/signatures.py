"""The story pages' signatures between builds (`feeds.page.PageBuild`): one per page, a
development's own page included, so as many as the log has developments.

Kept in a small SQLite file beside the pages (`FILE`, hidden: never served) and looked up
one page at a time; held as one JSON dict they were about 250 bytes of memory per page
(and the file's text twice while it was read and written). A build works on a copy in a
temporary file (the previous build's rows, then this build's changes) and puts the new file
in place whole, by rename, after the pages it describes are written and before the
manifest, as the JSON file was: a build killed at any moment leaves the previous file. The
new file is written fresh, its rows in path order, so the same signatures make the same
bytes however the build got there.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

FILE = ".timeline-pages.sqlite"
FORMER = ".timeline-pages.json"  # the signatures before this file: removed, its pages rendered again
_TABLE = "CREATE TABLE pages (path TEXT PRIMARY KEY, sig TEXT NOT NULL{}) WITHOUT ROWID"
_BATCH = 2000


def _as_os_error(fn: F) -> F:
    """SQLite's errors as the `OSError` any other file of the build raises, so that the
    command says them in one line (a full disk as a full disk)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except sqlite3.Error as e:
            full = "full" in str(e)
            raise OSError(errno.ENOSPC if full else errno.EIO, f"the page signatures: {e}") from None

    return wrapper  # type: ignore[return-value]


def _connect(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, uri=True)  # a plain path stays a path
    db.execute("PRAGMA journal_mode = OFF")  # temporary or written whole, then renamed
    db.execute("PRAGMA synchronous = OFF")
    return db


class Signatures:
    """`path`: the file in the build's folder (None: a build that keeps nothing);
    `temporary`: a fresh hidden name beside it, for a file being written."""

    @_as_os_error
    def __init__(self, path: str | None, temporary: Callable[[], str] | None = None) -> None:
        self.path = path
        self._temporary = temporary
        self._work = temporary() if path and temporary else ""  # "": SQLite's own temporary file
        self._db = _connect(self._work)
        self._db.execute(_TABLE.format(", kept INTEGER NOT NULL DEFAULT 0"))
        self.changed = False  # a signature set or removed since the previous build's file
        if path and os.path.isfile(path):
            self._copy_previous(path)
        self._db.execute("BEGIN")

    def _copy_previous(self, path: str) -> None:
        try:
            # A URI quotes what a folder's name may hold (`#`, `?`, `%`).
            self._db.execute("ATTACH DATABASE ? AS previous", [Path(path).resolve().as_uri() + "?mode=ro"])
        except sqlite3.DatabaseError:
            self.changed = True
            return
        try:
            self._db.execute("INSERT INTO pages (path, sig) SELECT path, sig FROM previous.pages")
        except sqlite3.DatabaseError:  # not a file of ours, or damaged: its pages are rendered again
            self._db.execute("DELETE FROM pages")
            self.changed = True
        finally:
            self._db.execute("DETACH DATABASE previous")

    @_as_os_error
    def same(self, path: str, sig: str) -> bool:
        """Whether `path` has signature `sig` from before; if so this build keeps it."""
        return self._db.execute("UPDATE pages SET kept = 1 WHERE path = ? AND sig = ?", [path, sig]).rowcount > 0

    @_as_os_error
    def get(self, path: str) -> str | None:
        row = self._db.execute("SELECT sig FROM pages WHERE path = ?", [path]).fetchone()
        return row[0] if row else None

    @_as_os_error
    def set(self, path: str, sig: str) -> None:
        """This build has the page at `path`, rendered from inputs with signature `sig`."""
        self._db.execute(
            "INSERT INTO pages (path, sig, kept) VALUES (?, ?, 1) ON CONFLICT (path) DO UPDATE SET sig = ?, kept = 1",
            [path, sig, sig],
        )
        self.changed = True

    @_as_os_error
    def keep(self, paths: Iterable[str]) -> None:
        """This build has these pages as they are (a path without a signature is ignored)."""
        batch: list[tuple[str]] = []
        for path in paths:
            batch.append((path,))
            if len(batch) >= _BATCH:
                self._db.executemany("UPDATE pages SET kept = 1 WHERE path = ?", batch)
                batch = []
        self._db.executemany("UPDATE pages SET kept = 1 WHERE path = ?", batch)

    @_as_os_error
    def gone(self) -> list[str]:
        """Pages with a signature that this build has not kept: forgotten, and returned in
        path order to be removed."""
        paths = [r[0] for r in self._db.execute("SELECT path FROM pages WHERE kept = 0 ORDER BY path")]
        if paths:
            self._db.execute("DELETE FROM pages WHERE kept = 0")
            self.changed = True
        return paths

    @_as_os_error
    def save(self) -> None:
        """Put the signatures in place as `path` (unless nothing changed and it is there)."""
        if self.path is None or self._temporary is None:
            return
        if not self.changed and os.path.isfile(self.path):
            return
        tmp = self._temporary()
        try:
            out = _connect(tmp)
            try:
                out.execute(_TABLE.format(""))
                out.execute("BEGIN")
                rows = self._db.execute("SELECT path, sig FROM pages ORDER BY path")
                while batch := rows.fetchmany(_BATCH):
                    out.executemany("INSERT INTO pages (path, sig) VALUES (?, ?)", batch)
                out.execute("COMMIT")
            finally:
                out.close()
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def close(self) -> None:
        self._db.close()
        if self._work:
            with contextlib.suppress(OSError):
                os.unlink(self._work)

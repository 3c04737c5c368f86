"""The project's own errors: what a user did or asked that cannot be done.

The command line turns each into one line `Error: ...` and a non-zero exit.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from timeline.config import Target


def first_line(e: BaseException) -> str:
    """An infrastructure error's own words, cut to the one line a user is shown."""
    return (str(e).strip() or type(e).__name__).splitlines()[0]


def disk_full(path: Path | None) -> bool:
    """Whether the file system holding `path` has no room left for another page."""
    if path is None:
        return False
    try:
        st = os.statvfs(path.parent if not path.is_dir() else path)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < 64 * 1024


def store_problem(e: BaseException, path: Path | None = None) -> str:
    """A store error's cause in the words a user needs; `path` is the SQLite file, if any.

    SQLite reports a full disk as "database or disk is full" from some writes and as
    "disk I/O error" from others (a WAL or shared-memory page it could not extend): both
    are said as what they are when the disk is in fact full.
    """
    text = first_line(e)
    low = text.lower()
    if "disk is full" in low or (("disk i/o error" in low or "no space left" in low) and disk_full(path)):
        return "the disk is full; free some space and run the command again"
    if "database is locked" in low or "database is busy" in low:
        waited = os.environ.get("TIMELINE_LOCK_TIMEOUT", "").strip() or "10"
        # Said as what is known: a lock was met after waiting up to the timeout (every
        # write transaction takes the write lock at its BEGIN, so SQLite waits for it).
        return f"another process held the database's lock (waited up to {waited} s for it); run the command again"
    if "readonly database" in low or "read-only" in low:
        return "the database is read-only here (this command writes to it)"
    return text


class TimelineError(Exception):
    """An expected error, shown to the user as one line."""


class BadValue(TimelineError):
    """A value given on the command line that cannot be read: a usage error (exit 2)."""

    exit_code = 2


class DevelopmentNotFound(TimelineError):
    def __init__(self, ref: str) -> None:
        super().__init__(f"no development {ref!r}")


class Conflict(TimelineError):
    """The same id arrived with different fields: neither ignored nor overwritten. The one
    message for `add` and for an import line (`events.differences` says what differs)."""

    def __init__(self, dev_id: str, fields: list[str]) -> None:
        self.dev_id = dev_id
        self.fields = fields
        super().__init__(
            f"development {dev_id} is already recorded with different {', '.join(fields)}; "
            'a correction changes it (`timeline correct`, or an import line with "op": "correct")'
        )


class StoreUnavailable(TimelineError):
    """The --db target cannot be opened."""


class AmbiguousReference(TimelineError):
    """A short id (or a key that is also one) that names more than one development."""

    def __init__(self, ref: str, candidates: list[tuple[str, str]]) -> None:
        self.candidates = candidates
        listed = "; ".join(f"{i} ({title})" if title else i for i, title in candidates)
        super().__init__(f"{ref!r} names more than one development: {listed}; give more of the id")


class MissingReference(TimelineError):
    """A field names a development that is not recorded (or not one it can name)."""


class StoreFailed(TimelineError):
    """The store failed under a command that had opened it."""


def store_failed(target: Target | None, e: BaseException) -> StoreFailed:
    """The one line for a store that failed under a command; `target` is the database the
    command had opened (None when it had opened none)."""
    path = target.path if target is not None and not target.is_postgres else None
    where = f"database {target.display}" if target is not None else "database"
    return StoreFailed(f"{where}: {store_problem(e, path)}")


def check_arguments(args: list[str]) -> None:
    """Refuse a command-line argument that is not UTF-8 text, naming its option.

    Python hands such bytes over as lone surrogates, which no store can encode: they
    would otherwise end in a UnicodeEncodeError deep inside a write.
    """
    for i, arg in enumerate(args):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            option, _, value = arg.partition("=") if arg.startswith("--") else ("", "", arg)
            if not option and i > 0 and args[i - 1].startswith("-"):
                option = args[i - 1]
            which = f"the value of {option}" if option else f"argument {i + 1}"
            try:
                shown = os.fsencode(value).decode("utf-8", "backslashreplace")  # the bytes as given
            except UnicodeEncodeError:  # a surrogate no byte maps to (not from a real argv)
                shown = value.encode("utf-8", "backslashreplace").decode()
            raise BadValue(f"{which} is not UTF-8 text ('{shown}'); nothing was written") from None

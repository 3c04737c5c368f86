"""The few things the application needs from storage beyond the eventsourcing library.

`Sql` runs the read models' portable SQL (written with `?` placeholders) inside the
library's own transactions on SQLite or PostgreSQL, or on a scratch SQLite file used for
replays. Everything the views write goes through it, so one piece of code serves both
back ends and the replay.
"""

from __future__ import annotations

import re
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    Notification,
    OperationalError,
    PersistenceError,
    StoredEvent,
    TrackingRecorder,
)

T = TypeVar("T")
# SQLite page cache (KiB) of a connection doing bulk writes (an import, a views catch-up):
# the default 2 MB is outgrown early by their random-keyed B-trees. Here, not with the
# views, so that an import does not import the views to read it.
BULK_CACHE_KIB = 65536


class Cursor(Protocol):
    """What the portable SQL needs of a cursor: the library's SQLite cursor wrapper,
    psycopg's cursor and sqlite3's all have it."""

    def execute(self, statement: str, params: Any = ..., /) -> Any: ...

    def executemany(self, statement: str, rows: Any, /) -> Any: ...

    def fetchall(self) -> Any: ...

    def fetchone(self) -> Any: ...


# How a `Sql` opens a transaction: the library datastore's `transaction(commit=...)`, or
# the scratch file's own.
Transaction = Callable[..., AbstractContextManager[Cursor]]


def _writes_locked_at_begin(datastore: Any) -> Transaction:
    """The library's SQLite transactions, except that one that will commit begins with
    `BEGIN IMMEDIATE`, taking the write lock first (waiting up to the lock timeout).

    The library opens every transaction with a deferred `BEGIN`: a transaction that reads,
    then writes, asks for the write lock only at its first write, and if another process
    committed after its read began, SQLite refuses it at once ("database is locked"
    without waiting: its snapshot is stale). Under many writers that happened to
    transactions that looked before they wrote (the views' set-up, a setting)."""
    from eventsourcing.sqlite import SQLiteTransaction

    class Immediate(SQLiteTransaction):
        def __enter__(self) -> Any:
            cursor = self.connection.cursor()
            try:
                cursor.execute("BEGIN IMMEDIATE")
            # As the library's own errors, which it makes only of those raised in the body:
            # a lock timeout here is the same "database is locked" a first write met before.
            except sqlite3.OperationalError as e:
                raise OperationalError(e) from e
            except sqlite3.Error as e:
                raise PersistenceError(e) from e
            return cursor

    @contextmanager
    def transaction(*, commit: bool) -> Iterator[Any]:
        if not commit:
            with datastore.transaction(commit=False) as curs:
                yield curs
            return
        # As the library's `SQLiteDatastore.transaction`, with the other BEGIN.
        with datastore.get_connection(commit=True) as conn, Immediate(conn, commit=True) as curs, curs:
            yield curs

    return transaction


class Sql:
    """Portable SQL over one database connection source."""

    def __init__(self, transaction: Transaction, *, postgres: bool, schema: str | None = None) -> None:
        self._transaction = transaction
        self.postgres = postgres
        self.schema = schema

    @classmethod
    def for_recorder(cls, recorder: TrackingRecorder | ApplicationRecorder) -> Sql:
        datastore = recorder.datastore  # type: ignore[union-attr]
        # Looked up, not imported: a SQLite command never pays for importing psycopg.
        pg = sys.modules.get("eventsourcing.postgres")
        postgres = pg is not None and isinstance(recorder, pg.PostgresRecorder)
        transaction = datastore.transaction if postgres else _writes_locked_at_begin(datastore)
        return cls(transaction, postgres=postgres, schema=getattr(datastore, "schema", None))

    @classmethod
    def scratch(cls, path: Path | None) -> Sql:
        """A private SQLite file for work that must not grow memory (replays, imports).

        With no path, SQLite's own temp database: a file it unlinks as soon as it is open,
        so that nothing is left behind if the process is killed."""
        conn = sqlite3.connect(path or "", isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")

        @contextmanager
        def transaction(*, commit: bool) -> Iterator[sqlite3.Cursor]:
            cur = conn.cursor()
            cur.execute("BEGIN")
            try:
                yield cur
            except BaseException:
                conn.rollback()
                raise
            if commit:
                conn.commit()
            else:
                conn.rollback()

        sql = cls(transaction, postgres=False)
        sql.close = conn.close  # type: ignore[method-assign]
        return sql

    def close(self) -> None:
        """Nothing to close for a recorder's datastore: the application closes it."""

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Cursor]:
        with self._transaction(commit=commit) as cursor:
            yield cursor

    def q(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.postgres else statement

    def execute(self, cursor: Cursor, statement: str, params: Sequence[Any] = ()) -> None:
        cursor.execute(self.q(statement), tuple(params))

    def executemany(self, cursor: Cursor, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            cursor.executemany(self.q(statement), [tuple(r) for r in rows])

    def insert_rows(self, cursor: Cursor, statement: str, rows: Sequence[Sequence[Any]], types: Sequence[str]) -> None:
        """`INSERT INTO t (a, b) VALUES (?, ?) [ON CONFLICT ...]` for every row. On PostgreSQL
        one statement carries them all, one array per column (`types`, PostgreSQL's names)
        read back by `unnest`: executemany sends a statement per row, and in a rebuild those
        round trips were most of the time. The rows must not repeat a conflict key."""
        if not rows:
            return
        if not self.postgres:
            self.executemany(cursor, statement, rows)
            return
        m = _VALUES.search(statement)
        if m is None or m.group(1).count("?") != len(types):
            raise ValueError(f"not an INSERT ... VALUES of {len(types)} columns: {statement}")
        names = iter(range(len(types)))
        select = re.sub(r"\?", lambda _: f"u.c{next(names)}", m.group(1))
        # Sent in binary: psycopg escapes every element of a text-format array with a regex
        # substitution, which took most of the time these statements saved.
        arrays = ", ".join(f"%b::{t}[]" for t in types)
        columns = ", ".join(f"c{i}" for i in range(len(types)))
        bulk = f"{statement[: m.start()]}SELECT {select} FROM unnest({arrays}) AS u({columns}){statement[m.end() :]}"
        cursor.execute(bulk, [list(column) for column in zip(*rows, strict=True)])

    def rows(self, cursor: Cursor, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        self.execute(cursor, statement, params)
        return list(cursor.fetchall())

    def fetchmany(self, cursor: Cursor, size: int) -> list[Any]:
        # The library's SQLite cursor wrapper has no fetchmany(); the cursor it wraps does.
        raw: Any = getattr(cursor, "sqlite_cursor", cursor)
        return list(raw.fetchmany(size))

    def scalar(self, cursor: Cursor, statement: str, params: Sequence[Any] = ()) -> Any:
        self.execute(cursor, statement, params)
        row = cursor.fetchone()
        if row is None:
            return None
        return row[0] if not isinstance(row, dict) else next(iter(row.values()))

    def table(self, name: str) -> str:
        """A table name as SQL: schema-qualified on PostgreSQL."""
        return f'"{self.schema}"."{name}"' if self.postgres and self.schema else f'"{name}"'


# The VALUES group of an INSERT: up to the ON CONFLICT clause or the end.
_VALUES = re.compile(r"VALUES \((.*?)\)(?= ON CONFLICT|$)")


def in_parts(items: Sequence[T], size: int = 500) -> Iterator[tuple[Sequence[T], str]]:
    """`items` in parts of at most `size`, each with the `?,?,...` its `IN (...)` needs:
    SQLite caps the parameters of one statement."""
    for start in range(0, len(items), size):
        part = items[start : start + size]
        yield part, ",".join("?" * len(part))


def first_events(recorder: ApplicationRecorder, ids: Sequence[UUID]) -> dict[UUID, StoredEvent]:
    """The first stored event of each id that has one: one query per call, not one per id."""
    if not ids:
        return {}
    sql = Sql.for_recorder(recorder)
    table = sql.table(recorder.events_table_name)  # type: ignore[attr-defined]
    select = f"SELECT originator_id, originator_version, topic, state FROM {table} WHERE originator_version = 1"
    with sql.transaction(commit=False) as c:
        if sql.postgres:
            rows = sql.rows(c, f"{select} AND originator_id = ANY(?)", [list(ids)])
        else:
            rows = []
            for part, marks in in_parts([i.hex for i in ids]):
                rows += sql.rows(c, f"{select} AND originator_id IN ({marks})", part)
        found = {}
        for row in rows:
            oid = row["originator_id"]
            oid = oid if isinstance(oid, UUID) else UUID(oid)
            found[oid] = StoredEvent(oid, row["originator_version"], row["topic"], bytes(row["state"]))
        return found


def notification_pages(
    recorder: ApplicationRecorder, start: int = 1, stop: int | None = None, page: int = 1000
) -> Iterator[Sequence[Notification]]:
    """The notifications from `start` to `stop` (inclusive), a page of at most `page` at a
    time: the caller may stop reading after any page."""
    while True:
        batch = recorder.select_notifications(start, page, stop=stop)
        if batch:
            yield batch
        if len(batch) < page:
            return
        start = batch[-1].id + 1


def iter_notifications(
    recorder: ApplicationRecorder, start: int = 1, stop: int | None = None, page: int = 1000
) -> Iterator[Notification]:
    """Every notification from `start` to `stop` (inclusive), read in pages."""
    for batch in notification_pages(recorder, start, stop, page):
        yield from batch

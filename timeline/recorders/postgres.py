"""The PostgreSQL recorders: DDL that openers run in turn, and an insert as one INSERT or one COPY.

See the package's docstring for why.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import InterfaceError, OperationalError, ProgrammingError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresTrackingRecorder
from eventsourcing.utils import retry

from timeline.recorders import LogHooks

if TYPE_CHECKING:
    from psycopg.sql import Composable

# From this many events an insert is one COPY (an import's batches), below it one INSERT
# (small enough that its parameters and RETURNING rows stay far below the socket buffers,
# nothing pipelined); the same for the rows of each of the log's tree tables
# (`timeline.proof.tree`).
COPY_FROM = 1000
# pg_advisory_lock key for the DDL that opening a database runs: b"timeline" as an int8.
DDL_LOCK_KEY = int.from_bytes(b"timeline", "big") & 0x7FFF_FFFF_FFFF_FFFF


class _SerialDDL:
    """Run a recorder's `create_table` while holding the database's DDL advisory lock."""

    datastore: Any

    def __init__(self, datastore: Any, *args: Any, **kwargs: Any) -> None:
        _search_the_schema(datastore)
        super().__init__(datastore, *args, **kwargs)  # type: ignore[call-arg]

    def create_table(self) -> None:
        # The pool's connections are in autocommit mode, so this is a session lock held by
        # one connection while `create_table` uses others; unlocked even if the DDL fails.
        with self.datastore.get_connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (DDL_LOCK_KEY,))
            try:
                super().create_table()  # type: ignore[misc]
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (DDL_LOCK_KEY,))


def _search_the_schema(datastore: Any) -> None:
    """Connections that find the views' tables (named without a schema) in `?schema=`.

    The library names its own tables with their schema; the views' SQL is portable and
    names none, so without this it would read and write the public schema's views. Set
    before the pool's first connection (the recorder's `__init__` makes one); the schema is a plain
    name (`timeline.config` refuses others), so it needs no quoting.
    """
    if datastore.schema != "public":
        datastore.pool.kwargs["options"] = f"-c search_path={datastore.schema}"


class PostgresRecorder(LogHooks, _SerialDDL, PostgresApplicationRecorder):
    def __init__(self, datastore: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(datastore, *args, **kwargs)
        self.channel_name = channel_name(datastore.schema, self.events_table_name)

    def _create_table(self, curs: Any) -> None:
        super()._create_table(curs)
        self.create_tree(curs)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if not stored_events:
            return []
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            # The library's own table lock: positions are handed out in commit order.
            self._lock_table(curs)
            self._notify_channel(curs)
            if len(stored_events) >= COPY_FROM:
                positions = self._copy(curs, stored_events)
            else:
                rows = [
                    self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
                    for e in stored_events
                ]
                curs.execute(self.insert_events_statement, (rows,))
                positions = [r["notification_id"] for r in curs.fetchall()]
            self.after_insert(curs, stored_events, positions)
        return positions

    def _copy(self, curs: Any, stored_events: Sequence[StoredEvent]) -> list[int]:
        """The rows through one binary COPY (an import's batch: a tenth of the client's
        work of the INSERT's arrays, and nothing pipelined), then their positions read
        back: under the table lock the rows past the largest position before are these."""
        from psycopg.sql import SQL, Identifier

        table = SQL("{0}.{1}").format(Identifier(self.datastore.schema), Identifier(self.events_table_name))
        curs.execute(SQL("SELECT MAX(notification_id) AS last FROM {0}").format(table))
        before = curs.fetchone()["last"] or 0
        copy_rows(
            curs, table, ("originator_id", "originator_version", "topic", "state"),
            (self.datastore.originator_id_type, "int8", "text", "bytea"),
            ((e.originator_id, e.originator_version, e.topic, e.state) for e in stored_events),
        )  # fmt: skip
        curs.execute(
            SQL("SELECT originator_id, originator_version, notification_id FROM {0} WHERE notification_id > %s"
                " ORDER BY notification_id").format(table), (before,),
        )  # fmt: skip
        rows = curs.fetchall()
        mine = [(e.originator_id, e.originator_version) for e in stored_events]
        if [(r["originator_id"], r["originator_version"]) for r in rows] != mine:
            raise ProgrammingError("the rows a COPY stored are not the events it was given, in their order")
        return [r["notification_id"] for r in rows]


def copy_rows(
    curs: Any, table: str | Composable, columns: Sequence[str], types: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """`rows` into `table` through one binary COPY on the caller's cursor, inside its
    transaction: each value in its type's binary form (`types`, PostgreSQL's names), so
    bytes and text go in as they are and nothing is escaped on the way. A row that breaks a
    constraint fails the whole COPY, as an INSERT of the same rows would."""
    from psycopg.sql import SQL

    into = SQL(table) if isinstance(table, str) else table
    names = SQL(", ".join(columns))
    with curs.copy(SQL("COPY {0} ({1}) FROM STDIN (FORMAT BINARY)").format(into, names)) as copy:
        copy.set_types(list(types))
        for row in rows:
            copy.write_row(row)


class PostgresTracking(_SerialDDL, PostgresTrackingRecorder):
    pass


def log_exists(settings: Mapping[str, str]) -> bool:
    """Whether the log's table is in the target's schema, asked on a connection of its
    own: opening the recorder would create it. True when the server cannot be asked, so
    that opening it says why."""
    import psycopg

    try:
        with psycopg.connect(
            host=settings["POSTGRES_HOST"], port=int(settings["POSTGRES_PORT"]), dbname=settings["POSTGRES_DBNAME"],
            user=settings["POSTGRES_USER"], password=settings["POSTGRES_PASSWORD"],
            connect_timeout=int(settings["POSTGRES_CONNECT_TIMEOUT"]),
        ) as conn:  # fmt: skip
            return log_table_in(conn, settings)
    except psycopg.Error:
        return True


def log_table_in(conn: Any, settings: Mapping[str, str]) -> bool:
    """Whether the log's table is in the target's schema, asked on `conn`."""
    schema = settings.get("POSTGRES_SCHEMA") or "public"
    table = f'"{schema}".timeline_events'  # the library names it after the application
    row = conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()
    return row is not None and row[0] is not None


# --- `log --follow`: woken by the writers' NOTIFY ------------------------------------------
# Every append sends `NOTIFY <channel>` inside its own transaction (`_notify_channel` in
# `insert_events` above, on the schema's channel), so PostgreSQL delivers it on commit and
# never for a rolled-back append.


def channel_name(schema: str, table: str) -> str:
    """The log's NOTIFY channel, one per schema: the library names it after the table
    alone, so every schema's log in a database would wake every schema's followers. A
    channel is an identifier (63 bytes at most); a longer name is hashed, not cut short."""
    name = f"{schema}_{table}".replace(".", "_")
    if len(name.encode()) <= 63:
        return name
    return f"{table.replace('.', '_')}_{hashlib.blake2b(schema.encode(), digest_size=8).hexdigest()}"


class Listener:
    """A connection of its own that LISTENs on the log's channel; `wait(seconds)` returns
    when an append commits, or after `seconds` at most. A failed connection turns it into a
    plain sleep until it can listen again, so a follower that polls after each wait loses
    nothing when notifications are missed, only latency."""

    def __init__(self, recorder: PostgresApplicationRecorder) -> None:
        self.recorder = recorder
        self.conn: Any = None

    def listen(self) -> None:
        import psycopg
        from psycopg.sql import SQL, Identifier

        # Not one of the pool's connections: the pool may hold only one, which the follower
        # needs for reading; and a listening connection must outlive any pool recycling.
        pool: Any = self.recorder.datastore.pool
        conn = psycopg.connect(pool.conninfo, **{**pool.kwargs, "autocommit": True})
        conn.execute(SQL("LISTEN {0}").format(Identifier(self.recorder.channel_name)))
        self.conn = conn

    def wait(self, seconds: float) -> None:
        import psycopg

        try:
            if self.conn is None:
                self.listen()
            # Then drain what else is queued: one read catches up on all of it. (Not
            # nested: the generator holds the connection's lock while it yields.)
            if list(self.conn.notifies(timeout=seconds, stop_after=1)):
                list(self.conn.notifies(timeout=0))
        except psycopg.Error:
            self.close()
            time.sleep(seconds)

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
            self.conn = None

"""One direct connection to a PostgreSQL server before the library's pool is made.

The pool retries a failed connection until its timeout and then says only "couldn't get
a connection after 5.00 sec". The server's first answer names the cause, at once: that
answer is turned here into one line that says what to do.
"""

from __future__ import annotations

import re
import time
from typing import Any

from timeline.config import Target
from timeline.errors import StoreUnavailable, first_line

# What a server says while it shuts down or starts up (a restart): tried again for up to
# RESTART_WAIT seconds with growing pauses.
TRANSIENT = ("the database system is shutting down", "the database system is starting up",
             "terminating connection due to administrator command")  # fmt: skip
RESTART_WAIT = 5.0


def probe(target: Target) -> None:
    import psycopg

    s = target.settings
    waited = 0.0
    while True:
        try:
            conn = psycopg.connect(
                host=s["POSTGRES_HOST"],
                port=int(s["POSTGRES_PORT"]),
                dbname=s["POSTGRES_DBNAME"],
                user=s["POSTGRES_USER"],
                password=s["POSTGRES_PASSWORD"],
                connect_timeout=int(s["POSTGRES_CONNECT_TIMEOUT"]),
            )
            break
        except psycopg.Error as e:
            # A server that is restarting says so: worth a few seconds' wait. Every other
            # refusal (no such database, bad password, nothing listening) is said at once.
            if not any(m in str(e) for m in TRANSIENT) or waited >= RESTART_WAIT:
                raise StoreUnavailable(f"cannot open database {target.display}: {cause(target, e)}") from None
            pause = min(0.1 * 2 ** int(waited), 1.0)  # 0.1 s, then growing to 1 s
            time.sleep(pause)
            waited += pause
    with conn:
        schema = s.get("POSTGRES_SCHEMA")
        if schema and not conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone():
            if not target.create:
                raise StoreUnavailable(f"no timeline database at {target.display} (schema {schema!r} does not exist)")
            _create_schema(conn, schema)
        elif not target.create:
            # As a SQLite command that only reads refuses a file that is not there: opening
            # the recorder here would make an empty log's tables in a schema that held none.
            from timeline.recorders.postgres import log_table_in

            if not log_table_in(conn, s):
                raise StoreUnavailable(
                    f"no timeline database at {target.display} (schema {schema or 'public'!r} holds no log)"
                )


def _create_schema(conn: Any, schema: str) -> None:
    """The library makes its tables in the schema but never the schema itself. Under the
    openers' DDL lock: two CREATE SCHEMA IF NOT EXISTS at once collide too."""
    from psycopg import sql

    from timeline.recorders.postgres import DDL_LOCK_KEY

    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK_KEY,))
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


def cause(target: Target, e: BaseException) -> str:
    s = target.settings
    text = str(e)
    server = f"{s['POSTGRES_HOST']}:{s['POSTGRES_PORT']}"
    if re.search(r'database "[^"]*" does not exist', text):
        name = s["POSTGRES_DBNAME"]
        return (
            f"database {name!r} does not exist on {server}; create it with "
            f"`createdb -h {s['POSTGRES_HOST']} -p {s['POSTGRES_PORT']} -U {s['POSTGRES_USER']} {name}`"
        )
    if "authentication failed" in text or re.search(r'role "[^"]*" does not exist', text):
        return f"authentication failed for user {s['POSTGRES_USER']!r} on {server}"
    if "Connection refused" in text:
        return f"connection refused by {server} (is PostgreSQL running there?)"
    if "failed to resolve host" in text or "could not translate host name" in text:
        return f"unknown host {s['POSTGRES_HOST']!r}"
    if "timeout expired" in text:
        return f"no answer from {server} within {s['POSTGRES_CONNECT_TIMEOUT']} s"
    # Whatever else the server says, its last line is the reason ("FATAL: ...").
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    last = lines[0] if lines else first_line(e)
    return re.sub(r"^connection failed: connection to server at [^:]*: ?", "", last)

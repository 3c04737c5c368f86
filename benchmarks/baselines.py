"""Baselines and helpers run as child processes by benchmarks/run.py, so each is timed (and
its peak RSS read) the same way as the `timeline` command it is compared with.

    python benchmarks/baselines.py raw-insert DB FILE      # raw sqlite3, one transaction
    python benchmarks/baselines.py read-decode DB          # library read + decode, no projection
    python benchmarks/baselines.py import-sync MODE DB FILE  # `timeline import` with PRAGMA synchronous=MODE
    python benchmarks/baselines.py hello PORT              # hello-world WSGI app on waitress
    python benchmarks/baselines.py static PORT FILE        # FILE's bytes from memory, on waitress
"""

from __future__ import annotations

import sqlite3
import sys


def raw_insert(db: str, path: str) -> None:
    """The same JSON payloads (one line = one event) into a table shaped like the library's
    stored_events (same CREATE TABLE), in one transaction, WAL like the library."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(
        "CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, topic TEXT,"
        " state BLOB, PRIMARY KEY (originator_id, originator_version))"  # the library's own table
    )
    topic = "events.development:Development.Reported"
    conn.execute("BEGIN")
    with open(path, "rb") as f:
        conn.executemany(
            "INSERT INTO stored_events (originator_id, originator_version, topic, state) VALUES (?, 1, ?, ?)",
            ((f"{i:032x}", topic, line.rstrip(b"\n")) for i, line in enumerate(f)),
        )
    conn.execute("COMMIT")
    conn.close()


def read_decode(db: str) -> None:
    """What any projection must at least do: read every notification (pages of 1,000) and
    decode it into a domain event."""
    from timeline import config
    from timeline.app import Timeline

    app = Timeline.open(config.resolve(db))
    recorder, mapper = app.recorder, app.mapper
    start, n = 1, 0
    while True:
        batch = recorder.select_notifications(start, 1000)
        for notification in batch:
            mapper.to_domain_event(notification)
        n += len(batch)
        if len(batch) < 1000:
            break
        start = batch[-1].id + 1
    app.close()
    print(n)


def import_sync(mode: str, db: str, path: str) -> None:
    """`timeline import` with every library connection set to PRAGMA synchronous=MODE,
    patched in this process only (the project keeps the library's FULL)."""
    from eventsourcing import sqlite as es_sqlite

    original = es_sqlite.SQLiteConnectionPool._create_connection

    def create(self):  # type: ignore[no-untyped-def]
        conn = original(self)
        conn._sqlite_conn.execute(f"PRAGMA synchronous={mode}")
        return conn

    es_sqlite.SQLiteConnectionPool._create_connection = create  # type: ignore[method-assign]
    from timeline.cli import main

    sys.argv = ["timeline", "--db", db, "import", path]
    main()


def hello(port: str) -> None:
    import waitress

    body = b"Hello, world!\n"

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    waitress.serve(app, host="127.0.0.1", port=int(port), _quiet=True)


def static(port: str, path: str) -> None:
    """The ceiling for serving one document: its bytes from memory, with the headers
    `serve` sends, no lookup and no validation; hello-world's rate is for a 14-byte body."""
    import waitress

    with open(path, "rb") as f:
        body = f.read()
    headers = [("Content-Type", "application/atom+xml"), ("Content-Length", str(len(body))), ("ETag", '"static"'),
               ("Last-Modified", "Sat, 06 Jul 2024 00:00:00 GMT"), ("Cache-Control", "no-cache")]  # fmt: skip

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        start_response("200 OK", headers)
        return [body]

    waitress.serve(app, host="127.0.0.1", port=int(port), _quiet=True)


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    {
        "raw-insert": raw_insert,
        "read-decode": read_decode,
        "import-sync": import_sync,
        "hello": hello,
        "static": static,
    }[cmd](*args)

"""Keeps the read models caught up with the log, and rebuilds them from position 0.

The SQLite recorder has no live subscriptions, so the views pull: notifications after the
tracked position, in pages; each page is applied and its tracking position recorded in one
transaction (the library's `Tracking`, `max_tracking_id`). PostgreSQL pulls the same way,
which keeps one code path; `log --follow` uses its LISTEN/NOTIFY subscription instead.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from typing import Any

from eventsourcing.persistence import IntegrityError, OperationalError, Tracking

from timeline.store import Sql
from timeline.views.writer import ViewWriter

PAGE = 1000
REBUILD_PAGE = 5000
CACHE_KIB = 65536
RETRIES = 10
# pg_advisory_xact_lock key that serialises catch-ups on one PostgreSQL database.
VIEWS_LOCK_KEY = int.from_bytes(b"tl-views", "big") & 0x7FFF_FFFF_FFFF_FFFF
Progress = Callable[[int], None]


def page_size() -> int:
    """Events per catch-up transaction: PAGE, or TIMELINE_VIEWS_PAGE (the fault tests use
    small pages to stop a catch-up between two of its transactions)."""
    text = os.environ.get("TIMELINE_VIEWS_PAGE", "")
    return int(text) if text.isdigit() and int(text) > 0 else PAGE


class Views:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.tracking = app.factory.tracking_recorder()
        self.sql = Sql.for_recorder(self.tracking)
        self.writer = ViewWriter(self.sql)
        with self.sql.transaction(commit=True) as c:
            if self.sql.postgres:
                # Concurrent CREATE TABLE IF NOT EXISTS of one table collide in the system
                # catalogue (a duplicate pg_type row): openers take turns, as the recorders do.
                from timeline.recorders.postgres import DDL_LOCK_KEY

                self.sql.execute(c, "SELECT pg_advisory_xact_lock(?)", [DDL_LOCK_KEY])
            self.writer.create_tables(c)

    @property
    def name(self) -> str:
        return str(self.app.name)

    def position(self) -> int:
        return self.tracking.max_tracking_id(self.name) or 0

    def catch_up(self, progress: Progress | None = None, page: int | None = None) -> int:
        """Apply every event after the tracked position; returns how many were applied.

        Each page is applied under the database's write lock, taken before the position is
        read: on SQLite a transaction that reads first cannot take the lock later once
        another writer has committed ("database is locked" at once, no waiting), and on
        PostgreSQL concurrent catch-ups would all apply the same page and all but one roll
        back. A page whose transaction fails on a lock or a race is tried again, a bounded
        number of times with backoff.
        """
        page = page or page_size()
        done = 0
        attempts = 0
        while True:
            start = self.position() + 1
            notifications = self.app.recorder.select_notifications(start, page)
            if not notifications:
                return done
            batch = [(n, self.app.mapper.to_domain_event(n)) for n in notifications]
            try:
                with self.sql.transaction(commit=True) as c:
                    self._lock(c)
                    self._tune(c)
                    # Another process may have caught up meanwhile: then apply nothing.
                    if (self.tracking._max_tracking_id(self.name, c) or 0) != start - 1:
                        continue
                    self.writer.apply(c, batch)
                    self.tracking._insert_tracking(c, Tracking(self.name, notifications[-1].id))
            except (IntegrityError, OperationalError) as e:
                if "locked" in str(e):
                    raise  # SQLite already waited its whole lock timeout for the lock
                attempts += 1
                if attempts > RETRIES:
                    raise
                time.sleep(min(0.05 * 2**attempts, 1.0) * random.uniform(0.5, 1.0))
                continue
            done += len(batch)
            if progress:
                progress(len(batch))

    def _lock(self, c: Any) -> None:
        if self.sql.postgres:
            self.sql.execute(c, "SELECT pg_advisory_xact_lock(?)", [VIEWS_LOCK_KEY])
        else:
            # A write as the transaction's first statement: SQLite takes its write lock
            # now, waiting for it (busy timeout) as it cannot once a read has begun.
            table = getattr(self.tracking, "tracking_table_name", "tracking")
            self.sql.execute(c, f"UPDATE {table} SET notification_id = notification_id WHERE application_name = ?",
                             [self.name])  # fmt: skip

    def _tune(self, c: Any) -> None:
        if not self.sql.postgres:
            # SQLite's default page cache is 2 MB; the views' random-keyed B-trees outgrow
            # it early in a long catch-up, and every page miss is a read. 64 MB, per
            # connection, keeps them in memory well past a million events.
            self.sql.execute(c, f"PRAGMA cache_size = -{CACHE_KIB}")
            # Debian's SQLite zeroes every deleted or overwritten byte (SECURE_DELETE):
            # each upsert of a document, and a rebuild's DROP, wrote their old bytes
            # again. The views are derived from a log that keeps everything anyway.
            self.sql.execute(c, "PRAGMA secure_delete = OFF")

    def rebuild(self, progress: Progress | None = None) -> int:
        """Drop the views and replay the whole log into them, once the whole log is found
        to match its tree: views are never rebuilt from a tampered log."""
        from timeline.audit.verify import LogAltered, verify

        verdict = verify(self.app, full=True)
        if verdict.problem:
            raise LogAltered(
                f"the views were not rebuilt: the log does not match its tree: {verdict.problem.message}"
                " (`timeline verify` lists every problem)"
            )
        table = getattr(self.tracking, "tracking_table_name", "tracking")
        if self.sql.postgres and self.sql.schema:
            table = f'"{self.sql.schema}".{table}'
        with self.sql.transaction(commit=True) as c:
            self._tune(c)
            self.writer.drop_tables(c)
            self.sql.execute(c, f"DELETE FROM {table} WHERE application_name = ?", [self.name])
            self.writer.create_tables(c, indexes=False)
        try:
            # Larger pages: fewer commits (each one syncs to disk) on a long replay.
            return self.catch_up(progress, page=REBUILD_PAGE)
        finally:
            with self.sql.transaction(commit=True) as c:
                self.writer.create_indexes(c)

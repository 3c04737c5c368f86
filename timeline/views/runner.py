"""Keeps the read models caught up with the log, and rebuilds them from position 0.

The SQLite recorder has no live subscriptions, so the views pull: notifications after the
tracked position, in pages; each page is applied and its tracking position recorded in one
transaction (the library's `Tracking`, `max_tracking_id`). PostgreSQL pulls the same way,
which keeps one code path; `log --follow` uses its LISTEN/NOTIFY subscription instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventsourcing.persistence import IntegrityError, OperationalError, Tracking

from timeline.store import Sql
from timeline.views.writer import ViewWriter

PAGE = 1000
REBUILD_PAGE = 5000
CACHE_KIB = 65536
Progress = Callable[[int], None]


class Views:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.tracking = app.factory.tracking_recorder()
        self.sql = Sql.for_recorder(self.tracking)
        self.writer = ViewWriter(self.sql)
        with self.sql.transaction(commit=True) as c:
            self.writer.create_tables(c)

    @property
    def name(self) -> str:
        return str(self.app.name)

    def position(self) -> int:
        return self.tracking.max_tracking_id(self.name) or 0

    def catch_up(self, progress: Progress | None = None, page: int = PAGE) -> int:
        """Apply every event after the tracked position; returns how many were applied."""
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
                    self._tune(c)
                    # Another process may have caught up meanwhile: then apply nothing.
                    if (self.tracking._max_tracking_id(self.name, c) or 0) != start - 1:
                        continue
                    self.writer.apply(c, batch)
                    self.tracking._insert_tracking(c, Tracking(self.name, notifications[-1].id))
            except (IntegrityError, OperationalError):
                # A concurrent catch-up won the race (or held the lock): read again.
                attempts += 1
                if attempts > 20:
                    raise
                continue
            done += len(batch)
            if progress:
                progress(len(batch))

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

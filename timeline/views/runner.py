"""Keeps the read models caught up with the log, and rebuilds them from position 0.

The SQLite recorder has no live subscriptions, so the views pull: notifications after the
tracked position, in pages; each page is applied and its tracking position recorded in one
transaction (the library's `Tracking`, `max_tracking_id`). PostgreSQL pulls the same way,
which keeps one code path; `log --follow` uses its LISTEN/NOTIFY subscription instead.
"""

from __future__ import annotations

import gc
import os
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from eventsourcing.persistence import IntegrityError, Notification, OperationalError, Tracking

from timeline.store import BULK_CACHE_KIB as CACHE_KIB
from timeline.store import Sql
from timeline.views.proven import first_unproven
from timeline.views.tables import SCHEMA_VERSION
from timeline.views.tracking import position_in, record_in
from timeline.views.writer import ViewWriter

PAGE = 1000
REBUILD_PAGE = 5000
# A rebuild's transactions: pages until one holds REBUILD_COMMIT events or has held the
# write lock for REBUILD_HOLD seconds. Each commit of a page rewrote every page of the
# views' scattered B-trees it touched (memberships, names, the ids' index), in the WAL and
# again at the checkpoint: 10.6 KB written per event at 100k with a commit per page, 4.3 KB
# at 50,000 events a commit. The time bound (at most half of TIMELINE_LOCK_TIMEOUT) keeps a
# writer waiting for the lock (an `add` during the rebuild) inside its lock timeout. Pages stay REBUILD_PAGE long,
# so memory does not grow with the transaction.
REBUILD_COMMIT = 100_000
REBUILD_HOLD = 5.0
RETRIES = 10
# pg_advisory_xact_lock key that serialises catch-ups on one PostgreSQL database.
VIEWS_LOCK_KEY = int.from_bytes(b"tl-views", "big") & 0x7FFF_FFFF_FFFF_FFFF
Progress = Callable[[int], None]
Notice = Callable[[str, int], AbstractContextManager[Progress]]


def page_size() -> int:
    """Events per catch-up transaction: PAGE, or TIMELINE_VIEWS_PAGE (the fault tests use
    small pages to stop a catch-up between two of its transactions)."""
    text = os.environ.get("TIMELINE_VIEWS_PAGE", "")
    return int(text) if text.isdigit() and int(text) > 0 else PAGE


class Views:
    # Told when views made by an older schema are rebuilt: (note, events) -> progress.
    # The default writes the note on stderr, and a progress bar when stderr is a terminal.
    notice: Notice | None = None

    def __init__(self, app: Any) -> None:
        self.app = app
        self.tracking = app.factory.tracking_recorder()
        self.sql = Sql.for_recorder(self.tracking)
        self.writer = ViewWriter(self.sql)
        # The schema version the views were made with, when it is not this one's.
        self.stale: int | None = None
        # Looked at first without the write lock: views already made, as nearly always,
        # are opened without waiting for a writer.
        with self.sql.transaction(commit=False) as c:
            if self.writer.complete(c):
                return
        with self.sql.transaction(commit=True) as c:
            self._lock_ddl(c)
            made = self.writer.schema_version(c)
            if made is None or made == SCHEMA_VERSION:
                # New views, or views of this schema (an index a killed rebuild left
                # unmade is made now).
                self.writer.create_tables(c)
            else:
                self.stale = made  # old tables stay as they are until the rebuild

    @property
    def name(self) -> str:
        return str(self.app.name)

    def position(self) -> int:
        return self.tracking.max_tracking_id(self.name) or 0

    def catch_up(
        self, progress: Progress | None = None, page: int | None = None, per_commit: int = 0, hold: float = 0.0
    ) -> int:
        """Apply every event after the tracked position; returns how many were applied.

        Views made by an older version of their schema are rebuilt first (`SCHEMA_VERSION`),
        with one note on stderr. Only rows the log's tree proves are applied
        (`timeline.views.proven`): at the first one it does not, the views stop just before
        it and `LogAltered` names its position and why.

        Events are read `page` at a time; a transaction applies pages until it holds
        `per_commit` events (one page by default) or has been open `hold` seconds, and
        records the position of the last. Each transaction runs under the database's write
        lock, taken before the position is read: on SQLite a transaction that reads first
        cannot take the lock later once another writer has committed (`Sql` begins every
        write transaction with it), and on PostgreSQL concurrent catch-ups would all apply
        the same page and all but one roll back. A transaction that fails on a lock or a
        race is tried again, a bounded number of times with backoff.
        """
        if self.stale is not None:
            return self._rebuild_stale(progress)
        page = page or page_size()
        done = 0
        attempts = 0
        while True:
            start = self.position() + 1
            # The first page is read and proven before the write lock is taken (so the lock is
            # held no longer than it must be); any further page under it.
            with _without_gc():
                first = self.app.recorder.select_notifications(start, page)
                if not first:
                    return done
                with self.sql.transaction(commit=False) as c:
                    proof = first_unproven(self.sql, c, first)
            bounds = (page, max(per_commit, page), hold)
            try:
                result = self._commit(start, first, proof, bounds)
                if result is None:
                    continue  # another process caught up meanwhile
                applied, unproven, last = result
            except (IntegrityError, OperationalError) as e:
                if "locked" in str(e):
                    raise  # SQLite already waited its whole lock timeout for the lock
                attempts += 1
                if attempts > RETRIES:
                    raise
                time.sleep(min(0.05 * 2**attempts, 1.0) * random.uniform(0.5, 1.0))
                continue
            done += applied
            if progress and applied:
                progress(applied)
            if unproven is not None:
                from timeline.audit.verify import LogAltered

                where = f"stop at #{last}" if last else "stay empty"
                raise LogAltered(f"the views {where}: {unproven} (`timeline verify` lists every problem)")

    def _commit(
        self, start: int, first: Sequence[Notification], proof: tuple[int, str] | None, bounds: tuple[int, int, float]
    ) -> tuple[int, str | None, int] | None:
        """One write transaction from `start` (see `_apply_pages`); None if the tracked
        position moved before the lock was taken. A first page proven nowhere takes no lock."""
        if proof is not None and proof[0] == 0:
            return 0, proof[1], start - 1
        with self.sql.transaction(commit=True) as c:
            self._lock(c)
            self._tune(c)
            if position_in(self.tracking, c, self.name) != start - 1:
                return None
            page, per_commit, hold = bounds
            applied, unproven, last = self._apply_pages(
                c, start, first, proof, (page, per_commit, time.monotonic() + hold)
            )
            if applied:
                self.record(c, Tracking(self.name, last))
            return applied, unproven, last

    def _apply_pages(
        self,
        c: Any,
        start: int,
        notifications: Sequence[Notification],
        proof: tuple[int, str] | None,
        bounds: tuple[int, int, float],
    ) -> tuple[int, str | None, int]:
        """Apply `notifications` (read from `start`; `proof` is their `first_unproven`),
        then further pages while the transaction holds fewer than `per_commit` events and
        `deadline` has not passed, `bounds` being (page, per_commit, deadline): (events
        applied, why the views stop if a row is not proven, the position they are at)."""
        page, per_commit, deadline = bounds
        applied, last, unproven = 0, start - 1, proof
        while True:
            full = len(notifications) == page
            if unproven is not None:
                notifications = notifications[: unproven[0]]
            if notifications:
                with _without_gc():
                    self.writer.apply(c, [(n, self.app.mapper.to_domain_event(n)) for n in notifications])
                applied += len(notifications)
                last = notifications[-1].id
            if unproven is not None:
                return applied, unproven[1], last
            if not full or applied + page > per_commit or time.monotonic() >= deadline:
                return applied, None, last
            with _without_gc():  # reading and proving a page make as many objects as applying it
                notifications = self.app.recorder.select_notifications(last + 1, page)
                if not notifications:
                    return applied, None, last
                unproven = first_unproven(self.sql, c, notifications)

    def record(self, c: Any, tracking: Tracking) -> None:
        """Record the views' position on the caller's cursor, with the page it ends."""
        record_in(self.tracking, c, tracking)

    def _lock(self, c: Any) -> None:
        # On SQLite a write transaction holds the write lock from its BEGIN (`Sql`).
        if self.sql.postgres:
            self.sql.execute(c, "SELECT pg_advisory_xact_lock(?)", [VIEWS_LOCK_KEY])

    def _lock_ddl(self, c: Any) -> None:
        if self.sql.postgres:
            # Concurrent CREATE TABLE IF NOT EXISTS of one table collide in the system
            # catalogue (a duplicate pg_type row): openers take turns, as the recorders do.
            from timeline.recorders.postgres import DDL_LOCK_KEY

            self.sql.execute(c, "SELECT pg_advisory_xact_lock(?)", [DDL_LOCK_KEY])

    def _tune(self, c: Any) -> None:
        if self.sql.postgres:
            # The library ends a transaction left idle for 5 s (its
            # POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT). A views transaction is idle
            # while it decodes and projects a page between its statements, which on a busy
            # machine took longer: this one transaction may be idle up to two minutes.
            self.sql.execute(c, "SET LOCAL idle_in_transaction_session_timeout = '120s'")
        else:
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
        self._check_log()
        self.reset()
        return self._replay(progress)

    def _check_log(self) -> None:
        from timeline.audit.verify import LogAltered, verify

        with _without_gc():  # as for a page: it makes many objects and no cycles
            verdict = verify(self.app, full=True)
        if verdict.problem:
            raise LogAltered(
                f"the views were not rebuilt: the log does not match its tree: {verdict.problem.message}"
                " (`timeline verify` lists every problem)"
            )

    def reset(self, *, only_stale: bool = False) -> bool:
        """Drop every view and make them empty, of this schema, at position 0; unindexed
        until `_replay` ends. With `only_stale`, only if they are still of an older schema
        once the catch-up lock is held: of two first commands, one rebuilds, the other
        then catches up after it. Returns whether it dropped them."""
        table = getattr(self.tracking, "tracking_table_name", "tracking")
        if self.sql.postgres and self.sql.schema:
            table = f'"{self.sql.schema}".{table}'
        with self.sql.transaction(commit=True) as c:
            self._lock(c)
            if only_stale and self.writer.schema_version(c) == SCHEMA_VERSION:
                self.stale = None
                return False
            self._lock_ddl(c)  # after the views' lock, as no one takes them the other way round
            self._tune(c)
            self.writer.drop_tables(c)
            self.sql.execute(c, f"DELETE FROM {table} WHERE application_name = ?", [self.name])
            self.writer.create_tables(c, indexes=False)
        self.stale = None
        return True

    def _replay(self, progress: Progress | None) -> int:
        try:
            # Larger pages: fewer commits (each one syncs to disk) on a long replay. Held for
            # at most half a waiting writer's lock timeout; and one page a transaction where
            # the log's only connection is the one the views' transaction holds (in memory).
            from timeline.config import lock_timeout

            hold = min(REBUILD_HOLD, int(lock_timeout()) / 2)
            per_commit = 0 if self._one_connection() else REBUILD_COMMIT
            return self.catch_up(progress, page=REBUILD_PAGE, per_commit=per_commit, hold=hold)
        finally:
            with self.sql.transaction(commit=True) as c:
                self.writer.create_indexes(c)

    def _one_connection(self) -> bool:
        """An in-memory SQLite log has a single connection: while the views' transaction
        holds it, the log cannot be read."""
        pool = getattr(getattr(self.app.recorder, "datastore", None), "pool", None)
        return bool(getattr(pool, "is_sqlite_memory_mode", False))

    def _rebuild_stale(self, progress: Progress | None) -> int:
        """Views of an older schema: rebuilt from the log, once, saying so."""
        made = self.stale
        self._check_log()
        if not self.reset(only_stale=True):
            return self.catch_up(progress)
        total = self.app.event_count()
        note = (
            f"the views were made by an older version (schema {made}, now {SCHEMA_VERSION}):"
            f" rebuilding them from the log's {total:,} events"
        )
        with (self.notice or stderr_notice)(note, total) as tick:
            return self._replay(_both(progress, tick))


@contextmanager
def _without_gc() -> Iterator[None]:
    """No cyclic garbage collection while a page is read, proven or applied: a page makes
    and keeps hundreds of thousands of objects (events, documents, rows), so the collector
    ran ~65 times a page to find nothing (no cycles are made: 0 collected in the oldest
    generation over a 10k rebuild), a quarter of the rebuild's CPU. Collection resumes
    between pages."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _both(*progress: Progress | None) -> Progress:
    def tick(n: int) -> None:
        for p in progress:
            if p:
                p(n)

    return tick


@contextmanager
def stderr_notice(note: str, total: int) -> Iterator[Progress]:
    """The note on stderr; a progress bar too, when stderr is a terminal."""
    import click

    click.echo(f"Note: {note}", err=True)
    if not sys.stderr.isatty():
        yield lambda n: None
        return
    with click.progressbar(length=total, label="Rebuilding the views", file=sys.stderr) as bar:
        yield bar.update

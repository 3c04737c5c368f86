"""The SQLite recorder: the library's, with `LogHooks` inside its transactions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteTrackingRecorder

from timeline.recorders import LogHooks


class SQLiteRecorder(LogHooks, SQLiteApplicationRecorder):
    def _create_table(self, c: SQLiteCursor) -> None:
        super()._create_table(c)
        self.create_tree(c)

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._insert_events(c, stored_events, **kwargs)
        if stored_events:
            assert positions is not None
            self.after_insert(c, stored_events, positions)
        return positions


class SQLiteTracking(SQLiteTrackingRecorder):
    """The library's tracking recorder, safe when several processes open a new database.

    Its `create_table` looks whether the table exists, then creates it and inserts its
    migration row; a second opener that looked before the first committed inserts that
    row again and fails ("Failed to record tracking for __migration__ 1"). Looking again
    then finds the table made, and creates nothing.
    """

    def create_table(self) -> None:
        try:
            super().create_table()
        except IntegrityError:
            self.tracking_table_exists = False
            super().create_table()

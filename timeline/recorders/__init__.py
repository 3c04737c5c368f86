"""The library's recorders, with what the timeline needs inside their transactions.

Chosen through the persistence settings (`APPLICATION_RECORDER_TOPIC`,
`TRACKING_RECORDER_TOPIC`, see `timeline.config`), so every append, by `add`, `correct` or
`import`, goes through them.

- `after_insert(cursor, stored_events, positions)` runs inside the append's own
  transaction, after the rows are in and their positions known, before the commit: what it
  writes commits or rolls back with the events. It is where the log's Merkle tree grows
  (`timeline.proof.tree`).
- `create_tree(cursor)` runs in the transaction that creates the recorder's tables: it
  creates the tree's tables and, the first time, migrates a log chained the old way
  (`timeline.proof.migrate`); what that says for the user is kept in `notes`.
- On PostgreSQL, opening a database runs DDL (`CREATE TABLE IF NOT EXISTS`, `CREATE OR
  REPLACE FUNCTION`, ...) every time. Two processes doing it at once collide on the system
  catalogue ("tuple concurrently updated", or a duplicate type): the DDL here runs under a
  session advisory lock, so openers take turns, and skips nothing the library would do.
- On PostgreSQL the library pipelines the insert of all the events of one call as one
  array parameter and syncs after it; with 10,000 or more events the client and the server
  can each wait for the other (the client in `Pipeline.sync`, the server in ClientRead; see
  psycopg issue 685). Here the insert runs in an ordinary transaction: below 1,000 events
  as one INSERT, from there (an import's batch) as one binary COPY, and the tree's rows
  likewise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent

from timeline.proof.tree import TreeSql


class LogHooks:
    """What runs inside the recorder's transactions: the log's Merkle tree."""

    _tree: TreeSql | None = None

    @property
    def notes(self) -> list[str]:
        """What opening the log did that the user should hear of (a migration)."""
        notes: list[str] = self.__dict__.setdefault("_notes", [])
        return notes

    @property
    def tree_sql(self) -> TreeSql:
        if self._tree is None:
            self._tree = TreeSql.for_recorder(self)
        return self._tree

    def create_tree(self, cursor: Any) -> None:
        tree = self.tree_sql
        if tree.exists(cursor):
            return  # DDL on tables that exist still costs SQLite a write transaction
        from timeline.proof.migrate import migrate

        for statement in tree.create_statements():
            tree.sql.execute(cursor, statement)
        note = migrate(cursor, tree)
        if note:
            self.notes.append(note)

    def after_insert(self, cursor: Any, stored_events: Sequence[StoredEvent], positions: Sequence[int]) -> None:
        self.tree_sql.append(cursor, stored_events, positions)

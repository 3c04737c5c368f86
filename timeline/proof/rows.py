"""The stored log's rows exactly as the database holds them, for checking them.

Not through the recorder: the library converts as it reads (an originator id that is not
a UUID raises), and a check must see whatever was written behind its back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from timeline.proof.tree import TreeSql
from timeline.store import Cursor


class Row(NamedTuple):  # a tuple: a frozen dataclass cost a microsecond an event to make
    position: int
    # As the database returns them: any type at all where a row was written behind the
    # recorder's back (`leaf.stored_leaf` says what is wrong with it).
    originator_id: object
    version: object
    topic: object
    state: object


def iter_rows(c: Cursor, tree: TreeSql, after: int | None = None, page: int = 5000) -> Iterator[Row]:
    """Rows with a position above `after` (all of them by default), in position order."""
    col = tree.position_column
    statement = (
        f"SELECT {col} AS position, originator_id, originator_version, topic, state FROM {tree.events}"
        f" WHERE {col} > ? ORDER BY {col} LIMIT ?"
    )
    first = f"SELECT {col} AS position, originator_id, originator_version, topic, state FROM {tree.events}"
    while True:
        if after is None:
            rows = tree.sql.rows(c, f"{first} ORDER BY {col} LIMIT ?", [page])
        else:
            rows = tree.sql.rows(c, statement, [after, page])
        # The columns in the statement's order: a row's values (PostgreSQL's rows are
        # dicts), not five look-ups by name each.
        values = (r.values() for r in rows) if rows and isinstance(rows[0], dict) else rows
        for position, originator_id, version, topic, state in values:
            yield Row(int(position), originator_id, version, topic, state)
        if len(rows) < page:
            return
        after = int(rows[-1]["position"])


def count_rows(c: Cursor, tree: TreeSql) -> int:
    return int(tree.sql.scalar(c, f"SELECT COUNT(*) FROM {tree.events}") or 0)

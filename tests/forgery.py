"""Rewrites of the stored log behind the application's back.

`rewrite_with_forged_tree` covers its tracks: an edited row, and the Merkle tree rebuilt
from the edited rows so that the log and its tree agree again (`verify` cannot tell). Only
a checkpoint kept earlier, by a subscriber or a witness, catches it. `edit_row` and
`insert_row_without_leaf` leave the tree as it was, so the tree shows them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from timeline.proof import merkle
from timeline.proof.leaf import leaf_data
from timeline.proof.rows import iter_rows
from timeline.proof.tree import TreeSql


def rewrite_with_forged_tree(app: Any, position: int, old: bytes, new: bytes) -> None:
    edit_row(app, position, old, new)
    store = TreeSql.for_recorder(app.recorder)
    sql = store.sql
    with sql.transaction(commit=True) as c:
        for table in (store.leaves, store.nodes, store.verified):
            sql.execute(c, f"DELETE FROM {table}")
        rows = list(iter_rows(c, store))
        hashes = [
            merkle.leaf_hash(
                leaf_data(r.position, r.originator_id if isinstance(r.originator_id, UUID) else UUID(hex=r.originator_id),
                          r.version, r.topic, bytes(r.state))
            )
            for r in rows
        ]  # fmt: skip
        store.write(c, 0, [r.position for r in rows], hashes)


def insert_row_without_leaf(app: Any, copy_of: int) -> int:
    """A copy of the row at `copy_of` with a new version, put straight into the events
    table at the end of the log: no append wrote it, so it has no tree leaf. Its position."""
    store = TreeSql.for_recorder(app.recorder)
    sql, col = store.sql, store.position_column
    with sql.transaction(commit=True) as c:
        sql.execute(
            c,
            f"INSERT INTO {store.events} (originator_id, originator_version, topic, state)"
            f" SELECT originator_id, originator_version + 100, topic, state FROM {store.events} WHERE {col} = ?",
            [copy_of],
        )
        return int(sql.scalar(c, f"SELECT MAX({col}) FROM {store.events}"))


def edit_row(app: Any, position: int, old: bytes, new: bytes) -> None:
    """The stored event at `position` edited in place; its tree leaf left as it was."""
    store = TreeSql.for_recorder(app.recorder)
    sql, col = store.sql, store.position_column
    with sql.transaction(commit=True) as c:
        state = bytes(sql.scalar(c, f"SELECT state FROM {store.events} WHERE {col} = ?", [position]))
        assert old in state, f"#{position} holds no {old!r}"
        sql.execute(c, f"UPDATE {store.events} SET state = ? WHERE {col} = ?", [state.replace(old, new), position])

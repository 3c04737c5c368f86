"""What a catch-up may project: only rows the log's Merkle tree proves.

Every append stores one leaf per event inside its own transaction (`timeline.proof.tree`),
so a row with no leaf, or one that differs from its leaf, was put there behind the log's
back. The views stop just before the first such row and say where and why, as `verify`
does: they never show what the log cannot prove. One leaf read per event of the page
(by position, the leaves' unique index) and one SHA-256 of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import Notification

from timeline.proof import merkle
from timeline.proof.leaf import stored_leaf
from timeline.proof.tree import LEAVES
from timeline.store import Sql


def first_unproven(sql: Sql, c: Any, page: Sequence[Notification]) -> tuple[int, str] | None:
    """(index in `page`, reason) of the first row its leaf does not prove, else None."""
    if not page:
        return None
    rows = sql.rows(
        c,
        f"SELECT position, hash FROM {sql.table(LEAVES)} WHERE position >= ? AND position <= ? ORDER BY position",
        [page[0].id, page[-1].id],
    )
    leaves = [(int(r["position"]), bytes(r["hash"])) for r in rows]
    # Row i must have leaf i of the range: the walk stops at the first that does not.
    for i, n in enumerate(page):
        if i < len(leaves) and leaves[i][0] < n.id:
            p = leaves[i][0]
            return i, f"#{p} was deleted: the log's tree has its leaf, the log has no row there"
        if i == len(leaves) or leaves[i][0] != n.id:
            return i, f"#{n.id} is not in the log's tree: no append wrote it (a row put in behind the log's back)"
        data = stored_leaf(n.id, n.originator_id, n.originator_version, n.topic, n.state)
        if isinstance(data, str):
            return i, f"#{n.id} was altered: {data}"
        if merkle.leaf_hash(data) != leaves[i][1]:
            return i, f"#{n.id} was altered: the stored event differs from the one in the log's tree"
    return None

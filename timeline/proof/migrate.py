"""Moving a log chained the old way onto its Merkle tree, once, when it is first opened.

Before the tree, the views kept a SHA-256 hash chain (`timeline_chain`: position, hash),
extended when they caught up with the log. A database made then has events but no tree.
In the transaction that creates the tree's tables, the old chain is checked against every
row it linked (refused, naming the first bad position, when it does not match: nothing is
created), then the tree is built over the whole log. Rows after the chain's last link (the
old design linked them at the next read) are taken as stored; the note says so.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from timeline.proof import merkle
from timeline.proof.leaf import stored_leaf
from timeline.proof.rows import iter_rows
from timeline.proof.tree import TreeError, TreeSql
from timeline.store import Cursor

OLD_CHAIN = "timeline_chain"
GENESIS = bytes(32)
BATCH = 20000


class MigrationRefused(TreeError):
    """The old chain does not match the log: the tree is not built over it."""


def old_link(previous: bytes, data: bytes) -> bytes:
    """The old chain's link: SHA-256(previous || position || version || id || topic || state),
    packed as the leaf data packs them (`leaf.leaf_data`), so it is SHA-256(previous || data)."""
    return hashlib.sha256(previous + data).digest()


def migrate(c: Cursor, tree: TreeSql) -> str | None:
    """Build the tree over a log that has none; the note for the user, or None for an empty log."""
    total = int(tree.sql.scalar(c, f"SELECT COUNT(*) FROM {tree.events}") or 0)
    if total == 0:
        return None
    links = _links(c, tree) if _has_chain(c, tree) else iter(())
    link = next(links, None)
    previous = GENESIS
    linked = 0
    positions: list[int] = []
    hashes: list[bytes] = []
    size = last = 0
    for row in iter_rows(c, tree):
        last = row.position
        data = stored_leaf(row.position, row.originator_id, row.version, row.topic, row.state)
        if isinstance(data, str):
            raise _refused(row.position, f"it cannot be a stored event: {data}")
        if link is not None:
            if link[0] < row.position:
                raise _refused(link[0], "it was deleted: the old chain links it, the log has no row there")
            if link[0] > row.position:
                raise _refused(row.position, "it was inserted: the old chain never linked it")
            previous = old_link(previous, data)
            if previous.hex() != link[1]:
                raise _refused(row.position, "it was altered: it does not match its link")
            linked = row.position
            link = next(links, None)
        positions.append(row.position)
        hashes.append(merkle.leaf_hash(data))
        if len(hashes) >= BATCH:
            tree.write(c, size, positions, hashes)
            size += len(hashes)
            positions, hashes = [], []
    if link is not None:
        raise _refused(link[0], "it was deleted: the old chain links it, the log has no row there")
    tree.write(c, size, positions, hashes)
    size += len(hashes)
    note = f"the log's {size} events now have a Merkle tree (RFC 9162), built once in place of the old hash chain"
    if linked == 0:
        return note + "; there was no old chain to check them against"
    note += f", which matched every event it linked (#1..#{linked})"
    if linked < last:
        note += f"; the events after #{linked} had no link yet and were taken as stored"
    return note


def _refused(position: int, why: str) -> MigrationRefused:
    return MigrationRefused(
        f"the log does not match its old hash chain at #{position} ({why}); it was not moved to a Merkle tree:"
        " restore the log from a backup"
    )


def _has_chain(c: Cursor, tree: TreeSql) -> bool:
    if tree.postgres:
        return tree.sql.scalar(c, "SELECT to_regclass(?) IS NOT NULL", [OLD_CHAIN]) is True
    return bool(tree.sql.scalar(c, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", [OLD_CHAIN]))


def _links(c: Cursor, tree: TreeSql, page: int = 5000) -> Iterator[tuple[int, str]]:
    after = -(1 << 62)
    while True:
        rows = tree.sql.rows(
            c, f"SELECT position, hash FROM {OLD_CHAIN} WHERE position > ? ORDER BY position LIMIT ?", [after, page]
        )
        for r in rows:
            yield int(r["position"]), str(r["hash"])
        if len(rows) < page:
            return
        after = int(rows[-1]["position"])

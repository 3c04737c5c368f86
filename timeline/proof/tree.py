"""The log's Merkle tree (RFC 9162), stored beside the log and extended inside each append.

Tables, in the log's own database (schema-qualified on PostgreSQL), created with the
recorder's tables:

    timeline_tree_leaves    (idx, position, hash)   one leaf per stored event, in log order:
                            idx counts from 0; position is the event's log position (the
                            same as idx + 1 unless PostgreSQL skipped a number, which a
                            rolled-back insert does); hash is SHA-256(0x00 || leaf data)
                            (`timeline.proof.leaf`).
    timeline_tree_nodes     (level, idx, hash)      every perfect subtree above the leaves:
                            node (L, i) is MTH of leaves [i * 2^L, (i + 1) * 2^L).
    timeline_tree_verified  (size, root, verified)  checkpoints `verify` found to match.

Appending leaf i stores it, then combines while i is odd: with the left sibling on the
frontier (the perfect subtrees of the tree before it), one node per level. So a tree of
n leaves keeps n - popcount(n) nodes, an append of k events reads O(log n) nodes and
writes about 2k rows, and the root of any size or any inclusion or consistency proof is
made of O(log n) stored nodes (`timeline.proof.ranges`), never by rehashing the log.

Concurrent writers cannot interleave: on SQLite a write transaction holds the database's
write lock from the events' insert on; on PostgreSQL the recorder holds the library's
EXCLUSIVE lock on the events table for the whole insert.

`Tree(app)` (or `Tree(recorder)`) reads it; no read extends or recomputes it.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, StoredEvent

from timeline.errors import TimelineError
from timeline.proof import merkle, ranges
from timeline.proof.leaf import leaf_data
from timeline.proof.ranges import Node
from timeline.store import Cursor, Sql, in_parts

if TYPE_CHECKING:
    from timeline.app import Timeline

LEAVES = "timeline_tree_leaves"
NODES = "timeline_tree_nodes"
VERIFIED = "timeline_tree_verified"
TABLES = (LEAVES, NODES, VERIFIED)


class TreeError(TimelineError):
    """The tree cannot answer (a size beyond it, a node missing) or cannot be extended."""


@dataclass(frozen=True)
class Head:
    """The tree over the first `size` events; `position` is the last one's log position."""

    size: int
    position: int
    root: bytes

    def as_dict(self) -> dict[str, Any]:
        return {"size": self.size, "position": self.position, "hash": self.root.hex()}


class TreeSql:
    """The tree's SQL on one back end, run on a cursor the caller's transaction owns."""

    def __init__(self, sql: Sql, events_table: str) -> None:
        self.sql = sql
        self.postgres = sql.postgres
        self.leaves = sql.table(LEAVES)
        self.nodes = sql.table(NODES)
        self.verified = sql.table(VERIFIED)
        self.events = sql.table(events_table)
        self.position_column = "notification_id" if sql.postgres else "rowid"

    @classmethod
    def for_recorder(cls, recorder: Any) -> TreeSql:
        # Any: the library's SQLite and PostgreSQL recorders share no base that names
        # `events_table_name`, and the recorders' mixin (`LogHooks`) calls this with itself.
        return cls(Sql.for_recorder(recorder), recorder.events_table_name)

    def create_statements(self) -> list[str]:
        big, blob = ("BIGINT", "BYTEA") if self.postgres else ("INTEGER", "BLOB")
        rowid = "" if self.postgres else " WITHOUT ROWID"
        return [
            f"CREATE TABLE IF NOT EXISTS {self.leaves} ("
            f" idx {big} PRIMARY KEY, position {big} NOT NULL UNIQUE, hash {blob} NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.nodes} ("
            f" level INTEGER NOT NULL, idx {big} NOT NULL, hash {blob} NOT NULL, PRIMARY KEY (level, idx)){rowid}",
            f"CREATE TABLE IF NOT EXISTS {self.verified} ("
            f" size {big} PRIMARY KEY, root {blob} NOT NULL, verified TEXT NOT NULL)",
        ]

    def exists(self, c: Cursor) -> bool:
        if self.postgres:
            return self.sql.scalar(c, "SELECT to_regclass(?) IS NOT NULL", [self.leaves]) is True
        return bool(
            self.sql.scalar(c, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", [LEAVES])
        )

    # --- reading -----------------------------------------------------------------------

    def last(self, c: Cursor) -> tuple[int, int]:
        """(size, last leaf's position); (0, 0) for an empty tree."""
        rows = self.sql.rows(c, f"SELECT idx, position FROM {self.leaves} ORDER BY idx DESC LIMIT 1")
        return (int(rows[0]["idx"]) + 1, int(rows[0]["position"])) if rows else (0, 0)

    def size(self, c: Cursor) -> int:
        return self.last(c)[0]

    def fetch(self, c: Cursor, keys: Iterable[Node]) -> dict[Node, bytes]:
        """The stored hashes of the given nodes; a missing one is a `TreeError`."""
        wanted = sorted(set(keys))
        found: dict[Node, bytes] = {}
        leaf_ids = [i for level, i in wanted if level == 0]
        inner = [(level, i) for level, i in wanted if level > 0]
        for part, marks in in_parts(leaf_ids):
            for r in self.sql.rows(c, f"SELECT idx, hash FROM {self.leaves} WHERE idx IN ({marks})", part):
                found[(0, int(r["idx"]))] = bytes(r["hash"])
        for start in range(0, len(inner), 250):
            pairs = inner[start : start + 250]
            where = " OR ".join(["(level = ? AND idx = ?)"] * len(pairs))
            params = [x for key in pairs for x in key]
            for r in self.sql.rows(c, f"SELECT level, idx, hash FROM {self.nodes} WHERE {where}", params):
                found[(int(r["level"]), int(r["idx"]))] = bytes(r["hash"])
        for key in wanted:
            if key not in found:
                what = f"leaf {key[1]}" if key[0] == 0 else f"node at level {key[0]}, index {key[1]}"
                raise TreeError(f"the log's tree has no {what}: run `timeline verify`")
        return found

    def range_hashes(self, c: Cursor, spans: Sequence[ranges.Range]) -> list[bytes]:
        """MTH of each leaf range, from its stored perfect subtrees."""
        parts = [ranges.perfect(a, b) for a, b in spans]
        hashes = self.fetch(c, (key for p in parts for key in p))
        return [fold([hashes[key] for key in p]) for p in parts]

    def root(self, c: Cursor, size: int) -> bytes:
        return merkle.EMPTY_ROOT if size == 0 else self.range_hashes(c, [(0, size)])[0]

    def linked_roots(self, c: Cursor, old: int, new: int) -> tuple[bytes, bytes]:
        """The roots of sizes `old` and `new` (0 < old <= new) folded from one set of stored
        hashes, so that the new root commits to the old tree: a consistency proof, checked."""
        steps, last = ranges.prefix_steps(old, new)
        spans = [span for _, span in steps]
        hashes = self.range_hashes(c, [*spans, last])
        old_root = fold([h for (inside, _), h in zip(steps, hashes, strict=False) if inside] + [hashes[-1]])
        new_root = hashes[-1]
        for (inside, _), h in reversed(list(zip(steps, hashes, strict=False))):
            new_root = merkle.node_hash(h, new_root) if inside else merkle.node_hash(new_root, h)
        return old_root, new_root

    def last_at(self, c: Cursor, position: int) -> tuple[int, int]:
        """(size, last leaf's position) of the tree over the events up to `position`; (0, 0)
        when none is."""
        rows = self.sql.rows(
            c, f"SELECT idx, position FROM {self.leaves} WHERE position <= ? ORDER BY position DESC LIMIT 1", [position]
        )
        return (int(rows[0]["idx"]) + 1, int(rows[0]["position"])) if rows else (0, 0)

    def block(self, c: Cursor, level: int, start: int, stop: int) -> dict[int, bytes]:
        """The stored hashes at `level` (0: the leaves) with index in [start, stop)."""
        if level == 0:
            statement = f"SELECT idx, hash FROM {self.leaves} WHERE idx >= ? AND idx < ?"
            rows = self.sql.rows(c, statement, [start, stop])
        else:
            statement = f"SELECT idx, hash FROM {self.nodes} WHERE level = ? AND idx >= ? AND idx < ?"
            rows = self.sql.rows(c, statement, [level, start, stop])
        return {int(r["idx"]): bytes(r["hash"]) for r in rows}

    def position_of(self, c: Cursor, index: int) -> int | None:
        value = self.sql.scalar(c, f"SELECT position FROM {self.leaves} WHERE idx = ?", [index])
        return None if value is None else int(value)

    def index_of(self, c: Cursor, position: int) -> int | None:
        value = self.sql.scalar(c, f"SELECT idx FROM {self.leaves} WHERE position = ?", [position])
        return None if value is None else int(value)

    def iter_leaves(self, c: Cursor, start: int, page: int = 5000) -> Iterator[tuple[int, int, bytes]]:
        """(idx, position, hash) from leaf `start` on, in pages on the caller's cursor."""
        while True:
            rows = self.sql.rows(
                c, f"SELECT idx, position, hash FROM {self.leaves} WHERE idx >= ? ORDER BY idx LIMIT ?", [start, page]
            )
            for r in rows:
                yield int(r["idx"]), int(r["position"]), bytes(r["hash"])
            if len(rows) < page:
                return
            start = int(rows[-1]["idx"]) + 1

    # --- writing -----------------------------------------------------------------------

    def append(self, c: Cursor, stored_events: Sequence[StoredEvent], positions: Sequence[int]) -> None:
        """One leaf per stored event, and the nodes they complete, on the append's cursor."""
        size, last = self.last(c)
        first = positions[0]
        if first <= last:
            raise TreeError(
                f"cannot append at #{first}: the log's tree already ends at #{last}"
                " (a stored event was removed); `timeline verify` says what changed"
            )
        if size == 0:
            earlier = self.sql.scalar(
                c, f"SELECT COUNT(*) FROM {self.events} WHERE {self.position_column} < ?", [first]
            )
            if earlier:
                raise TreeError(
                    f"cannot append: the log holds {earlier} events before #{first} that its tree does not cover;"
                    " `timeline verify` says what changed"
                )
        hashes = [
            merkle.leaf_hash(leaf_data(p, _uuid(e.originator_id), e.originator_version, e.topic, e.state))
            for p, e in zip(positions, stored_events, strict=True)
        ]
        self.write(c, size, list(positions), hashes)

    def write(self, c: Cursor, size: int, positions: list[int], hashes: list[bytes]) -> None:
        """Store leaves `size`, `size + 1`, ... and every node they complete."""
        keys = ranges.frontier(size)
        known = self.fetch(c, keys)
        stack = [(level, known[(level, i)]) for level, i in keys]
        nodes: list[tuple[int, int, bytes]] = []
        for offset, h in enumerate(hashes):
            extend(stack, size + offset, h, nodes)
        leaves = [(size + k, p, h) for k, (p, h) in enumerate(zip(positions, hashes, strict=True))]
        self._insert(c, self.leaves, ("idx", "position", "hash"), ("int8", "int8", "bytea"), leaves)
        self._insert(c, self.nodes, ("level", "idx", "hash"), ("int4", "int8", "bytea"), nodes)

    def _insert(
        self, c: Cursor, table: str, columns: tuple[str, ...], types: tuple[str, ...], rows: list[tuple[Any, ...]]
    ) -> None:
        if self.postgres:
            from timeline.recorders.postgres import COPY_FROM, copy_rows

            if len(rows) >= COPY_FROM:
                # An import's batch goes in as its events did: one binary COPY (measured
                # on 200,000 rows: a quarter of the time of the text arrays' INSERT this
                # replaced, half that of binary arrays; a tenth of the client's CPU).
                copy_rows(c, table, columns, types, rows)
                return
        # Fewer rows (an `add`), and every write on SQLite: `Sql.insert_rows` (one INSERT
        # of binary arrays on PostgreSQL). The same rows either way.
        names = ", ".join(columns)
        marks = ", ".join("?" * len(columns))
        self.sql.insert_rows(c, f"INSERT INTO {table} ({names}) VALUES ({marks})", rows, types)


def extend(stack: list[tuple[int, bytes]], index: int, leaf: bytes, out: list[tuple[int, int, bytes]]) -> None:
    """Push leaf `index` onto the frontier, combining while its index is odd; each node
    made goes to `out` as (level, idx, hash)."""
    level, i, h = 0, index, leaf
    while i & 1:
        left_level, left = stack.pop()
        assert left_level == level
        h = merkle.node_hash(left, h)
        level, i = level + 1, i >> 1
        out.append((level, i, h))
    stack.append((level, h))


def fold(hashes: Sequence[bytes]) -> bytes:
    """MTH of a run of perfect subtrees, largest first: folded from the right."""
    h = hashes[-1]
    for left in reversed(hashes[:-1]):
        h = merkle.node_hash(left, h)
    return h


def _uuid(value: object) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


class Tree:
    """The log's Merkle tree, read from its stored nodes: from the application or its recorder.

    Indexes count leaves from 0 (leaf i is the (i + 1)th stored event); sizes count leaves.
    """

    def __init__(self, source: Timeline | ApplicationRecorder) -> None:
        recorder = getattr(source, "recorder", source)
        self.store = TreeSql.for_recorder(recorder)
        self.sql = self.store.sql

    def size(self) -> int:
        with self.sql.transaction(commit=False) as c:
            return self.store.size(c)

    def root(self, size: int | None = None) -> bytes:
        with self.sql.transaction(commit=False) as c:
            size = self._size(c, size)
            return self.store.root(c, size)

    def leaf_hash(self, index: int) -> bytes:
        with self.sql.transaction(commit=False) as c:
            self._index(c, index, self.store.size(c))
            return self.store.fetch(c, [(0, index)])[(0, index)]

    def inclusion(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves."""
        with self.sql.transaction(commit=False) as c:
            size = self._size(c, size)
            self._index(c, index, size)
            return self.store.range_hashes(c, ranges.inclusion(index, size))

    def consistency(self, old: int, new: int) -> list[bytes]:
        """RFC 9162 consistency proof that the tree of `old` leaves is a prefix of `new`'s."""
        with self.sql.transaction(commit=False) as c:
            new = self._size(c, new)
            if not 0 < old <= new:
                raise TreeError(f"no consistency proof from size {old} to size {new}: need 0 < old <= new")
            return self.store.range_hashes(c, ranges.consistency(old, new))

    def position_of(self, index: int) -> int:
        """The log position of leaf `index`."""
        with self.sql.transaction(commit=False) as c:
            position = self.store.position_of(c, index)
            if position is None:
                self._index(c, index, self.store.size(c))
                raise TreeError(f"the log's tree has no leaf {index}: run `timeline verify`")
            return position

    def index_of(self, position: int) -> int | None:
        """The leaf of the event at log `position`, or None when no leaf has that position."""
        with self.sql.transaction(commit=False) as c:
            return self.store.index_of(c, position)

    def head(self, position: int | None = None) -> Head | None:
        """The tree over the events up to log `position` (all of them by default); None when empty."""
        with self.sql.transaction(commit=False) as c:
            size, last = self.store.last(c)
            if position is not None and position < last:
                size, last = self.store.last_at(c, position)
            if size == 0:
                return None
            return Head(size, last, self.store.root(c, size))

    def past_heads(self) -> PastHeads:
        return PastHeads(self)

    def _size(self, c: Cursor, size: int | None) -> int:
        current = self.store.size(c)
        if size is None:
            return current
        if not 0 <= size <= current:
            raise TreeError(f"the log's tree has {current} events: there is no tree of size {size}")
        return size

    @staticmethod
    def _index(c: Cursor, index: int, size: int) -> None:
        if not 0 <= index < size:
            raise TreeError(f"there is no leaf {index} in a tree of {size} events (leaves count from 0)")


class PastHeads:
    """`Tree.head(position)` for many positions, as a feeds build asks (every page shows the
    head at its last change), mostly without a query. A stored hash never changes, so hashes
    are read a block of `BLOCK` at a level at a time and kept (the last `KEEP` blocks used).
    The size at a position is the position itself where the log has no gap in its positions
    (leaf i at position i + 1, as SQLite numbers them: then the last leaf's position is the
    tree's size); where it has gaps (PostgreSQL skips a position for a failed append) each
    is looked up, until `ASK` have been, and then the leaves' positions are read once (8
    bytes a leaf). The first `ASK` heads read only the hashes they need (one head, as
    `state` asks, costs what `Tree.head` does); whole blocks only after."""

    BLOCK = 1024
    KEEP = 512  # blocks: at most 16 MiB of hashes
    ASK = 256

    def __init__(self, tree: Tree) -> None:
        self.store, self.sql = tree.store, tree.sql
        self.blocks: OrderedDict[tuple[int, int], dict[int, bytes]] = OrderedDict()
        self.dense: int | None = None  # positions 1..dense are leaves 0..dense - 1 (0: not so)
        self.positions: array[int] | None = None  # leaf i's position, once read whole
        self.asked = 0  # heads whose size was looked up
        self.heads = 0  # heads asked for

    def __call__(self, position: int) -> Head | None:
        self.heads += 1
        known = self._known(position)
        if known is not None:
            size, last = known
            if size == 0:
                return None
            hashes = self._hashes(None, ranges.perfect(0, size))
            if hashes is not None:
                return Head(size, last, fold(hashes))
        with self.sql.transaction(commit=False) as c:
            if self.dense is None:
                size, last = self.store.last(c)  # leaves appended later come after these
                self.dense = size if last == size else 0
            known = self._known(position)
            if known is None:
                self.asked += 1
                if self.asked > self.ASK and not self.dense and self.positions is None:
                    self.positions = array("q", (p for _, p, _ in self.store.iter_leaves(c, 0)))
                known = self._known(position) or self.store.last_at(c, position)
            size, last = known
            if size == 0:
                return None
            hashes = self._hashes(c, ranges.perfect(0, size))
            assert hashes is not None
            return Head(size, last, fold(hashes))

    def _known(self, position: int) -> tuple[int, int] | None:
        """(size, last position) at `position`, when known without a query."""
        if self.dense and 0 < position <= self.dense:
            return position, position
        p = self.positions
        if p and position <= p[-1]:
            size = bisect_right(p, position)
            return (size, p[size - 1]) if size else (0, 0)
        return None

    def _hashes(self, c: Cursor | None, keys: list[Node]) -> list[bytes] | None:
        """The nodes' hashes from kept blocks, reading what is missing: the hashes alone for
        the first `ASK` heads, whole blocks after (None when something is missing and there
        is no cursor to read it with)."""
        if c is not None and self.heads <= self.ASK:  # few heads so far: the few hashes missing
            missing = [k for k in keys if self.blocks.get((k[0], k[1] // self.BLOCK), {}).get(k[1]) is None]
            for (level, i), found in self.store.fetch(c, missing).items():
                self.blocks.setdefault((level, i // self.BLOCK), {})[i] = found  # a block in part
        out = []
        for level, i in keys:
            at = (level, i // self.BLOCK)
            block = self.blocks.get(at)
            if block is not None:
                self.blocks.move_to_end(at)
            h = block.get(i) if block is not None else None
            if h is None and c is not None and (block is None or self.heads > self.ASK):
                # no block, one read in part, or one read before the node was stored
                block = self._read_block(c, at)
                h = block.get(i)
            if h is None:  # not stored: read it alone (so that a missing one is said to be missing)
                if c is None:
                    return None
                h = self.store.fetch(c, [(level, i)])[(level, i)]
                self.blocks.setdefault(at, {})[i] = h
            out.append(h)
        return out

    def _read_block(self, c: Cursor, at: tuple[int, int]) -> dict[int, bytes]:
        level, start = at[0], at[1] * self.BLOCK
        block = self.blocks[at] = self.store.block(c, level, start, start + self.BLOCK)
        self.blocks.move_to_end(at)
        if len(self.blocks) > self.KEEP:
            self.blocks.popitem(last=False)
        return block

"""The log's Merkle tree, stored at append on both back ends: roots and proofs from stored nodes."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from eventsourcing.persistence import StoredEvent

from tests import rfc9162
from timeline import config
from timeline.app import Timeline
from timeline.proof import merkle, ranges
from timeline.proof.leaf import leaf_data
from timeline.proof.tree import Tree, TreeError


@pytest.fixture
def app(target: str) -> Iterator[Timeline]:
    app = Timeline.open(config.resolve(target))
    yield app
    app.close()


def append(app: Timeline, count: int, start: int) -> list[bytes]:
    """Append `count` stored events in one call; their expected leaf hashes."""
    events = [StoredEvent(uuid.uuid4(), 1, f"topic.{start + k}", f"state {start + k}".encode()) for k in range(count)]
    positions = app.recorder.insert_events(events)
    assert positions is not None
    return [
        merkle.leaf_hash(leaf_data(p, e.originator_id, e.originator_version, e.topic, e.state))
        for p, e in zip(positions, events, strict=True)
    ]


def append_across_a_failed_one(app: Timeline, before: int, after: int) -> None:
    """`before` events, one more, a rejected append (its second event clashes with that
    one: on PostgreSQL it still takes a position), then `after` events."""
    from eventsourcing.persistence import IntegrityError

    append(app, before, 0)
    clash = StoredEvent(uuid.uuid4(), 1, "t", b"s")
    app.recorder.insert_events([clash])
    with pytest.raises(IntegrityError):
        app.recorder.insert_events([StoredEvent(uuid.uuid4(), 1, "t", b"s"), clash])
    append(app, after, before + 1)


def test_every_size_has_the_root_and_proofs_of_its_leaves(app: Timeline) -> None:
    tree = Tree(app)
    assert tree.size() == 0 and tree.root() == merkle.EMPTY_ROOT and tree.head() is None
    leaves: list[bytes] = []
    for count in (1, 1, 2, 3, 1, 5, 8, 13, 7, 23):  # batches of every shape, 64 in all
        leaves += append(app, count, len(leaves))
    assert tree.size() == 64
    roots = [tree.root(n) for n in range(65)]
    assert roots == [merkle.root_of(leaves[:n]) for n in range(65)]
    assert [tree.leaf_hash(i) for i in range(64)] == leaves
    sizes = (1, 2, 7, 8, 9, 33, 64)
    for n in sizes:
        for i in range(n):
            assert rfc9162.inclusion_ok(i, n, leaves[i], tree.inclusion(i, n), roots[n]), (i, n)
    for n in range(1, 65):
        for m in {1, n // 2 or 1, n - 1 or 1, n}:
            assert rfc9162.consistency_ok(m, n, roots[m], roots[n], tree.consistency(m, n)), (m, n)
    head = tree.head()
    assert head is not None and (head.size, head.position, head.root) == (64, 64, roots[64])
    at = tree.head(10)
    assert at is not None and (at.size, at.root) == (10, roots[10])


def test_concurrent_writers_extend_one_tree(target: str) -> None:
    """Two applications (two connection pools) appending at once: one leaf per row, in order."""
    apps = [Timeline.open(config.resolve(target)) for _ in range(2)]
    try:
        errors: list[BaseException] = []

        def write(app: Timeline, k: int) -> None:
            try:
                for n in range(15):
                    append(app, 1 + (n + k) % 3, 0)
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=write, args=(a, k)) for k, a in enumerate(apps)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        rows = apps[0].recorder.select_notifications(1, 1000)
        leaves = [
            merkle.leaf_hash(leaf_data(n.id, n.originator_id, n.originator_version, n.topic, n.state)) for n in rows
        ]
        tree = Tree(apps[0])
        assert tree.size() == len(rows) == 60
        assert [tree.position_of(i) for i in range(60)] == [n.id for n in rows]
        assert tree.root() == merkle.root_of(leaves)
    finally:
        for a in apps:
            a.close()


def test_a_proof_is_a_few_stored_nodes(app: Timeline) -> None:
    append(app, 1000, 0)
    tree = Tree(app)
    assert len(tree.inclusion(517, 1000)) == 10 and len(tree.consistency(300, 1000)) <= 2 * 10
    # n leaves keep n - popcount(n) nodes above them.
    with tree.sql.transaction(commit=False) as c:
        stored = tree.sql.scalar(c, f"SELECT COUNT(*) FROM {tree.store.nodes}")
    assert stored == 1000 - bin(1000).count("1")


def test_questions_beyond_the_tree_are_one_line_errors(app: Timeline) -> None:
    append(app, 3, 0)
    tree = Tree(app)
    with pytest.raises(TreeError, match=r"^the log's tree has 3 events: there is no tree of size 4$"):
        tree.root(4)
    with pytest.raises(TreeError, match=r"^there is no leaf 3 in a tree of 3 events \(leaves count from 0\)$"):
        tree.inclusion(3, 3)
    with pytest.raises(TreeError, match=r"^no consistency proof from size 0 to size 3: need 0 < old <= new$"):
        tree.consistency(0, 3)


def test_ranges_match_the_rfc_definitions() -> None:
    """The planned ranges, hashed by the definition, give what the RFC's verifier accepts."""
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(40)]

    def mth(a: int, b: int) -> bytes:
        return merkle.root_of(leaves[a:b])

    for n in range(1, 41):
        assert ranges.perfect(0, n) and sum(1 << lv for lv, _ in ranges.perfect(0, n)) == n
        for i in range(n):
            path = [mth(a, b) for a, b in ranges.inclusion(i, n)]
            assert rfc9162.inclusion_ok(i, n, leaves[i], path, mth(0, n))
            assert not rfc9162.inclusion_ok(i, n, leaves[(i + 1) % 40], path, mth(0, n))
        for m in range(1, n + 1):
            proof = [mth(a, b) for a, b in ranges.consistency(m, n)]
            assert rfc9162.consistency_ok(m, n, mth(0, m), mth(0, n), proof)


def test_linked_roots_are_both_roots(app: Timeline) -> None:
    leaves = append(app, 20, 0)
    tree = Tree(app)
    with tree.sql.transaction(commit=False) as c:
        for new in range(1, 21):
            for old in range(1, new + 1):
                assert tree.store.linked_roots(c, old, new) == (
                    merkle.root_of(leaves[:old]),
                    merkle.root_of(leaves[:new]),
                ), (old, new)


def test_a_failed_append_leaves_the_tree_sound(app: Timeline) -> None:
    """A rejected append writes no leaf; on PostgreSQL it also skips a position, which the
    tree records (leaf index and log position part) and verify accepts."""
    from timeline.audit.verify import verify

    append_across_a_failed_one(app, 3, 2)
    tree = Tree(app)
    positions = [n.id for n in app.recorder.select_notifications(1, 100)]
    assert tree.size() == 6 and [tree.position_of(i) for i in range(6)] == positions
    assert tree.index_of(positions[-1]) == 5
    verdict = verify(app, full=True)
    assert verdict.ok and verdict.head == {"size": 6, "position": positions[-1], "hash": tree.root().hex()}


def test_past_heads_are_the_heads_read_afresh(app: Timeline) -> None:
    """`PastHeads` (a build's many heads, nodes kept, sizes worked out where positions have
    no gap) gives `Tree.head` at every position, before and after a gap (PostgreSQL skips a
    position for a failed append; SQLite does not), asked in any order."""
    append_across_a_failed_one(app, 37, 12)
    tree = Tree(app)
    last = tree.head()
    assert last is not None and last.size == 50
    wanted = [*range(last.position + 3), *range(last.position + 2, -1, -7), 5, 5, 40]
    heads = tree.past_heads()
    assert [heads(p) for p in wanted] == [tree.head(p) for p in wanted]
    small = tree.past_heads()
    small.KEEP, small.BLOCK, small.ASK = 2, 4, 5  # blocks dropped and read again; positions read whole
    assert [small(p) for p in reversed(wanted)] == [tree.head(p) for p in reversed(wanted)]

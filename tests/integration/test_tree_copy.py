"""On PostgreSQL the log's tree takes an import's batches through one binary COPY and
smaller writes through one INSERT (`TreeSql._insert`): the same leaves and nodes either
way, byte for byte, and the same as SQLite's; a large import's tree verifies and proves."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from eventsourcing.persistence import IntegrityError, StoredEvent

from tests import rfc9162
from tests.load.writers import write_import_file
from timeline import config
from timeline.app import Timeline
from timeline.cli import cli
from timeline.importer import import_lines
from timeline.proof import merkle
from timeline.proof.leaf import leaf_data
from timeline.proof.tree import Tree, TreeSql
from timeline.recorders import postgres
from timeline.store import iter_notifications

pytestmark = pytest.mark.postgres

EVENTS = 2_500


def _tree_rows(app: Timeline) -> tuple[list[tuple[int, int, bytes]], list[tuple[int, int, bytes]]]:
    tree = TreeSql.for_recorder(app.recorder)
    with tree.sql.transaction(commit=False) as c:
        leaves = tree.sql.rows(c, f"SELECT idx, position, hash FROM {tree.leaves} ORDER BY idx")
        nodes = tree.sql.rows(c, f"SELECT level, idx, hash FROM {tree.nodes} ORDER BY level, idx")
    return (
        [(int(r["idx"]), int(r["position"]), bytes(r["hash"])) for r in leaves],
        [(int(r["level"]), int(r["idx"]), bytes(r["hash"])) for r in nodes],
    )


def _stored(app: Timeline) -> list[tuple[int, StoredEvent]]:
    return [
        (n.id, StoredEvent(n.originator_id, n.originator_version, n.topic, n.state))
        for n in iter_notifications(app.recorder)
    ]


@pytest.fixture
def copied(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tables each binary COPY went into, in order."""
    tables: list[str] = []
    real = postgres.copy_rows

    def spy(curs: Any, table: Any, *args: Any) -> None:
        tables.append(table if isinstance(table, str) else table.as_string(curs))
        real(curs, table, *args)

    monkeypatch.setattr(postgres, "copy_rows", spy)
    return tables


def _insert_in_calls(target: str, events: Sequence[StoredEvent], sizes: Sequence[int]) -> Timeline:
    app = Timeline.open(config.resolve(target))
    start = 0
    for size in sizes:
        app.recorder.insert_events(events[start : start + size])
        start += size
    assert start == len(events)
    return app


def test_an_import_stores_the_tree_rows_small_writes_store(
    postgres_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, copied: list[str]
) -> None:
    """An import in one batch of 2,500 (events, leaves and nodes through COPY); its stored
    events again in calls below COPY_FROM (every row through INSERTs), in calls whose
    transactions mix the two, and on SQLite: the same tree rows in all four."""
    lines = write_import_file(tmp_path / "in.jsonl", 1, EVENTS).read_text().splitlines(keepends=True)
    monkeypatch.setenv("TIMELINE_IMPORT_BATCH", str(EVENTS))
    url = f"{postgres_database}?schema=tree_copy_{uuid.uuid4().hex[:8]}"
    imported = Timeline.open(config.resolve(url))
    apps = [imported]
    try:
        import_lines(imported, lines)
        tree = TreeSql.for_recorder(imported.recorder)
        assert [t for t in copied if t != tree.events] == [tree.leaves, tree.nodes]
        stored = _stored(imported)
        events = [e for _, e in stored]
        assert [p for p, _ in stored] == list(range(1, EVENTS + 1))

        copied.clear()
        small = postgres.COPY_FROM - 1
        apps.append(_insert_in_calls(f"{postgres_database}?schema=tree_insert_{uuid.uuid4().hex[:8]}", events,
                                     [small] * (EVENTS // small) + [EVENTS % small]))  # fmt: skip
        assert copied == []
        mixed = (postgres.COPY_FROM, 1, 999, 500)
        apps.append(_insert_in_calls(f"{postgres_database}?schema=tree_mixed_{uuid.uuid4().hex[:8]}", events, mixed))
        mixed_tree = TreeSql.for_recorder(apps[-1].recorder)
        # The first call's events and leaves (its 994 nodes through an INSERT), the third's
        # 1,000 nodes (its 999 events and leaves through INSERTs).
        assert copied == [mixed_tree.events, mixed_tree.leaves, mixed_tree.nodes]
        apps.append(_insert_in_calls(str(tmp_path / "timeline.db"), events, [EVENTS]))

        rows = [_tree_rows(app) for app in apps]
        leaves, nodes = rows[0]
        assert len(leaves) == EVENTS and len(nodes) == EVENTS - bin(EVENTS).count("1")
        assert [(i, p) for i, p, _ in leaves] == [(i, i + 1) for i in range(EVENTS)]
        for other in rows[1:]:
            assert other == rows[0]
        assert [_stored(app) for app in apps[1:]] == [stored] * 3
    finally:
        for app in apps:
            app.close()
    verified = CliRunner().invoke(cli, ["--db", url, "verify"], catch_exceptions=False)
    assert verified.exit_code == 0 and verified.stdout.startswith(f"ok: {EVENTS} events"), verified.output


def test_a_large_import_proves_every_kind_of_question(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inclusion and consistency proofs over a tree written through COPY, checked by the
    tests' own RFC 9162 verifier against leaves hashed here from the stored events."""
    lines = write_import_file(tmp_path / "in.jsonl", 1, EVENTS).read_text().splitlines(keepends=True)
    monkeypatch.setenv("TIMELINE_IMPORT_BATCH", str(EVENTS))
    app = Timeline.open(config.resolve(postgres_url))
    try:
        import_lines(app, lines)
        leaves = [
            merkle.leaf_hash(leaf_data(p, e.originator_id, e.originator_version, e.topic, e.state))
            for p, e in _stored(app)
        ]
        tree = Tree(app)
        sizes = (1, 2, 999, 1000, 1024, 1025, 2047, 2048, EVENTS)
        roots = {n: merkle.root_of(leaves[:n]) for n in sizes}
        assert {n: tree.root(n) for n in sizes} == roots
        for n in sizes:
            for i in {0, n // 3, n // 2, n - 1}:
                assert rfc9162.inclusion_ok(i, n, leaves[i], tree.inclusion(i, n), roots[n]), (i, n)
            for m in sizes:
                if m < n:
                    assert rfc9162.consistency_ok(m, n, roots[m], roots[n], tree.consistency(m, n)), (m, n)
    finally:
        app.close()


def test_a_copy_after_a_skipped_position_records_it(postgres_url: str) -> None:
    """A rolled-back append skips a position; the next large append's leaves, through
    COPY, keep the log's positions (leaf index and position part), and verify accepts it."""
    from timeline.audit.verify import verify

    app = Timeline.open(config.resolve(postgres_url))
    try:
        clash = StoredEvent(uuid.uuid4(), 1, "t", b"s")
        app.recorder.insert_events([clash])
        with pytest.raises(IntegrityError):
            app.recorder.insert_events([StoredEvent(uuid.uuid4(), 1, "t", b"s"), clash])
        app.recorder.insert_events([StoredEvent(uuid.uuid4(), 1, "t", b"%d" % k) for k in range(postgres.COPY_FROM)])
        positions = [n.id for n in iter_notifications(app.recorder)]
        assert positions[1] > 2  # the rolled-back rows took their numbers with them
        leaves, _ = _tree_rows(app)
        assert [(i, p) for i, p, _ in leaves] == list(enumerate(positions))
        assert verify(app, full=True).ok
    finally:
        app.close()

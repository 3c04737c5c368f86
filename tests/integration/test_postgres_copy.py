"""On PostgreSQL an import's large batches go in through one binary COPY, smaller writes
through INSERTs (`timeline.recorders.postgres`): both store the same rows, byte for byte,
at the positions they return, and the log's tree covers them."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from tests.load.writers import write_import_file
from timeline import config
from timeline.app import Timeline
from timeline.importer import import_lines
from timeline.recorders import postgres
from timeline.store import iter_notifications

pytestmark = pytest.mark.postgres


def _rows(app: Timeline) -> list[tuple[Any, ...]]:
    return [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in iter_notifications(app.recorder)]


def _events(n: int, version: int = 1) -> list[StoredEvent]:
    # Bytes a text COPY would have to escape, and every byte value, kept as they are.
    state = b'{"t":"tab\\there \\\\ back\\nslash"}' + bytes(range(256))
    return [StoredEvent(uuid.uuid4(), version, f"events:Development.Reported{i % 3}", state) for i in range(n)]


def test_copy_and_insert_store_the_same_rows(postgres_url: str) -> None:
    app = Timeline.open(config.resolve(postgres_url))
    try:
        small = _events(postgres.COPY_FROM - 1)
        large = _events(postgres.COPY_FROM + 1)
        first = app.recorder.insert_events(small)
        second = app.recorder.insert_events(large)
        assert list(first or []) + list(second or []) == list(range(1, len(small) + len(large) + 1))
        stored = _rows(app)
        assert stored == [(p, e.originator_id, e.originator_version, e.topic, e.state)
                          for p, e in enumerate(small + large, 1)]  # fmt: skip
    finally:
        app.close()


def test_a_copy_that_meets_a_stored_event_stores_nothing(postgres_url: str) -> None:
    app = Timeline.open(config.resolve(postgres_url))
    try:
        events = _events(postgres.COPY_FROM + 5)
        app.recorder.insert_events(events[:1])
        with pytest.raises(IntegrityError):
            app.recorder.insert_events(events)
        assert len(_rows(app)) == 1
    finally:
        app.close()


def test_an_import_stores_the_same_events_through_copy_as_through_inserts(
    postgres_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same file in batches below and above COPY_FROM: the same events, and `verify`
    finds both logs whole."""
    from click.testing import CliRunner

    from timeline.cli import cli

    lines = write_import_file(tmp_path / "in.jsonl", 1, 2_500).read_text().splitlines(keepends=True)
    stored = []
    for batch in (str(postgres.COPY_FROM // 2), "2500"):
        monkeypatch.setenv("TIMELINE_IMPORT_BATCH", batch)
        url = f"{postgres_database}?schema=copy_{batch}_{uuid.uuid4().hex[:8]}"
        app = Timeline.open(config.resolve(url))
        try:
            import_lines(app, lines)
            # Apart from the time each was stored.
            stored.append([(r[:4], r[4].split(b"},", 1)[1]) for r in _rows(app)])
        finally:
            app.close()
        verified = CliRunner().invoke(cli, ["--db", url, "verify"], catch_exceptions=False)
        assert verified.exit_code == 0 and verified.stdout.startswith("ok: 2500 events"), verified.output
    assert stored[0] == stored[1] and len(stored[0]) == 2_500

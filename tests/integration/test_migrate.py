"""A database chained the old way (the views' `timeline_chain`, no tree) is moved onto the
Merkle tree once, by the first command that opens it, after its old chain is checked.

The SQLite fixture was made by the code before the tree (commit 2b0d6ad): the seed
imported, a read (which chained the 25 events), one event added and chained by `verify`,
and one more added with no read after it, so #27 has no link. On PostgreSQL the same rows
and links are written the old way: through the library's own recorder, with no tree.
"""

from __future__ import annotations

import gzip
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import Cli, pg_connect
from timeline import config
from timeline.app import Timeline
from timeline.proof.tree import LEAVES
from timeline.views.tables import SCHEMA_VERSION

FIXTURE = Path(__file__).parent.parent / "fixtures" / "chained-before-tree.db.gz"
NOTE = (
    "Note: the log's 27 events now have a Merkle tree (RFC 9162), built once in place of the old hash chain,"
    " which matched every event it linked (#1..#26); the events after #26 had no link yet and were taken as stored\n"
)


@pytest.fixture
def old(target: str, tmp_path: Path) -> Cli:
    """A database as the code before the tree left it, on either back end."""
    source = tmp_path / "old.db"
    source.write_bytes(gzip.decompress(FIXTURE.read_bytes()))
    if not target.startswith("postgresql://"):
        source.rename(target)
        return Cli(target)
    with sqlite3.connect(source) as conn:
        rows = conn.execute("SELECT originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid")
        events = list(rows)
        links = conn.execute("SELECT position, hash FROM timeline_chain ORDER BY position").fetchall()
    from uuid import UUID

    from eventsourcing.persistence import StoredEvent

    settings = dict(config.resolve(target).settings)
    settings["APPLICATION_RECORDER_TOPIC"] = "eventsourcing.postgres:PostgresApplicationRecorder"
    app = Timeline(env=settings)
    app.recorder.insert_events([StoredEvent(UUID(hex=o), v, t, s) for o, v, t, s in events])
    app.close()
    with pg_connect(target) as conn:
        conn.execute("CREATE TABLE timeline_chain (position BIGINT PRIMARY KEY, hash TEXT NOT NULL)")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO timeline_chain VALUES (%s, %s)", links)
    return Cli(target)


def leaves(target: str) -> int | None:
    if target.startswith("postgresql://"):
        with pg_connect(target) as conn:
            if conn.execute("SELECT to_regclass(%s)", (LEAVES,)).fetchone()[0] is None:  # type: ignore[index]
                return None
            return int(conn.execute(f"SELECT COUNT(*) FROM {LEAVES}").fetchone()[0])  # type: ignore[index]
    with sqlite3.connect(target) as conn:
        if not conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = ?", (LEAVES,)).fetchone()[0]:
            return None
        return int(conn.execute(f"SELECT COUNT(*) FROM {LEAVES}").fetchone()[0])


def test_an_old_database_is_migrated_once_with_a_note(old: Cli) -> None:
    assert leaves(old.target) is None
    first = old("state", "--json")
    # The SQLite file holds views made before they kept a schema version: rebuilt once, too
    # (the PostgreSQL copy holds the events only).
    views = f"Note: the views were made by an older version (schema 1, now {SCHEMA_VERSION}): rebuilding them"
    rebuilt = "" if old.target.startswith("postgresql://") else views + " from the log's 27 events\n"
    assert first.stderr == NOTE + rebuilt
    assert leaves(old.target) == 27
    assert old("state").stderr == ""  # once
    verdict = old.json("verify", "--full")
    assert (verdict["ok"], verdict["checked"], verdict["head"]["size"]) == (True, 27, 27)
    old("add", "visit", "--title", "After", "--occurred", "2024-10", "--visitors", "Z", "--source", "https://e.org/a")
    assert old.json("verify")["head"]["size"] == 28
    assert "Not chained yet" in old("show").stdout


def tamper(target: str, statement: str) -> None:
    if target.startswith("postgresql://"):
        with pg_connect(target) as conn:
            conn.execute(statement.replace("stored_events", "timeline_events").replace("rowid", "notification_id"))
    else:
        with sqlite3.connect(target) as conn:
            conn.execute(statement)


@pytest.mark.parametrize(
    ("statement", "why"),
    [
        ("UPDATE stored_events SET state = replace(state, 'Japan', 'Japon') WHERE rowid = 7", "#7 (it was altered: it does not match its link)"),
        ("DELETE FROM stored_events WHERE rowid = 7", "#7 (it was deleted: the old chain links it, the log has no row there)"),
        ("UPDATE stored_events SET originator_version = originator_version + 100 WHERE rowid = 3", "#3 (it was altered: it does not match its link)"),
    ],
    ids=["edit", "delete", "version"],
)  # fmt: skip
def test_an_old_database_that_does_not_match_its_chain_is_refused(old: Cli, statement: str, why: str) -> None:
    if old.target.startswith("postgresql://"):
        statement = statement.replace(
            "replace(state, 'Japan', 'Japon')",
            "convert_to(replace(convert_from(state, 'UTF8'), 'Japan', 'Japon'), 'UTF8')",
        )
    elif "replace(state" in statement:  # SQLite stores the result as text
        why = "#7 (it cannot be a stored event: its state is stored as text, not as bytes)"
    tamper(old.target, statement)
    display = config.resolve(old.target).display
    for _ in range(2):  # refused each time: nothing was created
        result = old("state", ok=False)
        assert result.exit_code == 1 and result.stdout == ""
        assert result.stderr == (
            f"Error: cannot open database {display}: the log does not match its old hash chain at {why};"
            " it was not moved to a Merkle tree: restore the log from a backup\n"
        )
        assert leaves(old.target) is None

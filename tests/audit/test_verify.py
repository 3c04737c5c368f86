"""Tamper tests: rows edited, deleted, inserted and swapped behind the application's back,
directly in SQLite (rowid = position) and in PostgreSQL (notification_id = position)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Cli
from timeline import config
from timeline.app import Timeline

Tamper = Callable[[Any, str, str, bool], None]  # (cursor, table, position column, postgres)


def run_sql(target: str, action: Callable[[Any, str, str, bool], None]) -> None:
    if target.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(target, autocommit=False) as conn, conn.cursor() as cur:
            action(cur, "timeline_events", "notification_id", True)
            conn.commit()
    else:
        conn = sqlite3.connect(target)
        try:
            action(conn.cursor(), "stored_events", "rowid", False)
            conn.commit()
        finally:
            conn.close()


def q(sql: str, postgres: bool) -> str:
    return sql.replace("?", "%s") if postgres else sql


def edit(cur: Any, table: str, pos: str, pg: bool) -> None:
    cur.execute(q(f"SELECT state FROM {table} WHERE {pos} = ?", pg), (7,))
    state = bytes(cur.fetchone()[0])
    assert b"Japan" in state
    cur.execute(
        q(f"UPDATE {table} SET state = ? WHERE {pos} = ?", pg), (state.replace(b"Japan", b"Japon", 1), 7)
    )


def delete(cur: Any, table: str, pos: str, pg: bool) -> None:
    cur.execute(q(f"DELETE FROM {table} WHERE {pos} = ?", pg), (7,))


def delete_last(cur: Any, table: str, pos: str, pg: bool) -> None:
    cur.execute(q(f"DELETE FROM {table} WHERE {pos} = ?", pg), (25,))


def delete_and_close_the_gap(cur: Any, table: str, pos: str, pg: bool) -> None:
    cur.execute(q(f"DELETE FROM {table} WHERE {pos} = ?", pg), (7,))
    cur.execute(q(f"UPDATE {table} SET {pos} = {pos} + 1000 WHERE {pos} > ?", pg), (7,))
    cur.execute(q(f"UPDATE {table} SET {pos} = {pos} - 1001 WHERE {pos} >= ?", pg), (1000,))


def insert(cur: Any, table: str, pos: str, pg: bool) -> None:
    """Make room at #7 by moving every later row up one, then put a new row there."""
    cur.execute(q(f"UPDATE {table} SET {pos} = {pos} + 1000 WHERE {pos} >= ?", pg), (7,))
    cur.execute(q(f"UPDATE {table} SET {pos} = {pos} - 999 WHERE {pos} >= ?", pg), (1000,))
    cur.execute(q(f"SELECT topic, state FROM {table} WHERE {pos} = ?", pg), (8,))
    topic, state = cur.fetchone()
    fake = uuid.uuid4()
    cur.execute(
        q(
            f"INSERT INTO {table} ({pos}, originator_id, originator_version, topic, state) VALUES (?,?,?,?,?)",
            pg,
        ),
        (7, fake if pg else fake.hex, 1, topic, bytes(state)),
    )


def swap(cur: Any, table: str, pos: str, pg: bool) -> None:
    cur.execute(q(f"UPDATE {table} SET {pos} = ? WHERE {pos} = ?", pg), (-7, 7))
    cur.execute(q(f"UPDATE {table} SET {pos} = ? WHERE {pos} = ?", pg), (7, 8))
    cur.execute(q(f"UPDATE {table} SET {pos} = ? WHERE {pos} = ?", pg), (8, -7))


@pytest.mark.parametrize(
    ("tamper", "position", "kind"),
    [
        (edit, 7, "altered"),
        (delete, 7, "deleted"),
        (delete_last, 25, "deleted"),
        (delete_and_close_the_gap, 7, "deleted"),
        (insert, 7, "inserted"),
        (swap, 7, "moved"),
    ],
    ids=["edit", "delete", "delete-last", "delete-renumber", "insert", "swap"],
)
def test_tampering_is_found_at_its_position(run: Cli, tamper: Tamper, position: int, kind: str) -> None:
    run.import_seed()
    before = run.json("verify")
    assert before["ok"] is True and before["checked"] == 25 and before["problem"] is None
    run_sql(run.target, tamper)
    result = run("verify", "--json", ok=False)
    assert result.exit_code == 1
    import json

    verdict = json.loads(result.stdout)
    assert verdict["ok"] is False
    assert (verdict["problem"]["position"], verdict["problem"]["kind"]) == (position, kind)
    assert result.stderr.strip() == f"Error: {verdict['problem']['message']}"
    assert result.stderr.count("\n") == 1 and f"#{position}" in result.stderr
    plain = run("verify", ok=False)
    assert plain.exit_code == 1 and plain.stdout == ""


def test_an_untouched_log_verifies_and_keeps_its_published_heads(run: Cli) -> None:
    from timeline.audit.replay import reader_as_of

    run.import_seed()
    ok = run("verify")
    assert ok.stdout.startswith("ok: 25 events match the chain; head #25:")
    head = run.json("state")["head"]
    app = Timeline.open(config.resolve(run.target))
    try:
        with reader_as_of(app, "#10") as reader:
            old = reader.head()  # the head a subscriber kept at #10 (a replay builds the same chain)
    finally:
        app.close()
    assert old is not None and old["position"] == 10
    run(
        "add",
        "visit",
        "--title",
        "Later",
        "--occurred",
        "2024-08",
        "--visitors",
        "Z",
        "--source",
        "https://example.org/z",
    )
    assert run.json("verify", "--expect-head", f"#{old['position']}:{old['hash']}")["ok"] is True
    assert run.json("verify", "--expect-head", f"#{head['position']}:{head['hash']}")["ok"] is True
    wrong = run("verify", "--expect-head", f"#10:{'0' * 64}", ok=False)
    assert wrong.exit_code == 1 and "history was rewritten" in wrong.stderr
    beyond = run("verify", "--expect-head", f"#40:{head['hash']}", ok=False)
    assert (
        beyond.exit_code == 1
        and beyond.stderr.strip() == "Error: the log ends at #26, before the expected head #40"
    )


def test_a_rewritten_log_with_rebuilt_views_is_caught_by_an_old_head(run: Cli) -> None:
    run.import_seed()
    head = run.json("state")["head"]
    run_sql(run.target, edit)
    run("rebuild")  # the chain is recomputed over the altered rows: it agrees with them now
    assert run.json("verify")["ok"] is True
    result = run("verify", "--expect-head", f"#{head['position']}:{head['hash']}", ok=False)
    assert result.exit_code == 1
    assert (
        result.stderr.startswith("Error: the chain at #25 is ") and "history was rewritten" in result.stderr
    )


def test_verify_on_an_empty_log(run: Cli) -> None:
    run("import", "-", input="")  # creates the database, stores nothing
    assert run.json("verify") == {"ok": True, "checked": 0, "head": None, "problem": None}

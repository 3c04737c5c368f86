"""Tamper tests: rows forged, edited, deleted, inserted and swapped behind the application's
back, directly in SQLite (rowid = position) and in PostgreSQL (notification_id = position),
and `verify` naming each one as a position and a reason against the log's Merkle tree."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Cli, pg_connect
from timeline import config
from timeline.app import Timeline
from timeline.proof.tree import LEAVES, NODES, TreeSql

Tamper = Callable[[Any, str, str, bool], None]  # (cursor, table, position column, postgres)


def run_sql(target: str, action: Callable[[Any, str, str, bool], None]) -> None:
    if target.startswith("postgresql://"):
        with pg_connect(target, autocommit=False) as conn, conn.cursor() as cur:
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
    cur.execute(q(f"UPDATE {table} SET state = ? WHERE {pos} = ?", pg), (state.replace(b"Japan", b"Japon", 1), 7))


def edit_as_text(cur: Any, table: str, pos: str, pg: bool) -> None:
    """What someone does at the sqlite3 prompt: SQLite then stores the state as text."""
    if pg:
        cur.execute(
            f"UPDATE {table} SET state = convert_to(replace(convert_from(state, 'UTF8'), 'Japan', 'Japon'), 'UTF8')"
            f" WHERE {pos} = 7"
        )
    else:
        cur.execute(f"UPDATE {table} SET state = replace(state, 'Japan', 'Japon') WHERE {pos} = 7")


def forge_at_end(cur: Any, table: str, pos: str, pg: bool) -> None:
    """A copy of a stored row with a new version, inserted straight into the table."""
    cur.execute(
        f"INSERT INTO {table} (originator_id, originator_version, topic, state)"
        f" SELECT originator_id, originator_version + 100, topic, state FROM {table} WHERE {pos} = 25"
    )


def forge_at_start(cur: Any, table: str, pos: str, pg: bool) -> None:
    cur.execute(
        f"INSERT INTO {table} ({pos}, originator_id, originator_version, topic, state)"
        f" SELECT 0, originator_id, originator_version + 100, topic, state FROM {table} WHERE {pos} = 1"
    )


def delete(cur: Any, table: str, pos: str, pg: bool) -> None:
    cur.execute(q(f"DELETE FROM {table} WHERE {pos} = ?", pg), (7,))


def delete_last(cur: Any, table: str, pos: str, pg: bool) -> None:
    cur.execute(q(f"DELETE FROM {table} WHERE {pos} = ?", pg), (25,))


def delete_and_close_the_gap(cur: Any, table: str, pos: str, pg: bool) -> None:
    cur.execute(q(f"DELETE FROM {table} WHERE {pos} = ?", pg), (7,))
    cur.execute(q(f"UPDATE {table} SET {pos} = {pos} + 1000 WHERE {pos} > ?", pg), (7,))
    cur.execute(q(f"UPDATE {table} SET {pos} = {pos} - 1001 WHERE {pos} >= ?", pg), (1000,))


def insert_at(at: int) -> Tamper:
    def insert(cur: Any, table: str, pos: str, pg: bool) -> None:
        """Make room by moving every later row up one, then put a new row there."""
        cur.execute(q(f"UPDATE {table} SET {pos} = {pos} + 1000 WHERE {pos} >= ?", pg), (at,))
        cur.execute(q(f"UPDATE {table} SET {pos} = {pos} - 999 WHERE {pos} >= ?", pg), (1000,))
        cur.execute(q(f"SELECT topic, state FROM {table} WHERE {pos} = ?", pg), (at + 1,))
        topic, state = cur.fetchone()
        fake = uuid.uuid4()
        cur.execute(
            q(
                f"INSERT INTO {table} ({pos}, originator_id, originator_version, topic, state) VALUES (?,?,?,?,?)",
                pg,
            ),
            (at, fake if pg else fake.hex, 1, topic, bytes(state)),
        )

    return insert


def swap(cur: Any, table: str, pos: str, pg: bool) -> None:
    cur.execute(q(f"UPDATE {table} SET {pos} = ? WHERE {pos} = ?", pg), (-7, 7))
    cur.execute(q(f"UPDATE {table} SET {pos} = ? WHERE {pos} = ?", pg), (7, 8))
    cur.execute(q(f"UPDATE {table} SET {pos} = ? WHERE {pos} = ?", pg), (8, -7))


def swap_far(cur: Any, table: str, pos: str, pg: bool) -> None:
    cur.execute(q(f"UPDATE {table} SET {pos} = ? WHERE {pos} = ?", pg), (-3, 3))
    cur.execute(q(f"UPDATE {table} SET {pos} = ? WHERE {pos} = ?", pg), (3, 20))
    cur.execute(q(f"UPDATE {table} SET {pos} = ? WHERE {pos} = ?", pg), (20, -3))


CASES = [
    (forge_at_end, 26, "unchained", "#26 is not in the log's tree: no append wrote it (a row put in behind the log's back)"),
    (forge_at_start, 0, "unchained", "#0 is not in the log's tree: no append wrote it (a row put in behind the log's back)"),
    (insert_at(7), 7, "inserted", "#7 was inserted and the events after it moved up one place (#8..#25 hold the events the log's tree has one place earlier)"),
    (insert_at(1), 1, "inserted", "#1 was inserted and the events after it moved up one place (#2..#25 hold the events the log's tree has one place earlier)"),
    (edit, 7, "altered", "#7 was altered: the stored event differs from the one in the log's tree"),
    (delete, 7, "deleted", "#7 was deleted: the log's tree has its leaf, the log has no row there"),
    (delete_last, 25, "deleted", "#25 was deleted: the log's tree has its leaf, the log has no row there"),
    (delete_and_close_the_gap, 7, "deleted", "#7 was deleted and the events after it moved down one place (#7..#24 hold the events the log's tree has one place later)"),
    (swap, 7, "moved", "#7 was moved: it swapped places with #8"),
    (swap_far, 3, "moved", "#3 was moved: it swapped places with #20"),
]  # fmt: skip


@pytest.mark.parametrize(("tamper", "position", "kind", "message"), CASES, ids=[c[0].__name__ for c in CASES])
def test_tampering_is_found_at_its_position(run: Cli, tamper: Tamper, position: int, kind: str, message: str) -> None:
    run.import_seed()
    before = run.json("verify")
    assert before["ok"] is True and before["checked"] == 25 and before["problem"] is None
    run_sql(run.target, tamper)
    result = run("verify", "--full", "--json", ok=False)
    assert result.exit_code == 1
    verdict = json.loads(result.stdout)
    assert verdict["ok"] is False and verdict["full"] is True
    assert verdict["problems"] == [{"position": position, "kind": kind, "message": message}]
    assert result.stderr == f"Error: {message}\n"
    plain = run("verify", "--full", ok=False)
    assert plain.exit_code == 1 and plain.stdout == "" and plain.stderr == f"Error: {message}\n"


def test_an_edit_as_text_is_named_not_a_crash(run: Cli) -> None:
    run.import_seed()
    run_sql(run.target, edit_as_text)
    result = run("verify", ok=False)
    why = "the stored event differs from the one in the log's tree" if run.target.startswith("postgresql") else (
        "its state is stored as text, not as bytes"
    )  # fmt: skip
    assert result.exit_code == 1 and result.stderr == f"Error: #7 was altered: {why}\n"


@pytest.mark.parametrize(
    ("statement", "why"),
    [
        ("UPDATE stored_events SET originator_id = 'not a uuid' WHERE rowid = 4", "its originator id 'not a uuid' is not a UUID"),
        ("UPDATE stored_events SET originator_id = upper(originator_id) WHERE rowid = 4", "is not written as the recorder writes it"),
        ("UPDATE stored_events SET originator_version = 'one' WHERE rowid = 4", "its version is stored as text, not as a whole number"),
        ("UPDATE stored_events SET originator_version = 1.5 WHERE rowid = 4", "its version is stored as a number, not as a whole number"),
        ("UPDATE stored_events SET topic = x'00ff' WHERE rowid = 4", "its topic is stored as bytes, not as text"),
        ("UPDATE stored_events SET state = NULL WHERE rowid = 4", "its state is stored as NULL, not as bytes"),
    ],
)  # fmt: skip
def test_any_value_sqlite_can_hold_is_named(sqlite_run: Cli, statement: str, why: str) -> None:
    sqlite_run.import_seed()
    with sqlite3.connect(sqlite_run.target) as conn:
        conn.execute(statement)
    result = sqlite_run("verify", ok=False)
    assert result.exit_code == 1 and result.stderr.startswith("Error: #4 was altered: its ") and why in result.stderr


def test_every_tamper_is_listed(run: Cli) -> None:
    run.import_seed()
    run_sql(run.target, edit)
    run_sql(run.target, delete_last)
    run_sql(run.target, forge_at_start)
    result = run("verify", "--json", ok=False)
    verdict = json.loads(result.stdout)
    assert [(p["position"], p["kind"]) for p in verdict["problems"]] == [
        (0, "unchained"),
        (7, "altered"),
        (25, "deleted"),
    ]
    assert result.stderr.endswith("(and 2 more: `timeline verify --json` lists them)\n")


def add_one(run: Cli, title: str = "Later") -> None:
    run(
        "add",
        "visit",
        "--title",
        title,
        "--occurred",
        "2024-08",
        "--visitors",
        "Z",
        "--source",
        "https://example.org/z",
    )


def test_verify_reads_only_what_came_after_the_last_check(run: Cli) -> None:
    run.import_seed()
    assert run.json("verify")["checked"] == 25
    add_one(run)
    again = run.json("verify")
    assert (again["ok"], again["full"], again["checked"], again["verified_before"]) == (True, False, 1, 25)
    assert run("verify").stdout.startswith("ok: 26 events match the log's tree (0 read now, 26 verified before")
    full = run.json("verify", "--full")
    assert (full["ok"], full["full"], full["checked"]) == (True, True, 26)
    assert run("verify", "--full").stdout.startswith("ok: 26 events match the log's tree, every one read; head #26:")
    # What came after is checked; what was verified before is counted.
    run_sql(run.target, forge_at_end)  # a copy of #25 with a new version, at #27
    found = json.loads(run("verify", "--json", ok=False).stdout)
    assert found["problems"][0]["position"] == 27 and found["problems"][0]["kind"] == "unchained"


def test_an_incremental_check_counts_the_rows_it_does_not_read(run: Cli) -> None:
    run.import_seed()
    run("verify")
    run_sql(run.target, delete)
    result = run("verify", ok=False)
    assert result.stderr == (
        "Error: the log has 24 events up to #25, fewer than the 25 verified there: `timeline verify --full` names them\n"
    )
    assert run("verify", "--full", ok=False).stderr.startswith("Error: #7 was deleted: ")


def test_a_rewritten_tree_is_caught_by_the_checkpoint_kept_and_by_an_old_head(run: Cli) -> None:
    """Edit a row and forge its whole tree to match: the tree agrees with the log again,
    but neither the checkpoint `verify` kept nor a head published before agree with it."""
    run.import_seed()
    head = run.json("state")["head"]
    run("verify")
    run_sql(run.target, edit)
    forge_tree(run.target)
    full = json.loads(run("verify", "--full", "--json", ok=False).stdout)
    assert [p["kind"] for p in full["problems"]] == ["rewritten"]  # every row matches the forged tree
    result = run("verify", ok=False)
    assert result.stderr.startswith("Error: the log's tree of 25 events no longer has the root verified on ")
    assert result.stderr.endswith(": history was rewritten\n")
    # Without the kept checkpoint, a head published before still catches it.
    run_sql(run.target, lambda cur, table, pos, pg: cur.execute("DELETE FROM timeline_tree_verified"))
    assert run.json("verify", "--full")["ok"] is True
    old = run("verify", "--expect-head", f"#{head['size']}:{head['hash']}", ok=False)
    assert old.stderr.startswith("Error: the log's tree at size 25 has root ") and old.stderr.endswith(
        f", not {head['hash']}: history was rewritten\n"
    )


def forge_tree(target: str) -> None:
    """Throw the tree away and store one over the log as it is now, as a forger would."""
    from timeline.proof import merkle
    from timeline.proof.leaf import stored_leaf
    from timeline.proof.rows import iter_rows

    app = Timeline.open(config.resolve(target))
    try:
        tree = TreeSql.for_recorder(app.recorder)
        with tree.sql.transaction(commit=True) as c:
            tree.sql.execute(c, f"DELETE FROM {tree.leaves}")
            tree.sql.execute(c, f"DELETE FROM {tree.nodes}")
            rows = list(iter_rows(c, tree))
            hashes = []
            for r in rows:
                data = stored_leaf(r.position, r.originator_id, r.version, r.topic, r.state)
                assert isinstance(data, bytes)
                hashes.append(merkle.leaf_hash(data))
            tree.write(c, 0, [r.position for r in rows], hashes)
    finally:
        app.close()


def test_an_untouched_log_keeps_its_published_heads(run: Cli) -> None:
    from timeline.audit.replay import reader_as_of

    run.import_seed()
    head = run.json("state")["head"]
    assert head["size"] == head["position"] == 25
    app = Timeline.open(config.resolve(run.target))
    try:
        with reader_as_of(app, "#10") as reader:
            old = reader.head()  # the head a subscriber kept at #10
    finally:
        app.close()
    assert old is not None and old["size"] == 10
    add_one(run)
    assert run.json("verify", "--expect-head", f"#{old['size']}:{old['hash']}")["ok"] is True
    assert run.json("verify", "--expect-head", f"#{head['size']}:{head['hash']}")["ok"] is True
    wrong = run("verify", "--expect-head", f"#10:{'0' * 64}", ok=False)
    assert wrong.exit_code == 1 and wrong.stderr.endswith(f", not {'0' * 64}: history was rewritten\n")
    beyond = run("verify", "--expect-head", f"#40:{head['hash']}", ok=False)
    assert beyond.stderr == "Error: the log's tree ends at size 26, before the expected head #40\n"


@pytest.mark.parametrize("text", ["", " ", "#25", "25:" + "0" * 64, "#25:" + "0" * 63])
def test_a_head_that_is_not_one_is_refused(sqlite_run: Cli, text: str) -> None:
    result = sqlite_run("verify", "--expect-head", text, ok=False)
    assert result.exit_code == 2 and result.stderr == (
        f"Error: {text!r} is not a head '#N:HEX' (N the log's size, HEX its tree's root in 64 hex digits)\n"
    )


def test_no_read_command_extends_the_tree(run: Cli) -> None:
    run.import_seed()
    run_sql(run.target, forge_at_end)
    for args in (["verify"], ["verify", "--full"], ["state"], ["show"], ["log"]):
        run(*args, ok=args[0] == "log")  # the views refuse to show #26 (`timeline.views.proven`)
    app = Timeline.open(config.resolve(run.target))
    try:
        tree = TreeSql.for_recorder(app.recorder)
        with tree.sql.transaction(commit=False) as c:
            assert tree.sql.scalar(c, f"SELECT COUNT(*) FROM {tree.sql.table(LEAVES)}") == 25
            assert tree.sql.scalar(c, f"SELECT COUNT(*) FROM {tree.sql.table(NODES)}") == 25 - 3
    finally:
        app.close()
    assert run("verify", ok=False).stderr.startswith("Error: #26 is not in the log's tree")


def test_verify_on_an_empty_log(run: Cli) -> None:
    run("import", "-", input="")  # creates the database, stores nothing
    verdict = run.json("verify")
    assert (verdict["ok"], verdict["checked"], verdict["head"], verdict["problems"]) == (True, 0, None, [])
    assert run("verify").stdout == "ok: the log is empty\n"


@pytest.mark.parametrize("tamper", [edit, forge_at_end, delete], ids=["edit", "forge", "delete"])
def test_rebuild_refuses_a_tampered_log_and_changes_nothing(run: Cli, tamper: Tamper) -> None:
    run.import_seed()
    shown = run("show").stdout
    run_sql(run.target, tamper)
    problem = json.loads(run("verify", "--full", "--json", ok=False).stdout)["problem"]
    result = run("rebuild", ok=False)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == (
        f"Error: the views were not rebuilt: the log does not match its tree: {problem['message']}"
        " (`timeline verify` lists every problem)\n"
    )
    if tamper is forge_at_end:  # the views are as they were, and do not show the forged row
        assert run("show", ok=False).stderr.startswith("Error: the views stop at #25: #26 is not in the log's tree")
    else:
        assert run("show").stdout == shown  # the views are as they were
    assert run("verify", "--full", ok=False).stderr == f"Error: {problem['message']}\n"  # nothing re-chained


def test_rebuild_of_a_sound_log(run: Cli) -> None:
    run.import_seed()
    shown = run("show").stdout
    assert run("rebuild").stderr == "rebuilt the views from 25 events\n"
    assert run("show").stdout == shown


@pytest.mark.parametrize(
    ("statement", "position", "message"),
    [
        ("INSERT INTO timeline_tree_nodes (level, idx, hash) VALUES (1, 12, ?)", 0, "the log's tree holds nodes no append made"),
        ("UPDATE timeline_tree_nodes SET hash = ? WHERE level = 2 AND idx = 1", 8, "the log's tree has a node that does not match its leaves at level 2, index 1"),
        ("DELETE FROM timeline_tree_nodes WHERE level = 3 AND idx = 0 AND hash <> ?", 8, "the log's tree has no node at level 3, index 0"),
        ("UPDATE timeline_tree_leaves SET hash = ? WHERE idx = 4", 5, "#5 was altered: the stored event differs from the one in the log's tree"),
        ("DELETE FROM timeline_tree_leaves WHERE idx = 4 AND hash <> ?", 6, "the log's tree lost leaves 4..4 (before #6)"),
    ],
    ids=["extra-node", "changed-node", "missing-node", "changed-leaf", "missing-leaf"],
)  # fmt: skip
def test_a_damaged_tree_is_named(run: Cli, statement: str, position: int, message: str) -> None:
    run.import_seed()
    run_sql(run.target, lambda cur, table, pos, pg: cur.execute(q(statement, pg), (bytes(32),)))
    verdict = json.loads(run("verify", "--full", "--json", ok=False).stdout)
    kind = "altered" if message.startswith("#") else "tree"
    assert {"position": position, "kind": kind, "message": message} in verdict["problems"]


def test_an_append_after_the_last_row_was_deleted(run: Cli) -> None:
    """SQLite would hand the deleted row's position to the next event: the append is
    refused, since the tree already has a leaf there. PostgreSQL moves on to #26."""
    run.import_seed()
    run_sql(run.target, delete_last)
    if run.target.startswith("postgresql://"):
        add_one(run)
        problems = json.loads(run("verify", "--json", ok=False).stdout)["problems"]
        assert [(p["position"], p["kind"]) for p in problems] == [(25, "deleted")]
        return
    result = run("add", "visit", "--title", "Later", "--occurred", "2024-08", "--visitors", "Z",
                 "--source", "https://example.org/z", ok=False)  # fmt: skip
    assert result.exit_code == 1 and result.stderr == (
        "Error: cannot append at #25: the log's tree already ends at #25 (a stored event was removed);"
        " `timeline verify` says what changed\n"
    )
    assert len(run("log", "--json").stdout.splitlines()) == 24

"""A SQLite database another process keeps locked: the command waits its lock timeout
(TIMELINE_LOCK_TIMEOUT, 10 s by default), then says so in one line and writes nothing.
A write transaction takes the write lock at its BEGIN, so it waits for it instead of
failing at its first write when another writer committed after it began reading; a
command that only reads views already up to date never waits for a writer."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from tests.conftest import Cli
from timeline import config
from timeline.app import Timeline
from timeline.store import Sql

ADD = ["add", "visit", "--title", "Locked out", "--occurred", "2024", "--visitors", "A", "--source", "https://e.org"]


@pytest.mark.parametrize("command", [ADD, ["show"]], ids=["add", "show"])
def test_a_lock_held_too_long_is_one_line(sqlite_run: Cli, monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    sqlite_run.import_seed()
    sqlite_run("add", "visit", "--title", "Behind the views", "--occurred", "2024", "--visitors", "A",
               "--source", "https://e.org/2")  # fmt: skip
    monkeypatch.setenv("TIMELINE_LOCK_TIMEOUT", "1")
    holder = sqlite3.connect(sqlite_run.target, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = sqlite_run(*command, ok=False)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: database {sqlite_run.target}: another process held the database's lock (waited up to 1 s for it);"
        " run the command again\n"
    )
    assert sqlite_run.json("state")["position"] == 26
    assert sqlite_run(*command).exit_code == 0


def test_a_bad_lock_timeout_is_refused(sqlite_run: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    sqlite_run.import_seed()
    monkeypatch.setenv("TIMELINE_LOCK_TIMEOUT", "soon")
    result = sqlite_run("show", ok=False)
    assert result.stderr == "Error: TIMELINE_LOCK_TIMEOUT must be a whole number of seconds, not 'soon'\n"


def test_a_write_transaction_that_reads_first_holds_the_lock_from_its_begin(sqlite_run: Cli) -> None:
    """With the library's deferred BEGIN, another process could commit between this
    transaction's read and its write, and the write then failed at once ("database is
    locked", no waiting): eight adders and importers met it beside a `show`."""
    sqlite_run.import_seed()
    app = Timeline.open(config.resolve(sqlite_run.target))
    other = sqlite3.connect(sqlite_run.target, isolation_level=None, timeout=0.2)
    try:
        sql = Sql.for_recorder(app.recorder)
        with sql.transaction(commit=True) as c:
            sql.rows(c, "SELECT COUNT(*) AS n FROM sqlite_master")
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("CREATE TABLE written_meanwhile (x)")
            sql.execute(c, "CREATE TABLE written_here (x)")
    finally:
        other.close()
        app.close()
    tables = sqlite3.connect(sqlite_run.target).execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    names = {row[0] for row in tables}
    assert "written_here" in names and "written_meanwhile" not in names


def test_reading_current_views_never_waits_for_a_writer(sqlite_run: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    sqlite_run.import_seed()
    shown = sqlite_run.json("show")
    monkeypatch.setenv("TIMELINE_LOCK_TIMEOUT", "1")
    holder = sqlite3.connect(sqlite_run.target, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        assert sqlite_run.json("show") == shown
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _holding_the_lock(run: Cli) -> Any:
    holder = sqlite3.connect(run.target, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


LOCKED = "another process held the database's lock (waited up to 1 s for it); run the command again\n"


@pytest.mark.parametrize(
    "command",
    [["show"], ["config", "set", "date-order", "dmy"], ["rebuild"]],
    ids=["show-behind", "config-set", "rebuild"],
)
def test_a_write_that_waited_at_its_begin_is_one_line(
    sqlite_run: Cli, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    """The lock is taken at BEGIN, outside the library's wrapping of the transaction's body:
    its timeout must still be the one line, never a traceback."""
    sqlite_run.import_seed()
    sqlite_run("show")
    sqlite_run("add", "visit", "--title", "Behind the views", "--occurred", "2024", "--visitors", "A",
               "--source", "https://e.org/2")  # fmt: skip
    monkeypatch.setenv("TIMELINE_LOCK_TIMEOUT", "1")
    holder = _holding_the_lock(sqlite_run)
    try:
        result = sqlite_run(*command, ok=False)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 1, result.stderr
    assert result.stderr.startswith("Error: ") and result.stderr.endswith(LOCKED) and result.stderr.count("\n") == 1


def test_verify_and_an_import_with_nothing_new_need_no_write_lock(
    sqlite_run: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqlite_run.import_seed()
    monkeypatch.setenv("TIMELINE_LOCK_TIMEOUT", "1")
    holder = _holding_the_lock(sqlite_run)
    try:
        verified = sqlite_run("verify", ok=False)
        again = sqlite_run.import_seed()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert verified.exit_code == 0, verified.stderr
    assert again.exit_code == 0 and "0 new" in again.stderr, again.stderr

"""A SQLite database another process keeps locked: the command waits its lock timeout
(TIMELINE_LOCK_TIMEOUT, 10 s by default), then says so in one line and writes nothing."""

from __future__ import annotations

import sqlite3

import pytest

from tests.conftest import Cli

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
        f"Error: database {sqlite_run.target}: another process kept the database locked for more than 1 s;"
        " run the command again\n"
    )
    assert sqlite_run.json("state")["position"] == 26
    assert sqlite_run(*command).exit_code == 0


def test_a_bad_lock_timeout_is_refused(sqlite_run: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    sqlite_run.import_seed()
    monkeypatch.setenv("TIMELINE_LOCK_TIMEOUT", "soon")
    result = sqlite_run("show", ok=False)
    assert result.stderr == "Error: TIMELINE_LOCK_TIMEOUT must be a whole number of seconds, not 'soon'\n"

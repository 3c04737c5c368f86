"""A command that must read what is already recorded, given a database path where there is
none (a typo), refuses in one line and creates no file. Every command of the CLI is listed
here, so that a new one must say which it is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from timeline.cli import cli

SRC = "https://example.org/1"
PLEDGE = ["--title", "T", "--occurred", "2024", "--donor", "A", "--recipient", "B", "--amount", "USD 5",
          "--source", SRC]  # fmt: skip

# Each command that reads the log, the views or a setting, with arguments it would accept.
READS: dict[str, list[str]] = {
    "correct": ["abc123", "--set", "title=x", "--reason", "r"],
    "retract": ["abc123", "--reason", "r"],
    "source": ["abc123", SRC],
    "show": ["abc123"],
    "topics": [],
    "actors": [],
    "state": [],
    "rebuild": [],
    "log": ["--from", "#1"],
    "feeds build": ["--out", "out"],
    "feeds config show": [],
    "feeds config unset": ["title"],
    "serve": ["--out", "out"],
    "replay": ["--as-of", "#1"],
    "history": ["abc123"],
    "diff": ["#1", "#2"],
    "verify": [],
    "config show": [],
    "config unset": ["date-order"],
    "keys init": ["--file", "k.key"],
    "keys show": [],
    "checkpoint": [],
    "prove": ["--from", "1"],
    "export": ["--format", "csv"],
    "actor alias": ["Someone", "Else"],
    "actor role": ["Someone", "minister", "--from", "2024"],
    "actor merge": ["Someone", "Else", "--reason", "r"],
    "actor split": ["Someone", "--reason", "r"],
    "search": ["aid"],
}
# Commands that may create the database but read an existing development first.
READS_ALTHOUGH_CREATING = {"by short id": ["add", "pledge", "--part-of", "abc123", *PLEDGE],
                           "by key": ["add", "pledge", "--part-of", "some/package", *PLEDGE]}  # fmt: skip
# Commands that may create the database (the first write to a new log), and those that
# never open one.
CREATE = {"add visit", "add pledge", "add statement", "add agreement", "import", "config set", "feeds config set",
          "actor add", "actor import"}  # fmt: skip
NO_DATABASE = {"check", "witness"}


def _leaves(group: click.Command, path: tuple[str, ...] = ()) -> list[str]:
    commands = getattr(group, "commands", None)
    if not commands:
        return [" ".join(path)]
    return [leaf for name, c in commands.items() for leaf in _leaves(c, (*path, name))]


def test_every_command_is_listed() -> None:
    assert sorted(_leaves(cli)) == sorted({*READS, *CREATE, *NO_DATABASE})


@pytest.mark.parametrize("command", READS)
def test_a_command_that_reads_refuses_a_missing_database_and_creates_nothing(
    tmp_path: Path, monkeypatch: Any, command: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["--db", "typo.db", *command.split(), *READS[command]], catch_exceptions=False)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", "Error: no timeline database at typo.db\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", READS_ALTHOUGH_CREATING.values(), ids=READS_ALTHOUGH_CREATING)
def test_an_add_naming_a_package_refuses_a_missing_database_and_creates_nothing(
    tmp_path: Path, monkeypatch: Any, args: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["--db", "typo.db", *args], catch_exceptions=False)
    package = args[args.index("--part-of") + 1]
    expected = f"Error: part_of: no package {package!r} is recorded; record the package pledge first\n"
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == []

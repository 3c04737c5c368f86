"""`actor add` and `actor import` may create the database, but a refusal creates nothing:
the input is checked against the empty registry before the database is opened."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from timeline.cli import cli

REFUSED = {
    "bad wikidata": (
        ["actor", "add", "Someone", "--wikidata", "bad"],
        2,
        "Error: wikidata: 'bad' is not a Wikidata item id (Q followed by digits, e.g. Q11488370)\n",
    ),
    "term without a role": (
        ["actor", "add", "Someone", "--from", "2024"],
        2,
        "Error: role: --from and --to give the term of a --role\n",
    ),
    "bad registry line": (
        ["actor", "import", "actors.jsonl"],
        1,
        "Error: line 2: wikidata: 'bad' is not a Wikidata item id (Q followed by digits, e.g. Q11488370);"
        " nothing was imported\n",
    ),
    "alias of no actor": (
        ["actor", "import", "alias.jsonl"],
        1,
        "Error: line 1: no actor 'Nobody' in the registry (add it with `timeline actor add`); nothing was imported\n",
    ),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_refused_registry_command_creates_no_database(tmp_path: Path, monkeypatch: Any, case: str) -> None:
    monkeypatch.chdir(tmp_path)
    Path("actors.jsonl").write_text('{"op": "actor", "name": "A"}\n{"op": "actor", "name": "B", "wikidata": "bad"}\n')
    Path("alias.jsonl").write_text('{"op": "alias", "actor": "Nobody", "name": "N"}\n')
    args, code, stderr = REFUSED[case]
    result = CliRunner().invoke(cli, ["--db", "new.db", *args], catch_exceptions=False)
    assert (result.exit_code, result.stdout, result.stderr) == (code, "", stderr)
    assert not Path("new.db").exists()


def test_an_accepted_registry_command_creates_the_database(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    Path("actors.jsonl").write_text('{"op": "actor", "name": "A"}\n{"op": "alias", "actor": "A", "name": "Ay"}\n')
    r = CliRunner().invoke(cli, ["--db", "one.db", "actor", "import", "actors.jsonl"], catch_exceptions=False)
    assert (r.exit_code, r.stderr) == (0, "1 new actors, 1 changed, 0 already so (2 lines)\n")
    r = CliRunner().invoke(cli, ["--db", "two.db", "actor", "add", "B", "--alias", "Bee"], catch_exceptions=False)
    assert r.exit_code == 0
    for db, names in (("one.db", {"A": ["Ay"]}), ("two.db", {"B": ["Bee"]})):
        listed = CliRunner().invoke(cli, ["--db", db, "actors", "--json"], catch_exceptions=False)
        assert {row["name"]: row["aliases"] for row in json.loads(listed.stdout)} == names

"""`import` may create the database, but a refused one writes nothing: where there is no log
yet, every line is checked (against an empty log) before the database is opened, so no
SQLite file is created and no table is made in a PostgreSQL schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli, pg_connect

GOOD = {"kind": "agreement", "title": "T", "occurred": "2024", "parties": ["A"], "subject": "S",
        "sources": ["https://example.org/1"]}  # fmt: skip
REFUSED = {
    "a field missing": ([GOOD, {**GOOD, "title": "U", "subject": ""}], "line 2: required for an agreement: subject"),
    "malformed JSON": ([GOOD, "{"], "line 2: malformed JSON"),
    "a change of nothing": ([GOOD, {"op": "retract", "id": "nothing/here", "reason": "r"}],
                            "line 2: id: no development 'nothing/here' in the log or earlier in this file"),
    "a part of no package": ([{"kind": "pledge", "title": "P", "occurred": "2024", "donor": "A", "recipient": "B",
                               "amount": "USD 5", "part_of": "no/package", "sources": ["https://example.org/2"]}],
                             "line 1: part_of: no package 'no/package' is recorded"),
}  # fmt: skip
# Both reading conventions given: nothing asks the database for its stored ones. Without
# them, `read_by_conventions` asks `Session.exists()` first, which looks without opening.
CONVENTIONS = ["--date-order", "dmy", "--decimal-mark", "point"]


def _write(path: Path, lines: list[object]) -> str:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return str(path)


def _nothing_there(target: str) -> bool:
    if not target.startswith("postgresql://"):
        return not Path(target).exists()
    schema = target.partition("?schema=")[2]
    with pg_connect(target) as conn:
        tables = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,))
        return not tables.fetchall()


@pytest.mark.parametrize("case", REFUSED)
def test_a_refused_import_where_there_is_no_log_writes_nothing(run: Cli, tmp_path: Path, case: str) -> None:
    lines, message = REFUSED[case]
    result = run("import", *CONVENTIONS, _write(tmp_path / "in.jsonl", lines), ok=False)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.startswith(f"Error: {message}") and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.endswith("nothing was imported\n")
    assert _nothing_there(run.target)
    # The same file, made good, creates the log and stores it.
    result = run("import", _write(tmp_path / "good.jsonl", [GOOD]))
    assert result.stderr.startswith("1 new, 0 already there")
    assert not _nothing_there(run.target)


def test_a_refused_import_without_options_writes_nothing(run: Cli, tmp_path: Path) -> None:
    result = run("import", _write(tmp_path / "in.jsonl", [GOOD, "{"]), ok=False)
    assert (result.exit_code, result.stdout) == (1, "")
    assert _nothing_there(run.target)


def test_an_import_into_a_log_that_is_there_checks_against_it(run: Cli, tmp_path: Path) -> None:
    """The other side: with a log there, lines are checked against what it holds."""
    run("import", _write(tmp_path / "first.jsonl", [GOOD]))
    result = run("import", _write(tmp_path / "again.jsonl", [GOOD, {"op": "retract", "id": "nothing/here",
                                                                       "reason": "r"}]), ok=False)  # fmt: skip
    assert result.stderr.startswith("Error: line 2: id: no development 'nothing/here'")
    assert run("import", str(tmp_path / "first.jsonl")).stderr.startswith("0 new, 1 already there")

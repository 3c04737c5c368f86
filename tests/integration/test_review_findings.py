"""Regressions found in review: each once broke the views or gave a traceback."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import Cli


def test_two_spellings_of_one_actor_do_not_break_the_views(run: Cli) -> None:
    run(*"add visit --title V --occurred 2024-07-06 --visitors".split(), "Hun Manet", "--actors", "Hun  Manet",
        "--source", "https://a.example/1")  # fmt: skip
    run("add", "statement", "--title", "S", "--occurred", "2024", "--speaker", "JAPAN", "--quote", "q",
        "--source", "https://a.example/2")  # fmt: skip
    run.json("show")
    run("add", "statement", "--title", "S2", "--occurred", "2024", "--speaker", "Japan", "--quote", "q",
        "--source", "https://a.example/3")  # fmt: skip
    actors = run("actors", "--json").stdout
    slugs = [a["slug"] for a in json.loads(actors)]
    assert slugs == ["hun-manet", "japan"]
    run("rebuild")
    assert run("actors", "--json").stdout == actors  # one naming rule, whatever the batches


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"op": "correct", "id": "v", "set": "title=x", "reason": "r"}, "set: corrections are an object of FIELD: VALUE"),
        ({"kind": "pledge", "title": "P", "occurred": "2024", "donor": "A", "recipient": "B", "sources": ["https://e.org"],
          "amount": {"amount": "1e999999999", "currency": "USD"}}, 'amount: amount \'1e999999999\' is not plain digits like "8300000000" or "2.7"'),
        ({"kind": "pledge", "id": "p", "title": "P", "occurred": "2024", "donor": "A", "recipient": "B",
          "sources": ["https://e.org"], "amount": "$1", "part_of": "p"}, "part_of: a pledge cannot be part of itself"),
        ({"kind": "pledge", "title": "P", "occurred": "2024", "donor": "A", "recipient": "B", "sources": ["https://e.org"],
          "amount": "USD 99999999999999999999999999999999999999 trillion"}, "amount: 'USD 99999999999999999999999999999999999999 trillion' has more than 30 digits;"
          " at most 30 are kept exactly"),
    ],
)  # fmt: skip
def test_bad_import_lines_are_one_error(sqlite_run: Cli, line: dict[str, object], message: str) -> None:
    sqlite_run("add", "visit", "--id", "v", "--title", "V", "--occurred", "2024", "--visitors", "A",
               "--source", "https://e.org/v")  # fmt: skip
    result = sqlite_run("import", "-", input=json.dumps(line) + "\n", ok=False)
    assert result.exit_code == 1 and result.stderr == f"Error: line 1: {message}; nothing was imported\n"
    assert len(sqlite_run("log", "--json").stdout.splitlines()) == 1


def test_a_file_that_is_not_utf8(sqlite_run: Cli, tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b"\xff\n")
    result = sqlite_run("import", str(path), ok=False)
    assert result.stderr == "Error: line 1: not UTF-8 text; nothing was imported\n"


def test_a_time_without_a_date_is_refused(sqlite_run: Cli) -> None:
    sqlite_run.import_seed()
    result = sqlite_run("replay", "--as-of", "10:00", ok=False)
    assert result.exit_code == 2  # a WHEN that cannot be read: a usage error
    assert result.stderr == (
        "Error: '10:00' is neither a log position #N nor a time; write e.g. '#12', '2024-07-07 10:00' or '7 July 2024'\n"
    )


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (
            "03/04/2024",
            "'03/04/2024' is ambiguous (day/month or month/day); write 2024-04-03 or '3 April 2024',"
            " or set a date order (--date-order dmy|mdy, or timeline config set date-order)",
        ),
        (
            "2024-07",
            "'2024-07' is neither a log position #N nor a time; write e.g. '#12', '2024-07-07 10:00' or '7 July 2024'",
        ),
    ],
)
def test_a_recorded_time_is_read_exactly_or_refused(sqlite_run: Cli, when: str, message: str) -> None:
    # dateutil alone read "03/04/2024" as 4 March without a word, and "2024-07" as 1 July.
    sqlite_run.import_seed()
    result = sqlite_run("replay", "--as-of", when, ok=False)
    assert (result.exit_code, result.stderr) == (2, f"Error: {message}\n")


def test_a_recorded_time_follows_the_date_order(sqlite_run: Cli) -> None:
    sqlite_run.import_seed()
    last = json.loads(sqlite_run("log", "--json").stdout.splitlines()[-1])["recorded"]
    day = datetime.fromisoformat(last).date() + timedelta(days=1)
    dmy = sqlite_run("replay", "--as-of", day.strftime("%d/%m/%Y"), "--date-order", "dmy", "--json")
    assert len(json.loads(dmy.stdout)) == len(sqlite_run.json("show"))
    # The exact time `log --json` prints is a point too: everything up to that event.
    assert len(json.loads(sqlite_run("replay", "--as-of", last, "--json").stdout)) == len(sqlite_run.json("show"))

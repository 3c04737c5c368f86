"""The store and the appending commands, on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SEED, Cli
from timeline import config

PLEDGE = [
    "add", "pledge", "--title", "Japan pledges ODA", "--occurred", "July 6, 2024", "--donor", "Japan",
    "--recipient", "Cambodia", "--amount", "8bn yen", "--instrument", "ODA", "--equivalents", "about $50 million",
    "--source", "https://example.org/a", "--publisher", "Example News", "--topics", "aid", "--topics", "energy",
]  # fmt: skip


def log_count(run: Cli) -> int:
    return len(run("log", "--json").stdout.splitlines())


def test_add_prints_the_id_and_a_repeat_adds_nothing(run: Cli) -> None:
    first = run(*PLEDGE)
    dev_id = first.stdout.strip()
    assert len(dev_id) == 36
    again = run(*PLEDGE)
    assert again.stdout.strip() == dev_id
    assert again.stderr == f"already there: {dev_id} was recorded before; nothing added\n"
    assert log_count(run) == 1
    doc = run.json("show", dev_id)
    assert doc["fields"]["amount"] == {"amount": "8000000000", "currency": "JPY"}
    assert doc["fields"]["equivalents"] == [{"amount": "50000000", "currency": "USD", "approximate": True}]
    assert doc["fields"]["sources"] == [{"url": "https://example.org/a", "publisher": "Example News"}]
    assert doc["occurred"] == "2024-07-06" and doc["precision"] == "day"


def test_same_id_with_different_fields_is_a_conflict(run: Cli) -> None:
    run(*PLEDGE, "--id", "pkg-1")
    changed = [a if a != "8bn yen" else "9bn yen" for a in PLEDGE]
    result = run(*changed, "--id", "PKG-1", ok=False)
    assert result.exit_code == 1
    dev_id = run.json("show", "pkg-1")["id"]
    assert result.stderr == f"Error: development {dev_id} is already recorded with different amount; {CORRECT}\n"
    assert log_count(run) == 1


CORRECT = 'a correction changes it (`timeline correct`, or an import line with "op": "correct")'
VISIT = {"kind": "visit", "id": "v1", "title": "A visit", "occurred": "2024-07", "visitors": ["A"],
         "sources": ["https://example.org/v"]}  # fmt: skip


def test_an_import_line_that_conflicts_is_refused_with_the_same_message(run: Cli) -> None:
    """The same rule and words as `add`, for a line that differs from the log and for one
    that differs from an earlier line of the same file."""
    run("add", "visit", "--id", "v1", "--title", "A visit", "--occurred", "2024-07", "--visitors", "A",
        "--source", "https://example.org/v")  # fmt: skip
    dev_id = run.json("show", "v1")["id"]
    other = {**VISIT, "visitors": ["B"], "occurred": "2024-07-06"}
    refused = run("import", "-", input=json.dumps(other) + "\n", ok=False)
    assert refused.exit_code == 1
    assert refused.stderr == (
        f"Error: line 1: development {dev_id} is already recorded with different occurred, visitors;"
        f" {CORRECT}; nothing was imported\n"
    )
    twice = [{**VISIT, "id": "v2"}, {**VISIT, "id": "v2", "title": "Another title"}]
    refused = run("import", "-", input="".join(json.dumps(x) + "\n" for x in twice), ok=False)
    new_id = refused.stderr.split("development ")[1].split(" ")[0]
    assert refused.stderr == (
        f"Error: line 2: development {new_id} is already recorded with different title; {CORRECT}; nothing was imported\n"
    )
    assert log_count(run) == 1


def test_import_seed_then_again_reports_existing(run: Cli) -> None:
    first = run("import", str(SEED), "--json")
    counts = json.loads(first.stdout)
    lines = sum(1 for line in SEED.read_text().splitlines() if line.strip())
    assert counts["new"] == lines >= 14 and counts["existing"] == 0
    second = json.loads(run("import", str(SEED), "--json").stdout)
    assert second["new"] == 0 and second["existing"] == lines
    assert log_count(run) == lines


def test_import_from_stdin_with_corrections_and_retractions(run: Cli, tmp_path: Path) -> None:
    lines = [
        {"kind": "visit", "id": "v1", "title": "A visit", "occurred": "2024-07", "visitors": ["A"],
         "sources": ["https://example.org/v"]},
        {"op": "correct", "id": "v1", "set": {"occurred": "6 July 2024"}, "reason": "exact day reported"},
        {"op": "source", "id": "v1", "source": {"url": "https://example.org/w", "publisher": "W"}},
        {"op": "retract", "id": "v1", "reason": "did not happen", "source": "https://example.org/x"},
    ]  # fmt: skip
    text = "\n".join(json.dumps(x) for x in lines) + "\n"
    counts = json.loads(run("import", "-", "--json", input=text).stdout)
    assert counts == {"new": 1, "existing": 0, "corrections": 1, "retractions": 1, "sources": 1, "lines": 4}
    doc = run.json("show", "v1")
    assert doc["occurred"] == "2024-07-06"
    assert doc["retracted"]["reason"] == "did not happen"
    assert [s["url"] for s in doc["fields"]["sources"]] == [
        "https://example.org/v",
        "https://example.org/w",
        "https://example.org/x",
    ]
    assert [c["changes"]["occurred"] for c in doc["corrections"]] == [{"before": "2024-07", "after": "2024-07-06"}]
    # the same file again: every line is already there, and nothing is written
    events = log_count(run)
    again = json.loads(run("import", "-", "--json", input=text).stdout)
    assert again == {"new": 0, "existing": 4, "corrections": 0, "retractions": 0, "sources": 0, "lines": 4}
    assert log_count(run) == events
    assert run("import", "-", input=text).stderr == (
        "0 new, 4 already there, 0 corrections, 0 retractions, 0 sources added (4 lines)\n"
    )
    # a different change to the retracted development is still refused
    other = text + json.dumps({"op": "correct", "id": "v1", "set": {"title": "B"}, "reason": "new"}) + "\n"
    refused = run("import", "-", input=other, ok=False)
    v1 = run.json("show", "v1")["id"]
    retracted = f"Error: line 5: development {v1} is retracted; it can no longer change; nothing was imported\n"
    assert refused.exit_code == 1 and refused.stderr == retracted
    retold = text + json.dumps({"op": "retract", "id": "v1", "reason": "another reason"}) + "\n"
    refused = run("import", "-", input=retold, ok=False)
    assert refused.stderr == retracted
    assert log_count(run) == events


def test_correct_retract_and_source_from_the_command_line(run: Cli) -> None:
    dev_id = run(*PLEDGE).stdout.strip()
    run("correct", dev_id, "--set", "amount=8.1bn yen", "--set", "purpose=Power lines", "--reason", "typo",
        "--source", "https://example.org/fix")  # fmt: skip
    run("source", dev_id, "https://example.org/more", "--publisher", "More")
    doc = run.json("show", dev_id)
    assert doc["fields"]["amount"]["amount"] == "8100000000"
    assert doc["corrections"][0]["changes"]["amount"]["before"]["amount"] == "8000000000"
    assert doc["corrections"][0]["reason"] == "typo"
    run("retract", dev_id, "--reason", "wrong story")
    listed = run.json("show")
    assert [d["id"] for d in listed] == [dev_id]  # kept, and marked
    assert listed[0]["retracted"]["reason"] == "wrong story"
    assert "[RETRACTED]" in run("show").stdout
    assert log_count(run) == 4


BAD_INPUT = [
    (["add", "rumour", "--title", "x"], "No such command 'rumour'"),
    (["add", "pledge", "--title", "x", "--occurred", "2024", "--source", "https://e.org"], "required for a pledge: donor, recipient, amount"),
    ([*PLEDGE[:5], "sometime", *PLEDGE[6:]], "occurred: cannot read 'sometime' as a date"),
    ([*PLEDGE[:11], "lots of yen", *PLEDGE[12:]], "amount: no figure in 'lots of yen'; write it like '$5 million' or '5,5 Mio. €'"),
    ([*PLEDGE[:11], "8 zorkmids", *PLEDGE[12:]], "unknown currency 'zorkmids'"),
    (["add", "visit", "--title", "x", "--occurred", "2024", "--visitors", "A", "--source", "ftp://x"], "is not an absolute http(s) URL"),
    (["correct", "no-such-development", "--set", "title=y", "--reason", "r"], "no development 'no-such-development'"),
    (["retract", "no-such-development", "--reason", "r"], "no development 'no-such-development'"),
    (["show", "no-such-development"], "no development 'no-such-development'"),
    (["show", "--from", "2025", "--to", "2024"], "is after --to"),
    (["show", "--from", "the day after"], "cannot read"),
    (["show", "--kind", "bogus"], "Invalid value for '--kind'"),
    ([*PLEDGE, "--instrument", "bogus"], "instrument: 'bogus' is not one of"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), BAD_INPUT, ids=[m[:30] for _, m in BAD_INPUT])
def test_bad_input_is_one_line_and_writes_nothing(run: Cli, args: list[str], message: str) -> None:
    run(*PLEDGE)
    result = run(*args, ok=False)
    # One rule: 2 for a command line that cannot be used as written (values included),
    # 1 for a well-formed command that cannot be done.
    assert result.exit_code == (1 if "no development" in message else 2), result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.stderr
    assert result.stdout == ""
    assert log_count(run) == 1


def test_a_file_with_one_bad_line_is_rejected_whole(run: Cli, tmp_path: Path) -> None:
    good = SEED.read_text().splitlines()
    for bad, message in [
        ("{not json", "line 4: malformed JSON"),
        (json.dumps({"kind": "pledge", "title": "t", "occurred": "2024", "sources": ["https://e.org"],
                     "donor": "A", "recipient": "B", "amount": "5 zorkmids"}), "line 4: amount: unknown currency"),
        (json.dumps({"op": "retract", "id": "nobody", "reason": "r"}), "line 4: id: no development 'nobody'"),
        (json.dumps({"op": "explode"}), "line 4: unknown op"),
    ]:  # fmt: skip
        path = tmp_path / "bad.jsonl"
        path.write_text("\n".join([*good[:3], bad, *good[3:]]) + "\n")
        result = run("import", str(path), ok=False)
        assert result.exit_code == 1
        assert result.stderr.startswith("Error: " + message), result.stderr
        assert len(result.stderr.splitlines()) == 1
        assert not config.resolve(run.target).holds_log()  # nothing written: not even an empty log


def test_a_database_that_cannot_be_opened(tmp_path: Path) -> None:
    for db, message in [
        (str(tmp_path / "missing" / "x.db"), f"folder '{tmp_path / 'missing'}' does not exist"),
        (str(tmp_path), "it is a directory"),
    ]:
        result = Cli(db)("show", ok=False)
        assert result.exit_code == 1 and result.stderr == f"Error: cannot open database '{db}': {message}\n"
    not_a_db = tmp_path / "notes.db"
    not_a_db.write_text("these are my notes, not a database\n" * 50)
    result = Cli(str(not_a_db))(*PLEDGE, ok=False)
    assert result.stderr == f"Error: cannot open database {not_a_db}: file is not a database\n"
    assert not_a_db.read_text().startswith("these are my notes")


def test_every_command_has_help(sqlite_run: Cli) -> None:
    from timeline.cli import cli

    def walk(group: object, path: list[str]) -> list[list[str]]:
        out = [path]
        for name, command in getattr(group, "commands", {}).items():
            out += walk(command, [*path, name])
        return out

    for path in walk(cli, []):
        result = sqlite_run(*path, "-h")
        assert result.exit_code == 0 and "Usage:" in result.stdout, path
        command = cli
        for name in path:
            command = command.commands[name]  # type: ignore[attr-defined]
        assert (command.help or "").strip(), f"{path} has no help text"
    assert "version" in sqlite_run("--version").stdout

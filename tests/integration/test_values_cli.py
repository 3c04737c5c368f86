"""Dates and amounts through the commands: every former misread through `add` and
`import`, the stored reading conventions, and money as people read it in text output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli
from timeline import config
from timeline.app import Timeline

SOURCE = "https://example.org/report"


def visit(occurred: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "visit", "title": f"Summit {occurred}", "occurred": occurred, "visitors": ["A"],
            "sources": [SOURCE], **extra}  # fmt: skip


def pledge(key: str, amount: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "pledge", "id": key, "title": f"Pledge {key}", "occurred": "2024-07-06", "donor": "Japan",
            "recipient": "Cambodia", "amount": amount, "sources": [SOURCE], **extra}  # fmt: skip


def import_lines(run: Cli, tmp_path: Path, *lines: dict[str, Any], args: tuple[str, ...] = (), ok: bool = True) -> Any:
    path = tmp_path / "lines.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return run("import", str(path), *args, ok=ok)


def add_visit(run: Cli, occurred: str, *args: str, ok: bool = True) -> Any:
    return run("add", "visit", "--title", f"Summit {occurred}", "--occurred", occurred, "--visitors", "A",
               "--source", SOURCE, *args, ok=ok)  # fmt: skip


MISREADS = [
    ("4-5 June 2024", "2024-06-04/2024-06-05"),
    ("June 4-5, 2024", "2024-06-04/2024-06-05"),
    ("2024-06-04/2024-06-05", "2024-06-04/2024-06-05"),
    ("2024-06-04/05", "2024-06-04/2024-06-05"),
    ("2024-06-04 10:00", "2024-06-04T10:00:00"),
]


@pytest.mark.parametrize(("written", "canonical"), MISREADS)
def test_former_date_misreads_through_add(run: Cli, written: str, canonical: str) -> None:
    dev_id = add_visit(run, written).stdout.strip()
    assert run.json("show", dev_id)["occurred"] == canonical


@pytest.mark.parametrize(("written", "canonical"), MISREADS)
def test_former_date_misreads_through_import(sqlite_run: Cli, tmp_path: Path, written: str, canonical: str) -> None:
    import_lines(sqlite_run, tmp_path, visit(written))
    assert [d["occurred"] for d in sqlite_run.json("show")] == [canonical]


def test_a_decimal_comma_through_add_and_import(sqlite_run: Cli, tmp_path: Path) -> None:
    run = sqlite_run
    run("add", "pledge", "--id", "a", "--title", "A", "--occurred", "2024", "--donor", "EU", "--recipient", "X",
        "--amount", "5,5 million euros", "--source", SOURCE)  # fmt: skip
    import_lines(run, tmp_path, pledge("b", "5,5 Mio. €"))
    amounts = [d["fields"]["amount"] for d in run.json("show", "--kind", "pledge")]
    assert amounts == [{"amount": "5500000", "currency": "EUR"}] * 2


AMBIGUOUS = (
    "Error: occurred: '03/04/2024' is ambiguous (day/month or month/day); write 2024-04-03 or '3 April 2024',"
    " or set a date order (--date-order dmy|mdy, or timeline config set date-order)\n"
)


def test_an_ambiguous_date_is_refused_by_add_and_import_and_nothing_is_written(run: Cli, tmp_path: Path) -> None:
    refused = add_visit(run, "03/04/2024", ok=False)
    assert (refused.exit_code, refused.stderr) == (2, AMBIGUOUS)  # on the command line: a usage error
    refused = import_lines(run, tmp_path, visit("03/04/2024"), ok=False)
    assert refused.exit_code == 1 and refused.stderr == (
        "Error: line 1: occurred: '03/04/2024' is ambiguous (day/month or month/day); write 2024-04-03 or"
        " '3 April 2024', or set a date order (--date-order dmy|mdy, or timeline config set date-order);"
        " nothing was imported\n"
    )
    assert not config.resolve(run.target).holds_log()  # nothing written: no log made


def test_a_date_order_given_or_stored_reads_numeric_dates(run: Cli, tmp_path: Path) -> None:
    a = add_visit(run, "03/04/2024", "--date-order", "dmy").stdout.strip()
    assert run.json("show", a)["occurred"] == "2024-04-03"
    import_lines(run, tmp_path, visit("05/06/2024"), args=("--date-order", "mdy"))
    run("config", "set", "date-order", "dmy")
    assert run.json("config", "show")["date-order"]["value"] == "dmy"
    b = add_visit(run, "07/08/2024").stdout.strip()
    assert run.json("show", b)["occurred"] == "2024-08-07"
    c = add_visit(run, "09/10/2024", "--date-order", "mdy").stdout.strip()  # the option wins
    assert run.json("show", c)["occurred"] == "2024-09-10"
    assert [d["occurred"] for d in run.json("show", "--from", "01/04/2024", "--to", "30/04/2024")] == ["2024-04-03"]
    run("config", "unset", "date-order")
    assert add_visit(run, "11/12/2024", ok=False).exit_code == 2
    bad = run("config", "set", "date-order", "ymd", ok=False)
    assert bad.stderr == "Error: date-order must be one of dmy, mdy, not 'ymd'\n"


def test_a_stored_decimal_mark_reads_the_ambiguous_amounts(sqlite_run: Cli, tmp_path: Path) -> None:
    run = sqlite_run
    refused = import_lines(run, tmp_path, pledge("a", "$1,500 million"), ok=False)
    assert refused.stderr == (
        "Error: line 1: amount: '1,500' in '$1,500 million' is ambiguous (thousands or decimals); write 1500 for"
        " thousands, 1,5000 for decimals, or set a decimal mark (--decimal-mark point|comma, or timeline config"
        " set decimal-mark); nothing was imported\n"
    )
    run("config", "set", "decimal-mark", "point")
    import_lines(run, tmp_path, pledge("a", "$1,500 million"))
    assert run.json("show", "a")["fields"]["amount"] == {"amount": "1500000000", "currency": "USD"}


def test_the_ledger_adds_bounds_as_bounds_in_text_and_json(run: Cli, tmp_path: Path) -> None:
    import_lines(
        run, tmp_path,
        pledge("pkg", "$103 million", instrument="package"),
        pledge("loan", "up to 10 billion yen", instrument="loan"),
        pledge("grant", "$5-6 million", instrument="grant"),
        pledge("part", "$104.2 million", part_of="pkg"),
    )  # fmt: skip
    state = run.json("state")
    by_currency = {r["currency"]: r for r in state["ledger"]["by_currency"]}
    assert by_currency["USD"] == {"currency": "USD", "total": None, "at_least": "108000000", "up_to": "109000000",
                                  "approximate": False}  # fmt: skip
    assert by_currency["JPY"]["at_least"] == "0" and by_currency["JPY"]["up_to"] == "10000000000"
    text = run("state").stdout
    assert "  Japan -> Cambodia: up to JPY 10 billion" in text
    assert "  Japan -> Cambodia: at least USD 108 million, up to USD 109 million" in text
    assert "  by currency: up to JPY 10 billion; at least USD 108 million, up to USD 109 million" in text
    assert (
        "  by instrument: grant: at least USD 5 million, up to USD 6 million; loan: up to JPY 10 billion; package: USD 103 million"
        in text
    )
    mismatch = "DISCREPANCY: package “Pledge pkg” reported as USD 103 million; its parts as reported add up to USD 104.2 million"
    assert text.count("DISCREPANCY") == 1 and mismatch in text
    assert "103000000" not in text


def test_history_and_diff_show_money_as_people_read_it(run: Cli, tmp_path: Path) -> None:
    import_lines(run, tmp_path, pledge("pkg", "$103 million"))
    run("correct", "pkg", "--set", "amount=$104.2 million", "--set", "occurred=4-5 June 2024", "--reason", "r")
    history = run("history", "pkg").stdout
    assert "amount: USD 103 million → USD 104.2 million" in history
    assert "occurred: 6 July 2024 → 4–5 June 2024" in history
    diff = run("diff", "#1", "#2").stdout
    assert "amount: USD 103 million → USD 104.2 million" in diff
    changes = run.json("history", "pkg")["versions"][1]["changes"]
    assert changes["amount"] == {"before": {"amount": "103000000", "currency": "USD"},
                                 "after": {"amount": "104200000", "currency": "USD"}}  # fmt: skip


def test_events_stored_before_ranges_and_bounds_replay_unchanged(target: str) -> None:
    """Stored bytes as the earlier version wrote them: dates 2024-07-06 and 1994/..,
    amounts {"amount", "currency"} with optional "approximate"."""
    app = Timeline.open(config.resolve(target))
    try:
        from events import Development, read_report

        template = Development.record(read_report(pledge("old", "$1 million"))).collect_events()[0]
        stored = app.mapper.to_stored_event(template)
        state = json.loads(stored.state)
        state["fields"] = {
            "title": "Demining aid since 1994", "occurred": "1994/..", "donor": "Japan", "recipient": "Cambodia",
            "amount": {"amount": "200000000", "currency": "USD", "approximate": True},
            "equivalents": [{"amount": "8000000000", "currency": "JPY"}],
            "sources": [{"url": SOURCE}],
        }  # fmt: skip
        old = type(stored)(stored.originator_id, stored.originator_version, stored.topic, json.dumps(state).encode())
        app.recorder.insert_events([old])
    finally:
        app.close()
    run = Cli(target)
    doc = run.json("show", "old")
    assert doc["occurred"] == "1994/.." and doc["fields"]["amount"]["approximate"] is True
    assert "about USD 200 million" in run("show", "old").stdout
    assert "since 1994" in run("show", "old").stdout
    assert "  by currency: about USD 200 million" in run("state").stdout
    before = run("show", "--json").stdout
    run("rebuild")
    assert run("show", "--json").stdout == before

"""The projection and the ledger as pure functions: no database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from events import Development, read_changes, read_report
from timeline.views.project import facets, period, project, sort_key
from timeline.views.queries import pledge_ledger

SEED = Path(__file__).resolve().parents[2] / "examples" / "japan-cambodia-2024.jsonl"


def replay(events: list[Any]) -> dict[str, Any] | None:
    doc = None
    for position, event in enumerate(events, 1):
        doc = project(doc, event, position)
    return doc


def test_a_development_through_its_life() -> None:
    report = read_report({"kind": "statement", "title": "Said", "occurred": "2024-07", "speaker": "Hun Manet",
                          "quote": "Hello", "topics": ["diplomacy"], "sources": ["https://e.org/1"]})  # fmt: skip
    dev = Development.record(report)
    dev.correct(read_changes("statement", {"occurred": "2024-07-06", "topics": ["diplomacy", "aid"]}), "exact day")
    dev.add_source("https://e.org/2")
    dev.retract("misattributed", "https://e.org/3")
    events = dev.collect_events()
    first = replay(events[:1])
    assert first is not None
    assert (first["occurred"], first["precision"], first["actors"]) == ("2024-07", "month", ["Hun Manet"])
    assert facets(first) == {("topic", "diplomacy", "diplomacy"), ("actor", "hun-manet", "Hun Manet")}
    doc = replay(events)
    assert doc is not None
    assert doc["version"] == 4 and doc["first_position"] == 1 and doc["last_position"] == 4
    assert doc["occurred"] == "2024-07-06" and doc["topics"] == ["diplomacy", "aid"]
    assert doc["corrections"][0]["changes"]["occurred"] == {"before": "2024-07", "after": "2024-07-06"}
    assert doc["retracted"]["reason"] == "misattributed"
    assert [s["url"] for s in doc["fields"]["sources"]] == ["https://e.org/1", "https://e.org/2", "https://e.org/3"]
    assert doc["recorded"] < doc["updated"] or doc["recorded"] == doc["updated"]
    # the same events give the same document every time
    assert json.dumps(replay(events), sort_keys=True) == json.dumps(doc, sort_keys=True)


def test_an_event_for_an_unknown_development_is_refused() -> None:
    dev = Development.record(read_report({"kind": "visit", "title": "V", "occurred": "2024", "visitors": ["A"],
                                          "sources": ["https://e.org"]}))  # fmt: skip
    dev.retract("no")
    with pytest.raises(ValueError, match="unknown development"):
        project(None, dev.collect_events()[1], 2)


@pytest.mark.parametrize(
    ("occurred", "key", "span"),
    [("2024", "2024", ("2024-01-01", "2024-12-31")), ("2024-02", "2024-02", ("2024-02-01", "2024-02-29")),
     ("1994/..", "1994", ("1994-01-01", "9999-12-31")), ("../2024-07", "2024-07", ("0000-01-01", "2024-07-31"))],
)  # fmt: skip
def test_sort_key_and_period_keep_precision(occurred: str, key: str, span: tuple[str, str]) -> None:
    doc = {"occurred": occurred}
    assert sort_key(doc) == key and period(doc) == span


def test_the_seed_ledger_shows_the_package_discrepancy() -> None:
    docs = []
    for position, line in enumerate(SEED.read_text().splitlines(), 1):
        dev = Development.record(read_report(json.loads(line)))
        docs.append(project(None, dev.collect_events()[0], position))
    ledger = pledge_ledger(docs)
    (package,) = ledger["packages"]
    assert (package["reported"]["amount"], package["parts_total"]["total"], package["difference"]) == (
        "103000000",
        "104200000",
        "1200000",
    )
    assert package["approximate"] is True  # the ODA part's dollar figure was "approximately"
    assert ledger["discrepancies"][0]["kind"] == "package-parts-mismatch"
    by_currency = {r["currency"]: (r["total"], r["approximate"]) for r in ledger["by_currency"]}
    assert by_currency == {"USD": ("303000000", True)}  # the package once, and "about $200M" since 1994

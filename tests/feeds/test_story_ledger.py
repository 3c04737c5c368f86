"""The story's ledger on the pages is read from the views sorted, a pair at a time
(`feeds.ledger_page`), and gives what the ledger held whole gives: the same rows, chart,
trimmed tables and page, on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from events.ledger import pair_totals
from feeds.ledger_chart import ledger_svg, ledger_svg_chunks
from feeds.ledger_page import StoryLedger, ledger_pledge, trim_ledger
from feeds.page import ledger_of
from tests.feeds.conftest import snapshot

# Names whose order differs by code point, by case and by locale ("Ō" sorts after "z" by
# code point, beside "O" in most locales): the views must sort them as Python does.
DONORS = ["Ōsaka Fund", "alpha trust", "Zeta Bank", "Osaka Fund", "zeta bank", "Ärzte Hilfe"]


def add_pledges(run: Any) -> None:
    run.import_seed()
    for i, donor in enumerate(DONORS):
        for recipient, amount in (("Cambodia", f"${i + 1} million"), ("Laos", f"up to {i + 2}bn yen")):
            run("add", "pledge", "--title", f"Pledge {i} to {recipient}", "--occurred", f"2024-0{i % 9 + 1}-02",
                "--donor", donor, "--recipient", recipient, "--amount", amount, "--source", f"https://x.example/{i}")  # fmt: skip
    # The same pair again, in another currency and as an approximate figure: added to its row.
    run("add", "pledge", "--title", "Again", "--occurred", "2023-01-01", "--donor", "Zeta Bank", "--recipient",
        "Cambodia", "--amount", "about €3 million", "--source", "https://x.example/again")  # fmt: skip
    run("add", "pledge", "--title", "Again, dollars", "--occurred", "2025-01-01", "--donor", "Zeta Bank",
        "--recipient", "Cambodia", "--amount", "$4 million", "--source", "https://x.example/again2")  # fmt: skip
    retracted = run.json("add", "pledge", "--title", "Withdrawn", "--occurred", "2024-05-05", "--donor", "Zeta Bank",
                         "--recipient", "Laos", "--amount", "$9 million", "--source", "https://x.example/w")  # fmt: skip
    run("retract", retracted["id"], "--reason", "withdrawn")


@contextmanager
def whole_and_streamed(run: Any) -> Iterator[tuple[dict[str, Any], StoryLedger]]:
    from timeline import config
    from timeline.app import Timeline
    from timeline.reading import Filter, Reader

    app = Timeline.open(config.resolve(run.target))
    try:
        reader = Reader.live(app)
        whole = ledger_of(reader.iter_timeline(Filter(kind="pledge")))
        story = StoryLedger.of(reader, reader.iter_timeline(Filter(kind="pledge")))
        assert whole is not None and story is not None
        yield whole, story
    finally:
        app.close()


def test_the_streamed_story_ledger_is_the_ledger_held_whole(run: Any) -> None:
    add_pledges(run)
    with whole_and_streamed(run) as (whole, story):
        check_the_same(whole, story)


def check_the_same(whole: dict[str, Any], story: StoryLedger) -> None:
    assert whole["packages"] and whole["discrepancies"]  # the seed's packages and their parts
    assert {r["donor"] for r in whole["by_donor_recipient"]} >= set(DONORS)
    assert story.summary == {**whole, "by_donor_recipient": []}
    assert list(story.pairs()) == whole["by_donor_recipient"]
    by_currency = sorted(whole["by_donor_recipient"], key=lambda r: (r["currency"], r["donor"], r["recipient"]))
    assert list(story.pairs("currency")) == by_currency
    assert "".join(ledger_svg_chunks(story.summary, lambda: story.pairs("currency"))) == ledger_svg(whole)
    for limit in (1, 2, 10):
        shown = story.shown(limit)
        assert (shown.ledger, shown.omitted) == trim_ledger(whole, limit)
        assert shown.omitted > 0 or limit == 10
    assert story.shown().key == story.shown().key  # a digest, the same each time


def test_a_change_to_one_pair_changes_what_the_story_page_is_signed_with(run: Any) -> None:
    add_pledges(run)
    with whole_and_streamed(run) as (_, story):
        before = story.shown().key
    run("add", "pledge", "--title", "One more", "--occurred", "2024-02-02", "--donor", "alpha trust",
        "--recipient", "Cambodia", "--amount", "$1", "--source", "https://x.example/more")  # fmt: skip
    with whole_and_streamed(run) as (_, story):
        assert story.shown().key != before


def pledge(pid: str, donor: str, recipient: str, amount: str, currency: str = "USD") -> dict[str, Any]:
    return {"donor": donor, "recipient": recipient, "amount": {"amount": amount, "currency": currency}}


def test_pair_totals_add_up_each_pair_and_refuse_pledges_out_of_order() -> None:
    rows = list(pair_totals([pledge("a", "A", "B", "1"), pledge("b", "A", "B", "2"), pledge("c", "A", "C", "5")]))
    assert [(r["donor"], r["recipient"], r["at_least"]) for r in rows] == [("A", "B", "3"), ("A", "C", "5")]
    with pytest.raises(ValueError, match="not in pair order"):
        list(pair_totals([pledge("a", "B", "B", "1"), pledge("b", "A", "B", "2")]))
    with pytest.raises(ValueError, match="not in currency order"):
        list(pair_totals([pledge("a", "A", "B", "1", "USD"), pledge("b", "A", "B", "2", "EUR")], "currency"))


def test_ledger_html_and_the_story_pages_are_the_ledger_held_whole(
    sqlite_run: Any, build: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    add_pledges(sqlite_run)
    streamed = snapshot(build(sqlite_run, tmp_path / "streamed").out)

    def held_whole(reader: Any, docs: Any) -> Any:
        """The ledger as builds before held it: whole, its rows read from memory."""
        docs = list(docs)
        story = StoryLedger(reader, ledger_of(iter(docs)) or {})
        rows = story.summary["by_donor_recipient"]
        story.pairs = lambda order="pair": iter(  # type: ignore[method-assign]
            rows if order == "pair" else sorted(rows, key=lambda r: r["currency"])
        )
        return story if any(d["kind"] == "pledge" for d in docs) else None

    monkeypatch.setattr(StoryLedger, "of", staticmethod(held_whole))
    whole = snapshot(build(sqlite_run, tmp_path / "whole").out)
    signatures = ".timeline-pages.sqlite"  # the story pages are signed with a digest of the ledger instead
    assert {k: v for k, v in streamed.items() if k != signatures} == {k: v for k, v in whole.items() if k != signatures}
    assert b"\xc5\x8csaka Fund" in streamed["ledger.html"]


def test_what_the_ledger_keeps_of_a_pledge_is_what_it_reads() -> None:
    doc = {"id": "x", "title": "T", "retracted": None, "fields": {"donor": "A", "recipient": "B", "summary": "long",
           "amount": {"amount": "1", "currency": "USD"}}}  # fmt: skip
    assert ledger_pledge(doc).fields == {"donor": "A", "recipient": "B", "amount": {"amount": "1", "currency": "USD"}}


def test_a_utf16_database_gives_the_same_ledger(tmp_path: Path) -> None:
    """SQLite compares a UTF-16 file's text by its UTF-16 bytes, not by code point: the
    rows are sorted in Python there, and the ledger is the ledger held whole."""
    import sqlite3

    from tests.conftest import Cli

    path = tmp_path / "utf16.db"
    made = sqlite3.connect(path)
    made.executescript('PRAGMA encoding = "UTF-16le"; CREATE TABLE made (x); DROP TABLE made;')  # kept once written
    made.close()
    run = Cli(str(path))
    add_pledges(run)
    run("add", "pledge", "--title", "Astral", "--occurred", "2024-03-03", "--donor", "\U0001d4d0 Fund",
        "--recipient", "Ｆullwidth", "--amount", "$2 million", "--source", "https://x.example/astral")  # fmt: skip
    assert sqlite3.connect(path).execute("PRAGMA encoding").fetchone()[0] == "UTF-16le"
    with whole_and_streamed(run) as (whole, story):
        check_the_same(whole, story)


def test_the_ledger_is_read_once_whatever_the_views_do_between_its_passes(run: Any) -> None:
    """Another process may catch the views up while a build renders: the table, the chart's
    two passes and the story page's rows all come from one read."""
    add_pledges(run)
    with whole_and_streamed(run) as (whole, story):
        first = list(story.pairs())
        run("add", "pledge", "--title", "New currency", "--occurred", "2024-02-02", "--donor", "alpha trust",
            "--recipient", "Cambodia", "--amount", "100 million baht", "--source", "https://x.example/thb")  # fmt: skip
        run("show")  # the views now hold the new pledge
        assert list(story.pairs()) == first == whole["by_donor_recipient"]
        assert "".join(ledger_svg_chunks(story.summary, lambda: story.pairs("currency"))) == ledger_svg(whole)

"""The string renderer writes byte for byte what feedgen and lxml wrote (the oracle)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import feedgen_oracle
import feedparser
import pytest
from lxml import etree

from feeds.build import Document, render, rfc2822
from feeds.entries import Category, Entry, Link, Tombstone, entry
from feeds.settings import resolve

SETTINGS = resolve({}, {"base-url": "http://feeds.test"})
WHEN = datetime(2024, 7, 6, 9, 30, 5, 123456, tzinfo=UTC)
AWKWARD = "Tom & Jerry <b>\"q\"</b> 'a' ]]> tab\there\r\nnew line é 🇯🇵 بيان \u2028"


def make_entry(i: int, **over: Any) -> Entry:
    fields: dict[str, Any] = {
        "id": f"tag:news-timeline.example,2024:development/{i}",
        "title": f"Entry {i}",
        "published": WHEN + timedelta(days=i),
        "updated": WHEN + timedelta(days=i, hours=1),
        "summary": f"Summary {i}.",
        "content": f"<p>Content {i}</p>",
        "links": (Link(f"https://news.example/{i}", "Publisher"),),
        "categories": (Category("statement", "http://feeds.test/kind/", "statement"),),
        "author": "News timeline editors",
        "tombstone": None,
    }
    fields.update(over)
    return Entry(**fields)


ENTRIES = [
    make_entry(1),
    make_entry(2, title=AWKWARD, summary=AWKWARD, content=AWKWARD),
    make_entry(3, links=(), categories=()),
    make_entry(4, links=(Link('https://a.example/?x=1&y="2"', ""), Link("https://b.example/", AWKWARD))),
    make_entry(5, categories=(Category("t", "http://feeds.test/topic/", ""), Category(AWKWARD, "", AWKWARD))),
    make_entry(6, summary="", content="only content"),
    make_entry(7, content=""),
    make_entry(8, author=""),
    make_entry(9, tombstone=Tombstone("tag:x,2024:development/9", WHEN, "Retracted on 2024-07-06: " + AWKWARD)),
    make_entry(10, published=datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=7)))),
]


def document(entries: list[Entry], **over: Any) -> Document:
    fields: dict[str, Any] = {
        "feed_id": "tag:news-timeline.example,2024:feed/story",
        "title": "News timeline",
        "subtitle": "Developments of the story, newest first.",
        "self_urls": {"atom": "http://feeds.test/story.atom", "rss": "http://feeds.test/story.rss"},
        "alternate_url": "http://feeds.test/index.html",
        "updated": WHEN,
        "author": "News timeline editors",
        "entries": entries,
    }
    fields.update(over)
    return Document(**fields)


LINKS = [("current", {"atom": "http://feeds.test/a&b.atom", "rss": "http://feeds.test/a&b.rss"})]
DOCUMENTS = {
    "plain": document(ENTRIES[:1]),
    "every entry": document(ENTRIES),
    "empty": document([]),
    "head": document(ENTRIES[8:], head={"position": 12, "hash": "ab" * 32}),
    "archive page": document(ENTRIES[:3], archive=True, links=[*LINKS, ("prev-archive", LINKS[0][1])]),
    "awkward feed": document(ENTRIES[1:2], title=AWKWARD, subtitle=AWKWARD, author=AWKWARD, links=LINKS),
    "no author": document(ENTRIES[:2], author=""),
}


@pytest.mark.parametrize("fmt", ["atom", "rss"])
@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_same_bytes_as_feedgen(name: str, fmt: str) -> None:
    doc = DOCUMENTS[name]
    expected = feedgen_oracle.render(doc, fmt)
    assert render(doc, fmt) == expected
    assert render(doc, fmt) == expected  # again, from the entries' cached fragments
    etree.fromstring(expected)


def test_entries_from_documents_render_as_feedgen_did(seed_docs: list[dict[str, Any]]) -> None:
    entries = [entry(d, SETTINGS) for d in seed_docs]
    for fmt in ("atom", "rss"):
        data = render(document(entries), fmt)
        assert data == feedgen_oracle.render(document([entry(d, SETTINGS) for d in seed_docs]), fmt)
        assert feedparser.parse(data).bozo == 0


def test_rfc2822_does_not_depend_on_the_locale() -> None:
    assert rfc2822(WHEN) == "Sat, 06 Jul 2024 09:30:05 +0000"
    assert rfc2822(ENTRIES[9].published) == "Tue, 02 Jan 2024 03:04:05 +0700"


@pytest.fixture
def seed_docs(sqlite_run: Any) -> list[dict[str, Any]]:
    sqlite_run.import_seed()
    docs: list[dict[str, Any]] = sqlite_run.json("show")
    first = docs[0]["id"]
    sqlite_run("correct", first, "--set", "title=" + AWKWARD, "--reason", "a reason & <more>")
    sqlite_run("retract", docs[1]["id"], "--reason", "withdrawn\ttoday")
    return [sqlite_run.json("show", d["id"]) for d in docs]

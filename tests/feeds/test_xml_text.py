"""The text writer of feed documents (`feeds.xml_text`) writes feedgen's bytes: for a
generated story (corrections, retractions, archives, thousands of actors) and for text
that XML escapes; what it does not know it leaves to feedgen. (Every other feeds test
checks each document it renders the same way: see conftest.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from feeds import xml_text
from feeds.build import Document, render, render_feedgen
from feeds.entries import Category, Entry, Link, Tombstone
from tests.feeds.conftest import generated_story

TRICKY = "a & b < c > d \"q\" 'q' \r\n\t é 😀 ]]> &amp; \u2028"


def test_a_generated_story_is_written_as_feedgen_writes_it(
    run: Any, build: Any, tmp_path: Path, _both_feed_writers_agree: list[int]
) -> None:
    run("import", str(generated_story(400, tmp_path / "story.jsonl")))
    built = build(run, tmp_path / "out", "--page-size", "7")
    assert built.result["written"]
    assert _both_feed_writers_agree[0] > 100  # the text writer wrote them (and each equals feedgen's)


def entry(text: str, **kw: Any) -> Entry:
    when = datetime(2024, 7, 8, 9, 10, 11, 123456, tzinfo=UTC)
    fields: dict[str, Any] = {
        "id": "tag:x,2024:development/1",
        "title": f"Title {text}",
        "published": when,
        "updated": when + timedelta(days=1),
        "summary": f"Summary {text}",
        "content": f"<p>{text}</p>",
        "alternate": f"http://x.test/d/1.html?a=1&b={text}",
        "links": (Link(f"https://s.test/?q={text}", f"Pub {text}"), Link("https://s.test/2", "")),
        "categories": (Category("t", "http://x.test/topic/", f"Label {text}"),),
        "author": f"Editors {text}",
        "tombstone": Tombstone("tag:x,2024:development/1", when, f"Gone {text}"),
    }
    return Entry(**{**fields, **kw})


def document(entries: list[Entry], **kw: Any) -> Document:
    fields: dict[str, Any] = {
        "feed_id": "tag:x,2024:feed/story",
        "title": f"Feed {TRICKY}",
        "subtitle": f"Sub {TRICKY}",
        "self_urls": {"atom": "http://x.test/a.atom?x=1&y=2", "rss": "http://x.test/a.rss"},
        "alternate_url": "http://x.test/index.html",
        "updated": datetime(2024, 7, 9, tzinfo=timezone(timedelta(hours=9))),
        "author": f"Editors {TRICKY}",
        "entries": entries,
        "checkpoint_url": "http://x.test/checkpoint",
        "archive": True,
        "links": (("current", {"atom": "http://x.test/c.atom", "rss": "http://x.test/c.rss"}),),
    }
    return Document(**{**fields, **kw})


@pytest.mark.parametrize("fmt", ["atom", "rss"])
@pytest.mark.parametrize(
    "doc",
    [
        document([entry(TRICKY), entry("plain", tombstone=None, links=())]),
        document([], archive=False, links=(), checkpoint_url=None),
        document([entry(TRICKY, published=datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC))]),
        document([entry("", tombstone=Tombstone("r", datetime(2024, 1, 1, tzinfo=UTC), ""))]),
    ],
)
def test_text_that_xml_escapes_is_written_as_feedgen_writes_it(doc: Document, fmt: str) -> None:
    fast = xml_text.render(doc, fmt)
    assert fast is not None and fast == render_feedgen(doc, fmt)


@pytest.mark.parametrize(
    "doc",
    [
        document([entry("x", summary="")]),  # feedgen writes <summary/>, and RSS the content as description
        document([entry("x", categories=(Category("t", "http://x.test/topic/", ""),))]),
        document([entry("x", title="bad \x01 title")]),  # lxml refuses it
        document([], subtitle=""),
        document([entry("x", updated=datetime(2024, 1, 1))]),  # no time zone: feedgen refuses it
    ],
)
@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_what_the_text_writer_does_not_know_goes_to_feedgen(doc: Document, fmt: str) -> None:
    assert xml_text.render(doc, fmt) is None
    try:
        expected: bytes | type[Exception] = render_feedgen(doc, fmt)
    except ValueError:
        expected = ValueError
    if expected is ValueError:
        with pytest.raises(ValueError):
            render(doc, fmt)
    else:
        assert render(doc, fmt) == expected

"""Feeds link each development to its own page, `d/<id>.html`, which never moves (the story
pages are numbered oldest first, so `index.html#d-<id>` does): read the feeds back with
feedparser and lxml, follow every entry's alternate link into the folder, find the anchor
there and, through the page's link to its place, in the story."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import lxml.html

from tests.feeds.conftest import ATOM, BASE, Built
from tests.feeds.test_build import add_statement


def sources_by_id(cli: Any) -> dict[str, list[str]]:
    return {d["id"]: [s["url"] for s in d["fields"].get("sources", [])] for d in cli.json("show")}


def page_at(built: Built, link: str) -> Any:
    """The built file an absolute link under the base URL names, parsed as HTML."""
    assert link.startswith(BASE + "/"), link
    return lxml.html.fromstring((built.out / urlsplit(link).path.lstrip("/")).read_bytes())


def check_development_page(built: Built, link: str, dev_id: str) -> None:
    assert link == f"{BASE}/d/{dev_id}.html"
    page = page_at(built, link)
    (item,) = page.xpath(f'//li[@id="d-{dev_id}"]')
    assert item.xpath(".//h3")[0].text_content().strip()
    (place,) = page.xpath('//a[text()="Its place in the story"]')
    story_path, _, anchor = place.get("href").removeprefix("../").partition("#")
    assert anchor == f"d-{dev_id}"
    story = lxml.html.fromstring((built.out / story_path).read_bytes())
    assert story.xpath(f'//li[@id="d-{dev_id}"]'), story_path


def test_every_entry_links_to_its_own_page_and_to_its_sources(run: Any, build: Any) -> None:
    run.import_seed()
    built = build(run)
    sources = sources_by_id(run)
    for rel in ("story.atom", "topic/aid.atom", "actor/hun-manet.atom"):
        parsed = built.parsed(rel)
        entries = built.xml(rel).findall(f"{ATOM}entry")
        assert entries and len(parsed.entries) == len(entries)
        for e, p in zip(entries, parsed.entries, strict=True):
            dev_id = e.findtext(f"{ATOM}id").rsplit("/", 1)[1]
            links = [(x.get("rel"), x.get("type"), x.get("href")) for x in e.findall(f"{ATOM}link")]
            (alternate,) = [x for x in links if x[0] == "alternate"]
            assert alternate[1] == "text/html" and p.link == alternate[2]
            assert [x[2] for x in links if x[0] == "related"] == sources[dev_id]
            check_development_page(built, alternate[2], dev_id)
    for rel in ("story.rss", "topic/aid.rss"):
        parsed = built.parsed(rel)
        assert parsed.entries
        for item, p in zip(built.xml(rel).find("channel").findall("item"), parsed.entries, strict=True):
            dev_id = item.findtext("guid").rsplit("/", 1)[1]
            assert item.findtext("link") == p.link
            check_development_page(built, p.link, dev_id)
            # The sources are in the item's content, as links.
            content = lxml.html.fromstring(p.content[0].value)
            assert [a.get("href") for a in content.xpath("//a")] == sources[dev_id]


def test_a_changed_development_writes_its_own_page_again_and_no_other(sqlite_run: Any, build: Any) -> None:
    sqlite_run.import_seed()
    build(sqlite_run)
    dev_id = sqlite_run.json("show")[3]["id"]
    sqlite_run("correct", dev_id, "--set", "title=Corrected title", "--reason", "typo")
    written = build(sqlite_run).result["written"]
    assert [p for p in written if p.startswith("d/")] == [f"d/{dev_id}.html"]
    new_id = add_statement(sqlite_run, "A new statement")
    written = build(sqlite_run).result["written"]
    assert [p for p in written if p.startswith("d/")] == [f"d/{new_id}.html"]
    again = build(sqlite_run).result["written"]
    assert [p for p in again if p.startswith("d/")] == []

"""The pager between a set's pages is a window (previous, the first page, a few around the
current one, the last, next), so a page does not grow with the number of pages in its set;
and following its links from the first page still reaches every page of the set, and so
every development."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

import lxml.html
import pytest

import feeds.page
from feeds.page import WINDOW, pager
from tests.feeds.conftest import generated_story

MOST = 2 * WINDOW + 7  # previous, first, gap, the window, gap, last, next


@pytest.mark.parametrize("pages", [1, 2, 3, 5, 6, 7, 8, 9, 10, 30, 5000])
def test_the_pager_is_a_window_of_numbered_pages(pages: int) -> None:
    for number in sorted({*range(1, min(pages, 12) + 1), *range(max(1, pages - 11), pages + 1)}):
        items = pager(number, pages, lambda n: f"p{n}")
        if pages == 1:
            assert items == []
            continue
        assert len(items) <= MOST
        numbers = [it["number"] for it in items if "number" in it]
        assert numbers == sorted(numbers) and numbers[0] == 1 and numbers[-1] == pages
        assert [it["number"] for it in items if it.get("current")] == [number]
        assert set(range(max(1, number - WINDOW), min(pages, number + WINDOW) + 1)) <= set(numbers)
        assert all(it["href"] == f"p{it['number']}" for it in items if "number" in it)
        rels = [(it["rel"], it["href"]) for it in items if "rel" in it]
        assert rels == [("prev", f"p{number - 1}")] * (number > 1) + [("next", f"p{number + 1}")] * (number < pages)
        # A gap stands for two pages or more: one page left out is shown instead.
        kinds = ["gap" if it.get("gap") else it.get("number", it.get("rel")) for it in items]
        for i, kind in enumerate(kinds):
            if kind == "gap":
                assert kinds[i + 1] - kinds[i - 1] > 2


def pager_links(page: Any, path: str) -> list[str]:
    """The pages a page's pagers link to, as paths in the folder; each pager checked for
    its label, its size and its one current page (this page)."""
    navs = page.xpath('//nav[@class="pager"]')
    assert [n.get("aria-label") for n in navs] == ["Pages of the timeline", "Pages of the timeline, again"]
    found: list[list[str]] = []
    for nav in navs:
        assert len(nav.xpath(".//li")) <= MOST
        (current,) = nav.xpath('.//a[@aria-current="page"]')
        assert posixpath.normpath(posixpath.join(posixpath.dirname(path), current.get("href"))) == path
        assert current.get("aria-label") == f"Page {current.text_content()}"
        hrefs = [a.get("href") for a in nav.xpath(".//a")]
        found.append(hrefs)
    assert found[0] == found[1]  # the same links above and below the developments
    return [posixpath.normpath(posixpath.join(posixpath.dirname(path), h)) for h in found[0]]


def walk(out: Path, start: str) -> dict[str, Any]:
    """Every page reached by following pager links from `start`, parsed."""
    seen: dict[str, Any] = {}
    todo = [start]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        page = seen[path] = lxml.html.fromstring((out / path).read_bytes())
        todo += pager_links(page, path)
    return seen


def test_following_the_pager_from_the_first_page_reaches_every_page_and_development(
    sqlite_run: Any, build: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feeds.page, "PAGE", 5)  # a story of 60 pages and more from 300 events
    sqlite_run("import", str(generated_story(300, tmp_path / "story.jsonl")))
    out = build(sqlite_run, tmp_path / "out").out
    ids = {p.stem for p in (out / "d").glob("*.html")}
    story = [*sorted(str(p.relative_to(out)) for p in (out / "pages" / "index").glob("*.html")), "index.html"]
    assert len(story) > 50
    reached = walk(out, "pages/index/1.html")
    assert sorted(reached) == sorted(story)
    shown = {i.removeprefix("d-") for page in reached.values() for i in page.xpath("//li[@class and @id]/@id")}
    assert shown == ids
    titles = {p: page.findtext(".//title") for p, page in reached.items()}
    assert re.search(r"\(page 1 of \d+\)$", titles["pages/index/1.html"])

    # A topic's pages too, from its first page (its newest is the topic's own file, beside its feeds).
    topic = max((p for p in (out / "pages" / "topic").iterdir()), key=lambda p: len(list(p.iterdir())))
    pages = [*sorted(str(p.relative_to(out)) for p in topic.glob("*.html")), f"topic/{topic.name}.html"]
    assert sorted(walk(out, f"pages/topic/{topic.name}/1.html")) == sorted(pages)

    # The pager is the same size on a page in the middle of a long set as on a short one.
    middle = story[len(story) // 2]
    long_nav = lxml.html.tostring(reached[middle].xpath('//nav[@class="pager"]')[0])
    assert len(long_nav) < 1200


def test_a_set_of_one_page_has_no_pager(sqlite_run: Any, build: Any, tmp_path: Path) -> None:
    sqlite_run.import_seed()
    out = build(sqlite_run, tmp_path / "out").out
    assert b'class="pager"' not in (out / "index.html").read_bytes()

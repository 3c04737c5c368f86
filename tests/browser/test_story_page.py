"""The story pages in a real browser: content and order, marks, links, no requests out,
accessibility (axe-core), escaping, the empty story, the JS filter and the page as it stood."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import json_ld
from tests.conftest import SEED, Cli

MARKUP = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
BASE = "http://feeds.test"


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The seed story with a correction, a retraction, an added source and a development
    whose fields hold markup, built once for the module."""
    tmp = tmp_path_factory.mktemp("story")
    cli = Cli(str(tmp / "timeline.db"))
    cli("import", str(SEED))
    before = cli.json("state")["position"]
    cli("correct", "japan-cambodia-2024/visit", "--set", "place=Phnom Penh, Cambodia",
        "--reason", "The report names the country", "--source", "https://example.org/correction")  # fmt: skip
    cli("retract", "japan-cambodia-2024/partnership-upgrade-2023", "--reason", "Not a development of 2024")
    cli("add", "statement", "--title", MARKUP, "--occurred", "2024-07-08", "--speaker", MARKUP,
        "--paraphrase", MARKUP, "--topics", "diplomacy", "--source", "https://news.example/a")  # fmt: skip
    out = tmp / "site"
    cli("feeds", "build", "--out", str(out), "--base-url", BASE, "--embed")
    docs = cli.json("show")
    return {"cli": cli, "out": out, "docs": docs, "state": cli.json("state"), "before": before, "tmp": tmp}


def _ids(page: Any) -> list[str]:
    return page.eval_on_selector_all("li.development", "els => els.map(e => e.id)")


def test_every_development_in_order_with_sources_corrections_and_retraction(story: dict[str, Any], visit: Any) -> None:
    v = visit(story["out"])
    page = v.page
    assert _ids(page) == [f"d-{d['id']}" for d in story["docs"]]  # all of them, in occurred order
    for d in story["docs"]:
        item = page.locator(f"#d-{d['id']}")
        hrefs = item.locator("a.source").evaluate_all("els => els.map(e => e.href)")
        assert hrefs == [s["url"] for s in d["fields"]["sources"]], d["key"]
        assert item.locator(".kind-label").text_content() == d["kind"].capitalize()
    visit_item = page.locator(f"#d-{next(d['id'] for d in story['docs'] if d['kind'] == 'visit')}")
    assert "corrected" in (visit_item.get_attribute("class") or "")
    assert visit_item.locator(".correction del").text_content() == "Phnom Penh"
    assert visit_item.locator(".correction ins").text_content() == "Phnom Penh, Cambodia"
    assert "The report names the country" in visit_item.locator(".correction").text_content()
    assert visit_item.locator("dd .was del").text_content() == "Phnom Penh"  # struck through in place
    retracted = [d for d in story["docs"] if d["retracted"]]
    assert len(retracted) == 1
    item = page.locator(f"#d-{retracted[0]['id']}")
    assert "retracted" in (item.get_attribute("class") or "")
    assert item.locator(".retraction").text_content().startswith("Retracted on ")
    assert "Not a development of 2024" in item.locator(".retraction").text_content()
    # Feed autodiscovery, the checkpoint in the footer, JSON-LD with the correction.
    links = page.eval_on_selector_all('link[rel="alternate"]', "els => els.map(e => [e.type, e.getAttribute('href')])")
    assert links == [["application/atom+xml", "story.atom"], ["application/rss+xml", "story.rss"]]
    head = story["state"]["head"]
    assert page.locator("footer .checkpoint").text_content() == f"#{head['size']} {head['hash']}"
    assert f"--expect-head '#{head['size']}:{head['hash']}'" in page.locator("footer").text_content()
    works = {w["identifier"]: w for w in json_ld(page)["hasPart"]}
    assert works.keys() == {d["id"] for d in story["docs"]}
    corrected = works[visit_item.get_attribute("id")[2:]]
    assert corrected["correction"][0]["@type"] == "CorrectionComment"
    assert "place: Phnom Penh -> Phnom Penh, Cambodia" in corrected["correction"][0]["text"]
    assert works[retracted[0]["id"]]["creativeWorkStatus"] == "Retracted"
    # The ledger chart with the package's discrepancy called out.
    assert page.locator("svg.ledger-chart").count() == 1
    assert "USD 1.2 million more than the package as reported" in page.locator("svg.ledger-chart").text_content()
    assert page.locator("p.discrepancy").count() == 1
    assert v.external == [] and v.console == []  # nothing left the page; CSP let the page's own files in
    assert v.requests == ["http://story.test/index.html", "http://story.test/page.css", "http://story.test/page.js"]
    assert v.axe() == []
    v.shot("story-page")


def test_fields_holding_markup_are_shown_as_text(story: dict[str, Any], visit: Any) -> None:
    page = visit(story["out"]).page
    dev = next(d for d in story["docs"] if d["title"] == MARKUP)
    item = page.locator(f"#d-{dev['id']}")
    assert item.locator("h3").text_content() == MARKUP
    assert page.evaluate("window.pwned") is None
    assert page.locator("li.development img").count() == 0 and page.locator("li.development script").count() == 0
    assert json_ld(page)["hasPart"][-1]["headline"] == MARKUP  # the JSON-LD block was not broken out of


def test_filters_work_without_javascript_and_faster_with_it(story: dict[str, Any], visit: Any) -> None:
    plain = visit(story["out"], js=False).page
    assert plain.locator("form.js-filters").count() == 0
    links = plain.eval_on_selector_all("nav.filters a", "els => els.map(e => e.getAttribute('href'))")
    assert {"kind/pledge.html", "topic/aid.html", "actor/japan.html"} <= set(links)
    pledges = [f"d-{d['id']}" for d in story["docs"] if d["kind"] == "pledge"]
    v = visit(story["out"], "kind/pledge.html", js=False)
    assert _ids(v.page) == pledges and v.external == []
    aid = [f"d-{d['id']}" for d in story["docs"] if "aid" in d["topics"]]
    v = visit(story["out"], "topic/aid.html")
    assert _ids(v.page) == aid and v.external == [] and v.console == []
    assert v.page.eval_on_selector('link[rel="alternate"]', "e => e.getAttribute('href')") == "../topic/aid.atom"
    assert v.axe() == []
    v.shot("topic-aid")
    page = visit(story["out"]).page
    page.select_option("form.js-filters select[name=kind]", "pledge")
    shown = page.eval_on_selector_all("li.development:not([hidden])", "els => els.map(e => e.id)")
    assert shown == pledges
    assert (
        page.locator("form.js-filters [role=status]").text_content() == f"{len(pledges)} of {len(story['docs'])} shown"
    )


def test_the_changes_page_lists_additions_corrections_and_retractions(story: dict[str, Any], visit: Any) -> None:
    v = visit(story["out"], "changes.html")
    rows = v.page.eval_on_selector_all("li.change", "els => els.map(e => [e.dataset.position, e.className])")
    assert [int(p) for p, _ in rows] == sorted((int(p) for p, _ in rows), reverse=True)
    kinds = [c.split()[-1] for _, c in rows]
    assert kinds.count("change-corrected") == 1 and kinds.count("change-retracted") == 1
    assert kinds.count("change-added") == len(story["docs"])
    corrected = v.page.locator("li.change-corrected")
    assert corrected.locator("del").text_content() == "Phnom Penh"
    assert corrected.locator("ins").text_content() == "Phnom Penh, Cambodia"
    v.page.fill("#from", f"#{story['before']}")
    v.page.click("form.changes-filter button")
    shown = v.page.eval_on_selector_all("li.change:not([hidden])", "els => els.map(e => e.className)")
    assert sorted(shown) == ["change change-added", "change change-corrected", "change change-retracted"]
    assert v.external == [] and v.axe() == []


def test_the_embedded_page_is_one_file_that_asks_for_nothing(story: dict[str, Any], visit: Any) -> None:
    v = visit(story["out"], "embed.html")
    assert v.requests == ["http://story.test/embed.html"] and v.console == []
    assert _ids(v.page) == [f"d-{d['id']}" for d in story["docs"]]
    links = v.page.eval_on_selector_all('link[rel="alternate"]', "els => els.map(e => e.getAttribute('href'))")
    assert links == [f"{BASE}/story.atom", f"{BASE}/story.rss"]
    assert v.page.locator("form.js-filters").count() == 1  # its inline script ran under the CSP


def test_the_page_as_it_stood(story: dict[str, Any], visit: Any) -> None:
    out = story["tmp"] / "then.html"
    story["cli"]("replay", "--as-of", f"#{story['before']}", "--html", str(out))
    v = visit(out.parent, out.name)
    seed = story["cli"].json("replay", "--as-of", f"#{story['before']}")
    assert _ids(v.page) == [f"d-{d['id']}" for d in seed]
    assert v.page.locator("li.retracted").count() == 0 and v.page.locator("li.corrected").count() == 0
    assert f"as the log stood at #{story['before']}" in v.page.locator("header .meta").text_content()
    assert v.external == []


def test_an_empty_story_says_so(tmp_path: Path, visit: Any) -> None:
    cli = Cli(str(tmp_path / "empty.db"))
    cli("import", "-", input="")  # an empty log (a path with no database is refused)
    cli("feeds", "build", "--out", str(tmp_path / "site"))
    v = visit(tmp_path / "site")
    assert v.page.locator("p.empty").text_content() == "The story has no developments yet."
    assert v.page.locator("footer .checkpoint").text_content() == "(empty log)"
    assert v.external == [] and v.axe() == []


def test_a_feed_entrys_alternate_link_opens_the_development_and_leads_to_its_place(
    story: dict[str, Any], visit: Any
) -> None:
    import feedparser

    parsed = feedparser.parse((story["out"] / "story.atom").read_bytes())
    corrected = next(d for d in story["docs"] if d["kind"] == "visit")
    link = next(e.link for e in parsed.entries if e.id.endswith(corrected["id"]))
    assert link == f"{BASE}/d/{corrected['id']}.html"
    v = visit(story["out"], link.removeprefix(BASE + "/"))
    item = v.page.locator(f"#d-{corrected['id']}")
    assert item.count() == 1
    assert item.locator(".correction ins").text_content() == "Phnom Penh, Cambodia"
    hrefs = item.locator("a.source").evaluate_all("els => els.map(e => e.href)")
    assert hrefs == [s["url"] for s in corrected["fields"]["sources"]]
    assert v.external == [] and v.console == [] and v.axe() == []
    v.page.get_by_role("link", name="Its place in the story").click()
    v.page.wait_for_load_state()
    assert v.page.url.endswith(f"#d-{corrected['id']}")
    assert v.page.locator(f"#d-{corrected['id']} .correction ins").text_content() == "Phnom Penh, Cambodia"
    v.shot("development-page")


def test_the_pager_leads_page_by_page_and_to_the_first_and_last(
    tmp_path: Path, visit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import feeds.page
    from tests.feeds.conftest import generated_story

    monkeypatch.setattr(feeds.page, "PAGE", 5)  # a story of many pages from a small log
    cli = Cli(str(tmp_path / "many.db"))
    cli("import", str(generated_story(120, tmp_path / "story.jsonl")))
    cli("feeds", "build", "--out", str(tmp_path / "site"), "--base-url", BASE)
    pages = len(list((tmp_path / "site" / "pages" / "index").glob("*.html"))) + 1
    assert pages > 10
    v = visit(tmp_path / "site", "pages/index/1.html", js=False)  # without JavaScript
    nav = v.page.get_by_role("navigation", name="Pages of the timeline", exact=True)
    assert nav.locator('[aria-current="page"]').text_content() == "1"
    assert nav.get_by_role("link", name="Previous page").count() == 0
    nav.get_by_role("link", name="Next page").click()
    v.page.wait_for_load_state()
    assert v.page.url.endswith("/pages/index/2.html")
    nav = v.page.get_by_role("navigation", name="Pages of the timeline", exact=True)
    assert nav.locator('[aria-current="page"]').text_content() == "2"
    nav.get_by_role("link", name=f"Page {pages}", exact=True).click()  # the last page: the story's own file
    v.page.wait_for_load_state()
    assert v.page.url.endswith("/index.html")
    nav = v.page.get_by_role("navigation", name="Pages of the timeline", exact=True)
    assert nav.get_by_role("link", name="Next page").count() == 0
    nav.get_by_role("link", name="Previous page").click()
    v.page.wait_for_load_state()
    assert v.page.url.endswith(f"/pages/index/{pages - 1}.html")
    middle = visit(tmp_path / "site", f"pages/index/{pages // 2}.html")
    links = middle.page.eval_on_selector_all(
        'nav[aria-label="Pages of the timeline"] a', "els => els.map(e => e.textContent)"
    )
    half = pages // 2
    assert links == ["Previous page", "1", *map(str, range(half - 2, half + 3)), str(pages), "Next page"]
    assert middle.page.locator('nav[aria-label="Pages of the timeline"] .gap').count() == 2
    assert v.external == [] and middle.external == [] and middle.console == [] and middle.axe() == []
    first = visit(tmp_path / "site", "pages/index/1.html")  # axe-core needs JavaScript
    assert first.external == [] and first.axe() == []
    middle.shot("pager")

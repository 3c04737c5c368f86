"""Helpers for the feed tests: build into a folder and read every document back."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import feedparser
import pytest
from lxml import etree

ATOM = "{http://www.w3.org/2005/Atom}"
AT = "{http://purl.org/atompub/tombstones/1.0}"
FH = "{http://purl.org/syndication/history/1.0}"
BASE = "http://feeds.test"
ROOT = Path(__file__).resolve().parents[2]


def generated_story(n: int, path: Path) -> Path:
    """`benchmarks/generate.py`'s story of n events (corrections, retractions, hundreds of
    topics and actors), as `timeline import` reads it."""
    spec = importlib.util.spec_from_file_location("generate", ROOT / "benchmarks" / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write(n, path)
    return path


def feed_files(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*") if p.suffix in (".atom", ".rss"))


def snapshot(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


class Built:
    def __init__(self, out: Path, result: dict[str, Any]) -> None:
        self.out = out
        self.result = result

    def xml(self, rel: str) -> Any:
        return etree.fromstring((self.out / rel).read_bytes())

    def parsed(self, rel: str) -> Any:
        d = feedparser.parse((self.out / rel).read_bytes())
        assert d.bozo == 0, (rel, d.get("bozo_exception"))
        return d

    def index(self) -> dict[str, Any]:
        return json.loads((self.out / "index.json").read_text(encoding="utf-8"))

    def entries(self, rel: str = "story.atom") -> dict[str, Any]:
        """Atom entries by id: {id: {title, updated, content}}."""
        root = self.xml(rel)
        return {
            e.findtext(f"{ATOM}id"): {
                "title": e.findtext(f"{ATOM}title"),
                "updated": e.findtext(f"{ATOM}updated"),
                "content": e.findtext(f"{ATOM}content"),
            }
            for e in root.findall(f"{ATOM}entry")
        }


@pytest.fixture
def build(tmp_path: Path) -> Any:
    def call(cli: Any, out: Path | None = None, *extra: str) -> Built:
        out = out or tmp_path / "out"
        result = cli.json("feeds", "build", "--out", str(out), "--base-url", BASE, *extra)
        return Built(out, result)

    return call


@pytest.fixture(autouse=True)
def _both_feed_writers_agree(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every document any feeds test renders is rendered by feedgen too: the text writer
    (`feeds.xml_text`) must write its bytes, or leave the document to feedgen. Returns
    how many documents the text writer wrote. So that every document goes through
    `feeds.build.render`, entries are made for each feed, not once per build
    (tests/feeds/test_once_per_build.py holds the two to the same bytes)."""
    import feeds.build
    import feeds.site
    from feeds import xml_text

    monkeypatch.setattr(feeds.site, "SHARED_ENTRIES", False)

    written = [0]

    def both(doc: Any, fmt: str) -> bytes:
        fast = xml_text.render(doc, fmt)
        slow = feeds.build.render_feedgen(doc, fmt)
        if fast is not None:
            assert fast == slow, (doc.feed_id, fmt)
            written[0] += 1
        return slow

    monkeypatch.setattr(feeds.build, "render", both)
    return written

"""What a full build makes once and uses in many places (each development's feed entry,
`feeds.shared_entries`; its part of every page that shows it, `feeds.fragments`; each
page's log head, `timeline.proof.tree.PastHeads`) gives the bytes made afresh each time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2.meta
import pytest
from markupsafe import Markup

import feeds.site
from feeds import fragments
from feeds.page import _environment
from feeds.spool import Keyed
from tests.feeds.conftest import generated_story, snapshot


def test_a_build_that_makes_each_part_once_writes_what_making_them_each_time_writes(
    run: Any, build: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("import", str(generated_story(600, tmp_path / "story.jsonl")))
    run("actor", "add", "Japan", "--wikidata", "Q17")  # the registry changes the actors' categories
    run("actor", "add", "Nippon")
    run("actor", "merge", "Japan", "Nippon", "--reason", "one country")
    once_entries: list[int] = []
    real_put = Keyed.put

    def counted(self: Keyed, position: int, value: Any) -> None:
        once_entries.append(position)
        real_put(self, position, value)

    monkeypatch.setattr(Keyed, "put", counted)
    monkeypatch.setattr(feeds.site, "SHARED_ENTRIES", True)
    once = build(run, tmp_path / "once", "--page-size", "7")
    assert once_entries  # both were kept and read back
    monkeypatch.setattr(feeds.site, "SHARED_ENTRIES", False)
    monkeypatch.setattr(fragments.Fragments, "part", lambda self, t, names: Markup(fragments.render(t, names)))
    monkeypatch.setattr("timeline.proof.tree.Tree.past_heads", lambda tree: tree.head)  # a head read afresh each time
    each = build(run, tmp_path / "each", "--page-size", "7")
    a, b = snapshot(once.out), snapshot(each.out)
    assert a.keys() == b.keys() and len(a) > 300
    assert [k for k in a if a[k] != b[k]] == []


def test_a_development_part_reads_only_the_names_its_cache_is_keyed_by() -> None:
    """`feeds.fragments` keeps a part by what it reads: a name more in the template would
    make one page's part show on another."""
    env = _environment()
    source = env.loader.get_source(env, "development.html")[0]  # type: ignore[union-attr]
    assert jinja2.meta.find_undeclared_variables(env.parse(source)) == fragments.READS


def test_keyed_values_are_read_back_by_position_and_replaced_when_put_again() -> None:
    with Keyed() as kept:
        assert kept.get(0) is None and kept.get(10**6) is None
        kept.put(5, ("a", "x" * 10_000))
        kept.put(2, ("b", "é"))
        kept.put(5, ("c", ""))
        assert kept.get(5) == ("c", "") and kept.get(2) == ("b", "é") and kept.get(3) is None
        assert kept.count == 3
        kept.LONGEST = 64  # a value too long to keep is not kept, and an earlier one is gone
        kept.put(2, "x" * 100)
        assert kept.get(2) is None and kept.get(5) == ("c", "")
        kept.put(123_456, (1, None, 2.5))
        assert kept.get(123_456) == (1, None, 2.5) and kept.get(123_455) is None


def test_a_document_the_text_writer_leaves_to_feedgen_is_given_whole_entries(
    run: Any, build: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A title XML does not allow (U+0001) sends every document to feedgen, which strips it:
    with entries made once, feedgen gets them whole, and writes what it writes without."""
    run("import", str(generated_story(40, tmp_path / "story.jsonl")))
    monkeypatch.setattr(feeds.site, "SHARED_ENTRIES", True)
    once = build(run, tmp_path / "once", "--page-size", "7", "--title", "Story \x01 title")
    monkeypatch.setattr(feeds.site, "SHARED_ENTRIES", False)
    each = build(run, tmp_path / "each", "--page-size", "7", "--title", "Story \x01 title")
    assert snapshot(once.out) == snapshot(each.out)
    assert b"<title>Story  title</title>" in (once.out / "story.atom").read_bytes()

"""Per-actor feeds follow the registry: a merge moves entries (same ids) into the merged
actor's feed, the old feed says where they went, and Wikidata ids are a category scheme."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import Cli
from tests.feeds.conftest import ATOM, BASE, snapshot
from tests.integration.test_actors import seed_with_spellings

WIKIDATA = "http://www.wikidata.org/entity/"


def test_a_merge_moves_entries_with_their_ids_and_the_old_feed_says_where(
    sqlite_run: Cli, build: Any, tmp_path: Path
) -> None:
    run = sqlite_run
    seed_with_spellings(run)
    run("actor", "add", "Yoko Kamikawa", "--wikidata", "Q11488370")
    run("actor", "add", "Kamikawa Yoko")
    first = build(run)
    kamikawa = first.entries("actor/yoko-kamikawa.atom")
    moved = first.entries("actor/kamikawa-yoko.atom")
    assert len(kamikawa) == 10 and len(moved) == 1

    run("actor", "merge", "Yoko Kamikawa", "Kamikawa Yoko", "--reason", "family name first")
    after = build(run)  # incremental: the merge touched both feeds
    assert set(after.entries("actor/yoko-kamikawa.atom")) == set(kamikawa) | set(moved)
    old = after.xml("actor/kamikawa-yoko.atom")
    assert old.findall(f"{ATOM}entry") == []
    assert old.findtext(f"{ATOM}subtitle").endswith(
        f"Merged into Yoko Kamikawa (family name first): its developments are now in {BASE}/actor/yoko-kamikawa.atom."
    )
    related = [x.get("href") for x in old.findall(f"{ATOM}link") if x.get("rel") == "related"]
    assert related == [f"{BASE}/actor/yoko-kamikawa.atom"]
    # Wikidata ids as a category scheme, in the story feed too, and in the feeds' index.
    for rel in ("actor/yoko-kamikawa.atom", "story.atom"):
        root = after.xml(rel)
        terms = {c.get("term") for c in root.iter(f"{ATOM}category") if c.get("scheme") == WIKIDATA}
        assert terms == {"Q11488370"}, rel
    index = {f["name"]: f for f in after.index()["feeds"]}
    assert index["actor/yoko-kamikawa"]["wikidata"] == "Q11488370"
    # The incremental build is the build from nothing, every file of it.
    fresh = build(run, tmp_path / "fresh")
    assert snapshot(fresh.out) == snapshot(after.out)


def test_a_feed_a_registry_event_changed_last_is_modified_when_it_was_recorded(sqlite_run: Cli, build: Any) -> None:
    import json
    from datetime import datetime

    run = sqlite_run
    seed_with_spellings(run)
    run("actor", "add", "Yoko Kamikawa")
    run("actor", "add", "Kamikawa Yoko")
    run("actor", "merge", "Yoko Kamikawa", "Kamikawa Yoko", "--reason", "family name first")
    merged = json.loads(run("log", "--json").stdout.splitlines()[-1])
    old = build(run).xml("actor/kamikawa-yoko.atom")
    updated = datetime.fromisoformat(old.findtext(f"{ATOM}updated"))
    assert updated == datetime.fromisoformat(merged["recorded"].replace("Z", "+00:00"))


def test_after_merge_alias_and_split_an_incremental_build_is_a_fresh_build_byte_for_byte(
    run: Cli, build: Any, tmp_path: Path
) -> None:
    """Every file of the folder, pages, their bookkeeping and the manifest included."""
    seed_with_spellings(run)
    run("actor", "add", "Yoko Kamikawa", "--wikidata", "Q11488370")
    run("actor", "add", "Kamikawa Yoko")
    build(run)
    steps = [
        ("actor", "merge", "Yoko Kamikawa", "Kamikawa Yoko", "--reason", "family name first"),
        ("actor", "alias", "Yoko Kamikawa", "上川陽子"),
        ("actor", "split", "Kamikawa Yoko", "--reason", "merged by mistake"),
    ]
    for i, step in enumerate(steps):
        run(*step)
        incremental = build(run)
        fresh = build(run, tmp_path / f"fresh-{i}")
        a, b = snapshot(incremental.out), snapshot(fresh.out)
        assert sorted(a) == sorted(b), step
        assert [k for k in a if a[k] != b[k]] == [], step
        if i == 0:
            assert not (incremental.out / "actor" / "kamikawa-yoko.html").exists()
    # The merge's page set went and came back with the split: the merged actor's page is
    # removed while it has no development of its own.
    assert (incremental.out / "actor" / "kamikawa-yoko.html").exists()

"""A build after many changes (more than `FEW_CHANGES` developments) reads every feed's
members instead of what changed: its documents are those of a build from scratch too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import feeds.site
from tests.feeds.conftest import snapshot
from tests.feeds.test_build import add_statement


def current(out: Path) -> dict[str, bytes]:
    """Subscription documents and the index: archive pages are never rendered again (RFC
    5005: an archive keeps what it said), so only these must equal a fresh build's."""
    return {
        k: v
        for k, v in snapshot(out).items()
        if (k.endswith((".atom", ".rss")) and not k.startswith("archive/")) or k == "index.json"
    }


def test_a_build_after_many_changes_is_a_fresh_build(
    run: Any, build: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run.import_seed()
    docs = run.json("show")
    incremental, few = tmp_path / "incremental", tmp_path / "few"
    build(run, incremental, "--page-size", "3")
    build(run, few, "--page-size", "3")
    run("correct", docs[0]["id"], "--set", "title=The oldest, corrected", "--reason", "archived entry")
    run("retract", docs[5]["id"], "--reason", "withdrawn")
    add_statement(run, "New statement", "--topics", "aid")
    build(run, few, "--page-size", "3")  # the few-changes path, for comparison
    counted: list[int] = []
    count = feeds.site.queries.feed_changed_count

    def spy(*args: Any) -> int:
        counted.append(count(*args))
        return counted[-1]

    monkeypatch.setattr(feeds.site, "FEW_CHANGES", 1)
    monkeypatch.setattr(feeds.site.queries, "feed_changed_count", spy)
    build(run, incremental, "--page-size", "3")
    assert counted and counted[0] > 1  # the many-changes path was the one taken
    scratch = build(run, tmp_path / "scratch", "--page-size", "3")
    assert current(incremental) == current(scratch.out) == current(few)
    assert snapshot(incremental) == snapshot(few)  # archives too: both paths write the same

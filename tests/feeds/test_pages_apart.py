"""A large build's story pages written by a second process (`feeds.pages_apart`) are the
pages one process writes: the same files, the same list of files written and removed,
on a first build and on the builds after it; what goes wrong there is one line, as it
is in one process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.feeds.conftest import generated_story, snapshot

pytestmark = pytest.mark.slow  # the pages' process


def built(run: Any, out: Path, apart: bool, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("TIMELINE_FEEDS_PAGES_APART", "1" if apart else "0")
    result = run.json("feeds", "build", "--out", str(out), "--page-size", "7")
    return {k: result[k] for k in ("written", "removed", "rebuilt", "head", "feeds")}


def test_pages_written_apart_are_the_pages_written_here(
    run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("import", str(generated_story(300, tmp_path / "story.jsonl")))
    run("actor", "add", "Japan", "--wikidata", "Q17")
    apart, here = tmp_path / "apart", tmp_path / "here"
    first = built(run, apart, True, monkeypatch)
    assert first == built(run, here, False, monkeypatch)
    assert any(p.startswith("d/") for p in first["written"]) and snapshot(apart) == snapshot(here)
    # After a correction, a merge (an actor's page goes) and a new development: what each rewrites.
    dev = run.json("show")[5]["id"]
    run("correct", dev, "--set", "title=A corrected title", "--reason", "typo")
    run("actor", "add", "Nippon")
    run("actor", "merge", "Japan", "Nippon", "--reason", "one country")
    run("add", "statement", "--title", "New", "--occurred", "2024-07-08", "--speaker", "Nippon",
        "--paraphrase", "x", "--source", "https://news.example/a")  # fmt: skip
    again = built(run, apart, True, monkeypatch)
    assert again == built(run, here, False, monkeypatch)
    assert again["written"] and snapshot(apart) == snapshot(here)
    assert built(run, apart, True, monkeypatch)["written"] == []  # nothing changed: nothing written


def test_a_page_the_pages_process_cannot_write_is_one_line_as_here(
    run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("import", str(generated_story(60, tmp_path / "story.jsonl")))
    errors = []
    for apart in (True, False):
        out = tmp_path / f"out-{apart}"
        out.mkdir()
        (out / "d").write_text("a file where the developments' pages go\n")
        monkeypatch.setenv("TIMELINE_FEEDS_PAGES_APART", "1" if apart else "0")
        failed = run("feeds", "build", "--out", str(out), ok=False)
        assert failed.exit_code == 1 and "Traceback" not in failed.stderr
        errors.append(failed.stderr.replace(str(out), "OUT"))
        assert not (out / ".timeline-feeds.json").exists()  # no manifest: the next build redoes it all
    assert errors[0] == errors[1] and errors[0].count("\n") == 1 and errors[0].startswith("Error: ")

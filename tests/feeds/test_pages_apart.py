"""A large build's story pages written by a second process (`feeds.pages_apart`) are the
pages one process writes: the same files, the same list of files written and removed,
on a first build and on the builds after it; what goes wrong there is one line, as it
is in one process."""

from __future__ import annotations

import pickle
import tempfile
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
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    # `d` holds the developments' own pages (the pages' process fails), `archive` the feeds'
    # archive pages (this process fails while the pages' process goes on).
    for blocked in ("d", "archive"):
        errors = []
        for apart in (True, False):
            out = tmp_path / f"out-{blocked}-{apart}"
            out.mkdir()
            (out / blocked).write_text("a file where a folder goes\n")
            monkeypatch.setenv("TIMELINE_FEEDS_PAGES_APART", "1" if apart else "0")
            failed = run("feeds", "build", "--out", str(out), "--page-size", "7", ok=False)
            assert failed.exit_code == 1 and "Traceback" not in failed.stderr
            errors.append(failed.stderr.replace(str(out), "OUT"))
            assert not (out / ".timeline-feeds.json").exists()  # no manifest: the next build redoes it all
        assert errors[0] == errors[1] and errors[0].count("\n") == 1 and errors[0].startswith("Error: ")
        assert list(scratch.iterdir()) == []  # the list of the pages' paths went with the build


def test_what_the_pages_process_raises_comes_back_whole_or_as_its_text() -> None:
    from feeds.pages_apart import _sendable
    from timeline.errors import DevelopmentNotFound, TimelineError

    class Odd(Exception):
        def __init__(self, a: int, b: int) -> None:
            super().__init__(f"odd {a} {b}")

    for e in (OSError(28, "No space left on device", "/x"), TimelineError("t"), DevelopmentNotFound("abc"), Odd(1, 2)):
        sent = pickle.loads(pickle.dumps(_sendable(e)))
        assert str(sent) == str(e)
        assert type(sent) is (type(e) if type(e) in (OSError, TimelineError) else type(sent))
    assert isinstance(pickle.loads(pickle.dumps(_sendable(Odd(1, 2)))), TimelineError)

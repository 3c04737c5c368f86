"""What a feeds build keeps per development stays out of memory: the changes pages' rows
wait on disk (`feeds.spool`), the pages' signatures live in a small SQLite file beside them
(`feeds.signatures`), and both give what the in-memory versions gave."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import feeds.page
from feeds.signatures import FILE, FORMER, Signatures
from feeds.spool import ByPosition, Paths, Rows
from tests.feeds.conftest import snapshot


def test_rows_come_back_newest_position_first_and_ties_in_the_order_added() -> None:
    added = [(5, "e"), (2, "b"), (9, "i"), (5, "e2"), (1, "a"), (40, "far past the first size"), (5, "e3")]
    with ByPosition(10) as rows:
        for position, row in added:
            rows.add(position, {"row": row})
        assert rows.count == len(added)
        got = [r["row"] for r in rows.newest_first()]
    want = [row for _, row in sorted(added, key=lambda pr: -pr[0])]  # a stable sort, as the pages had
    assert got == want == ["far past the first size", "i", "e", "e2", "e3", "b", "a"]


def add_statement(run: Any, title: str) -> None:
    run("add", "statement", "--title", title, "--occurred", "2024-07-09", "--speaker", "Hun Manet",
        "--paraphrase", "Said so.", "--source", "https://news.example/x")  # fmt: skip


def test_the_changes_pages_list_every_event_newest_first_across_pages(
    sqlite_run: Any, build: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqlite_run.import_seed()
    docs = sqlite_run.json("show")
    sqlite_run("correct", docs[0]["id"], "--set", "title=The oldest, corrected", "--reason", "r1")
    sqlite_run("retract", docs[3]["id"], "--reason", "withdrawn")
    sqlite_run("correct", docs[0]["id"], "--set", "title=The oldest, corrected again", "--reason", "r2")
    monkeypatch.setattr(feeds.page, "CHANGES", 4)
    out = build(sqlite_run, tmp_path / "out").out
    pages = [out / "changes.html", *sorted((out / "pages" / "changes").glob("*.html"), key=lambda p: int(p.stem))]
    assert len(pages) > 3
    rows = [re.findall(r'<li id="p-(\d+)" class="change change-(\w+)"', p.read_text()) for p in pages]
    assert all(len(r) == 4 for r in rows[:-1]) and 0 < len(rows[-1]) <= 4
    flat = [(int(p), what) for page in rows for p, what in page]
    positions = [p for p, _ in flat]
    assert positions == sorted(positions, reverse=True) and len(set(positions)) == len(positions)
    assert [w for _, w in flat].count("added") == len(docs)
    assert [w for _, w in flat][:3] == ["corrected", "retracted", "corrected"]
    assert "The oldest, corrected again" in pages[0].read_text()


def signatures_of(out: Path) -> dict[str, str]:
    with sqlite3.connect(out / FILE) as db:
        return dict(db.execute("SELECT path, sig FROM pages"))


def test_the_signatures_file_names_every_page_and_is_the_same_however_it_was_reached(
    sqlite_run: Any, build: Any, tmp_path: Path
) -> None:
    sqlite_run.import_seed()
    steps = tmp_path / "steps"
    build(sqlite_run, steps)
    assert not (steps / FORMER).exists()
    before = signatures_of(steps)
    assert any(p.startswith("d/") for p in before) and all((steps / p).is_file() for p in before)
    add_statement(sqlite_run, "Appended between builds")
    build(sqlite_run, steps)
    after = signatures_of(steps)
    assert len(after) == len(before) + 1  # the new development's own page
    fresh = build(sqlite_run, tmp_path / "fresh").out
    assert snapshot(steps) == snapshot(fresh)  # the signatures' bytes too
    again = build(sqlite_run, steps).result
    assert [p for p in again["written"] if p.endswith(".html")] == []  # nothing rendered again


def test_a_damaged_or_former_signatures_file_only_means_pages_are_rendered_again(
    sqlite_run: Any, build: Any, tmp_path: Path
) -> None:
    sqlite_run.import_seed()
    out = build(sqlite_run, tmp_path / "out").out
    (out / FILE).write_bytes(b"not a database" * 100)
    (out / FORMER).write_text('{"index.html": "0"}')  # what builds before this file kept
    add_statement(sqlite_run, "Appended after the damage")
    result = build(sqlite_run, out).result
    assert FORMER in result["removed"]
    assert {"index.html", "changes.html"} <= set(result["written"])
    want = build(sqlite_run, tmp_path / "want").out
    assert {k: v for k, v in snapshot(out).items() if k != FILE} == {
        k: v for k, v in snapshot(want).items() if k != FILE
    }
    # Sets not looked at this time lost their signatures with the file: rendered when next touched.
    assert signatures_of(out).items() <= signatures_of(want).items()


def saved_signatures(folder: Path, sigs: dict[str, str]) -> tuple[str, Callable[[], str]]:
    """A signatures file in `folder` holding `sigs`, saved by a build, and the temporary
    names such a build takes."""
    path = str(folder / FILE)
    serial = iter(range(100))

    def temporary() -> str:
        return str(folder / f".tmp-test-{next(serial)}")

    first = Signatures(path, temporary)
    for page, sig in sigs.items():
        first.set(page, sig)
    first.save()
    first.close()
    return path, temporary


def test_a_build_that_fails_leaves_the_previous_signatures_and_no_temporary_file(tmp_path: Path) -> None:
    path, temporary = saved_signatures(tmp_path, {"index.html": "a"})
    saved = Path(path).read_bytes()
    second = Signatures(path, temporary)
    assert second.get("index.html") == "a" and second.get("d/x.html") is None
    assert second.same("index.html", "a") and not second.same("index.html", "b") and not second.same("d/x.html", "a")
    assert second.gone() == []  # kept by same()
    second.set("d/x.html", "b")
    second.close()  # stopped before save()
    assert Path(path).read_bytes() == saved
    assert sorted(p.name for p in tmp_path.iterdir()) == [FILE]


def test_the_pages_ledger_read_from_slim_pledges_is_the_views_ledger(sqlite_run: Any) -> None:
    from timeline import config
    from timeline.app import Timeline
    from timeline.reading import Reader
    from timeline.views import queries

    sqlite_run.import_seed()
    app = Timeline.open(config.resolve(sqlite_run.target))
    try:
        docs = Reader.live(app).timeline()
        part = next(d for d in docs if d["fields"].get("part_of") and d["fields"].get("equivalents"))
        sqlite_run("retract", part["id"], "--reason", "test")
        docs = Reader.live(app).timeline()
    finally:
        app.close()
    assert any(d["retracted"] for d in docs if d["kind"] == "pledge")
    full = queries.pledge_ledger(docs)
    assert full["packages"] and feeds.page.ledger_of(iter(docs)) == full
    assert feeds.page.ledger_of(d for d in docs if d["kind"] != "pledge") is None


def test_the_ledger_page_written_in_chunks_is_the_page_rendered_whole(
    sqlite_run: Any, build: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from feeds.folder import Directory

    sqlite_run.import_seed()
    chunks: list[int] = []
    real = Directory._write_chunks

    def counted(self: Directory, parent: str, target: str, data: Any, mtime: int | None) -> bool:
        def passing() -> Any:
            for chunk in data:
                chunks.append(len(chunk))
                yield chunk

        # The manifest is written in chunks too (`manifest_chunks`): only the ledger's are counted.
        return real(self, parent, target, passing() if target.endswith("ledger.html") else data, mtime)

    monkeypatch.setattr(Directory, "_write_chunks", counted)
    monkeypatch.setattr(feeds.page, "_CHUNK", 512)
    small = snapshot(build(sqlite_run, tmp_path / "small").out)
    assert len(chunks) > 3 and sum(chunks) == len(small["ledger.html"]) and b"<table" in small["ledger.html"]
    monkeypatch.setattr(feeds.page, "_CHUNK", 1 << 40)  # one chunk: the page rendered whole
    assert snapshot(build(sqlite_run, tmp_path / "whole").out) == small


def test_a_file_written_in_chunks_is_replaced_only_when_its_bytes_differ(tmp_path: Path) -> None:
    import os

    from feeds.folder import Directory

    d = Directory(tmp_path)
    page = tmp_path / "a" / "x.html"
    assert d.write("a/x.html", iter([b"ab", b"cd"])) and page.read_bytes() == b"abcd"
    inode = page.stat().st_ino
    assert not d.write("a/x.html", iter([b"a", b"", b"bcd"]), mtime=1000)  # the same bytes, cut elsewhere
    assert page.stat().st_ino == inode and page.stat().st_mtime == 1000
    assert d.write("a/x.html", iter([b"abc"])) and page.read_bytes() == b"abc"  # shorter
    assert d.write("a/x.html", iter([b"abc", b"d", b"e"])) and page.read_bytes() == b"abcde"  # longer

    def failing() -> Any:
        yield b"xyz"
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        d.write("a/x.html", failing())
    assert page.read_bytes() == b"abcde" and os.listdir(page.parent) == ["x.html"]  # no temporary file left


@pytest.mark.parametrize("folder", ["out#1", "a?b", "p%41", "plain"])
def test_the_previous_signatures_are_read_whatever_the_folder_is_called(tmp_path: Path, folder: str) -> None:
    where = tmp_path / folder
    where.mkdir()
    path, temporary = saved_signatures(where, {"a": "1"})
    second = Signatures(path, temporary)
    assert second.get("a") == "1" and not second.changed
    second.close()


def test_a_signatures_file_that_cannot_be_written_is_an_os_error(tmp_path: Path, monkeypatch: Any) -> None:
    # So that `feeds build` says it in one line (a full disk as a full disk), not a traceback.
    import errno

    signatures = Signatures(str(tmp_path / FILE), lambda: str(tmp_path / ".tmp-x"))

    def full(*_args: Any) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(signatures, "_db", type("Db", (), {"execute": staticmethod(full)})())
    with pytest.raises(OSError) as raised:
        signatures.set("a", "1")
    assert raised.value.errno == errno.ENOSPC


def test_the_manifest_written_from_records_on_disk_is_the_manifest_dumped_whole(
    sqlite_run: Any, build: Any, tmp_path: Path
) -> None:
    import json

    from feeds.manifest import MANIFEST, FeedRecord, Records, manifest_chunks

    sqlite_run.import_seed()
    out = build(sqlite_run, tmp_path / "out", "--page-size", "3").out  # archive pages, with their sums
    written = (out / MANIFEST).read_bytes()
    manifest = json.loads(written)
    kept = Records()
    for name in reversed(list(manifest["feeds"])):  # added in any order, written sorted
        kept.add(name, FeedRecord.from_json(manifest["feeds"][name]))
    assert len(kept) == len(manifest["feeds"]) > 3
    for size in (1, 100, 1 << 16):
        assert b"".join(manifest_chunks({**manifest, "feeds": kept}, size)) == written
        # A key sorted before "feeds" (none today) goes before it, as json.dumps puts it.
        wider = {**manifest, "alpha": [1, "a"], "zulu": {}}
        assert b"".join(manifest_chunks({**wider, "feeds": kept}, size)) == (
            json.dumps(wider, sort_keys=True, separators=(",", ":")).encode() + b"\n"
        )
    story = manifest["feeds"]["story"]
    assert json.loads(kept["story"]) == story and story["archives"] > 3 and len(story["archive_sums"]) > 3
    light = FeedRecord.from_json(story).light()  # what the build keeps: the same files
    assert light.archive_sums == [] and light.files() == FeedRecord.from_json(story).files()


def test_the_paths_a_build_wrote_are_kept_on_disk_in_order() -> None:
    with Paths() as paths:
        for i in range(3):
            paths.append(f"topic/t-{i}.atom")
        assert list(paths) == ["topic/t-0.atom", "topic/t-1.atom", "topic/t-2.atom"]
        paths.append("checkpoint.txt")  # after a first read, as the CLI adds its own
        assert len(paths) == 4 and list(paths)[-2:] == ["topic/t-2.atom", "checkpoint.txt"]


def test_kept_rows_read_in_turns_and_paths_added_after_a_partial_read() -> None:
    rows = Rows()
    for i in range(4):
        rows.append({"n": i})
    a, b = iter(rows), iter(rows)
    assert [next(a), next(b), next(a), next(b)] == [{"n": 0}, {"n": 0}, {"n": 1}, {"n": 1}]
    rows.close()
    with Paths() as paths:
        for p in ("a/one", "b/two", "c/three"):
            paths.append(p)
        next(iter(paths))  # a read left part-way
        paths.append("d/four")
        assert list(paths) == ["a/one", "b/two", "c/three", "d/four"]

"""`timeline serve` keeps its site in a folder: the one `feeds build --out` maintains,
brought up to date incrementally and served from disk with validators kept in memory."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest

import feeds.server as fs
from feeds.layout import Output
from tests.conftest import installed_timeline
from tests.feeds.test_server import fetch, started

BASE = "http://feeds.test"


@contextmanager
def serving(cli: Any, *args: str) -> Iterator[tuple[str, list[str]]]:
    proc = subprocess.Popen(
        [*installed_timeline(), "--db", cli.target, "serve", "--port", "0", "--base-url", BASE, *args],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        yield started(proc)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def inodes(out: Path) -> dict[str, int]:
    return {str(p.relative_to(out)): p.stat().st_ino for p in out.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_serves_the_folder_feeds_build_maintains_and_restarts_incrementally(sqlite_run: Any, tmp_path: Path) -> None:
    sqlite_run.import_seed()
    out = tmp_path / "site"
    sqlite_run("feeds", "build", "--out", str(out), "--base-url", BASE)
    built = inodes(out)
    with serving(sqlite_run, "--out", str(out)) as (url, lines):
        assert lines[-1].startswith(f"0 files written in {out}"), lines
        status, _, body = fetch(f"{url}/story.atom")
        assert status == 200 and body == (out / "story.atom").read_bytes()
    assert inodes(out) == built  # nothing rewritten: the same settings, no new event

    sqlite_run("add", "statement", "--title", "Appended between runs", "--occurred", "2024-07-09",
               "--speaker", "Hun Manet", "--paraphrase", "Said so.", "--source", "https://news.example/x")  # fmt: skip
    with serving(sqlite_run, "--out", str(out)) as (url, lines):
        written = int(lines[-1].split()[0])
        status, h, body = fetch(f"{url}/story.atom")
    now = inodes(out)
    changed = {p for p in now if now[p] != built.get(p)} - {".timeline-feeds.json", ".timeline-pages.sqlite"}  # new too
    assert {"story.atom", "actor/hun-manet.atom", "index.json"} <= changed and "topic/aid.atom" not in changed
    assert len([p for p in changed if p.startswith("d/")]) == 1  # the new development's own page
    assert written == len(changed) < len(built) / 2
    d = feedparser.parse(body)
    assert status == 200 and d.entries[0].title == "Appended between runs"
    # Last-Modified: the time of the event that last changed the document, kept as its mtime.
    updated = datetime.fromisoformat(d.feed.updated.replace("Z", "+00:00")).replace(microsecond=0)
    assert h["Last-Modified"] == format_datetime(updated, usegmt=True)
    assert (out / "story.atom").stat().st_mtime == updated.timestamp()


@pytest.mark.slow
def test_serve_defaults_to_a_folder_beside_the_database(sqlite_run: Any, tmp_path: Path, timeline_cmd: Any) -> None:
    sqlite_run.import_seed()
    with serving(sqlite_run) as (url, _):
        assert fetch(f"{url}/story.atom")[2] == (tmp_path / "timeline-feeds" / "story.atom").read_bytes()
    assert "timeline-feeds" in timeline_cmd("serve", "--help").stdout


@pytest.mark.slow
def test_serve_refuses_an_out_it_cannot_write(sqlite_run: Any, tmp_path: Path, timeline_cmd: Any) -> None:
    sqlite_run.import_seed()
    (tmp_path / "a-file").write_text("x")
    for out, code, error in ((tmp_path / "a-file", 2, "Error: Invalid value for '--out'"),
                             (tmp_path / "a-file" / "site", 1, "Error: cannot write to ")):  # fmt: skip
        result = timeline_cmd("--db", sqlite_run.target, "serve", "--port", "0", "--out", str(out))
        assert (result.returncode, result.stderr.count("\n")) == (code, 1) and result.stderr.startswith(error)


@pytest.mark.slow
def test_serve_answers_only_for_published_documents(sqlite_run: Any, tmp_path: Path) -> None:
    sqlite_run.import_seed()
    out = tmp_path / "site"
    (tmp_path / "secret.json").write_text("{}")
    out.mkdir()
    (out / "notes.txt").write_text("not a feed")
    with serving(sqlite_run, "--out", str(out), "--page-size", "5") as (url, _):
        assert fetch(f"{url}/archive/story/1.atom")[0] == 200
        assert (out / ".timeline-feeds.json").exists() and list((out / ".timeline-archived").rglob("*.ids"))
        for path in ("/.timeline-feeds.json", "/.timeline-archived/topic/aid.ids", "/notes.txt", "/../secret.json",
                     "/%2e%2e/secret.json", "/topic/../story.atom", "/story.atom/", "/archive/story", "//etc/passwd"):  # fmt: skip
            assert fetch(url + path)[0] == 404, path


# --- in process: the folder and its validators, without a log ---------------------------------------------------


def site(root: Path, monkeypatch: pytest.MonkeyPatch, poll: float = 0.0, said: list[str] | None = None) -> fs.Site:
    s = fs.Site(app=None, settings=None, root=root, poll=poll, say=(said if said is not None else []).append)  # type: ignore[arg-type]
    monkeypatch.setattr(s, "update", lambda: (0, 0))
    s.ready.set()
    return s


def get(s: fs.Site, path: str, method: str = "GET", **headers: str) -> tuple[str, dict[str, str], bytes]:
    got: dict[str, Any] = {}

    def start_response(status: str, hs: list[tuple[str, str]]) -> None:
        got.update(status=status, headers=dict(hs))

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()},
    }
    body = b"".join(fs.make_app(s)(environ, start_response))
    return got["status"], got["headers"], body


def replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(".tmp-test")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def test_a_rewritten_file_is_served_with_its_own_validators(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = site(tmp_path, monkeypatch)
    replace(tmp_path / "index.json", b'{"v": 1}\n')
    os.utime(tmp_path / "index.json", (86400, 86400))
    assert get(s, "/")[0] == "404 Not Found"  # '/' is index.html
    status, h, body = get(s, "/index.json")
    assert (status, body, h["Content-Length"], h["Last-Modified"]) == (
        "200 OK", b'{"v": 1}\n', "9", "Fri, 02 Jan 1970 00:00:00 GMT"
    )  # fmt: skip
    assert get(s, "/index.json", **{"If-None-Match": h["ETag"]})[0] == "304 Not Modified"
    assert get(s, "/index.json", "HEAD")[1:] == (h, b"")

    replace(tmp_path / "index.json", b'{"v": 22}\n')  # as Directory and `feeds build` write: a new file
    status, h2, body = get(s, "/index.json", **{"If-None-Match": h["ETag"]})
    assert (status, body, h2["Content-Length"]) == ("200 OK", b'{"v": 22}\n', "10") and h2["ETag"] != h["ETag"]
    with open(tmp_path / "index.json", "r+b") as f:  # rewritten in place, same size
        f.write(b'{"v": 33}\n')
    status, h3, body = get(s, "/index.json")
    assert body == b'{"v": 33}\n' and h3["ETag"] not in (h["ETag"], h2["ETag"])
    (tmp_path / "index.json").unlink()
    assert get(s, "/index.json")[0] == "404 Not Found"


def test_documents_are_looked_at_again_after_the_poll_or_at_once_when_the_server_rewrote_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = site(tmp_path, monkeypatch, poll=0.3)
    replace(tmp_path / "story.atom", b"<feed>1</feed>")
    assert get(s, "/story.atom")[2] == b"<feed>1</feed>"
    replace(tmp_path / "story.atom", b"<feed>2</feed>")  # by another process
    assert get(s, "/story.atom")[2] == b"<feed>1</feed>"  # from memory, no system call
    time.sleep(0.3)
    assert get(s, "/story.atom")[2] == b"<feed>2</feed>"
    changed = datetime(2024, 7, 6, 12, 0, 1, tzinfo=UTC)
    s.directory.emit(Output("story.atom", b"<feed>3</feed>", changed))  # as a rebuild does
    _, h, body = get(s, "/story.atom")
    assert body == b"<feed>3</feed>" and h["Last-Modified"] == "Sat, 06 Jul 2024 12:00:01 GMT"
    assert (tmp_path / "story.atom").stat().st_mtime == changed.timestamp()


def test_memory_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fs, "MAX_FILES", 3)
    monkeypatch.setattr(fs, "MAX_BYTES", 25)
    s = site(tmp_path, monkeypatch, poll=60)
    for i in range(5):
        (tmp_path / f"{i}.json").write_bytes(b"%d" % i * 10)
        assert get(s, f"/{i}.json")[2] == b"%d" % i * 10
    kept = s._documents
    assert list(kept) == ["2.json", "3.json", "4.json"]
    assert [d.data is not None for d in kept.values()] == [False, True, True] and s._bytes == 20
    (tmp_path / "big.json").write_bytes(b"x" * 26)
    assert get(s, "/big.json")[2] == b"x" * 26 and kept["big.json"].data is None  # read from disk each time
    assert get(s, "/2.json")[2] == b"2" * 10 and s._bytes <= 25


def test_a_slow_or_failing_update_never_holds_up_or_fails_a_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[str] = []
    s = site(tmp_path, monkeypatch, poll=0.02, said=said)
    (tmp_path / "story.atom").write_text("<feed/>")
    release, calls, finished = threading.Event(), [], []

    def slow() -> tuple[int, int]:
        calls.append(1)
        release.wait(60)
        finished.append(1)
        return 0, 0

    monkeypatch.setattr(s, "update", slow)
    halt = s.start()
    try:
        while not calls:
            time.sleep(0.01)
        assert get(s, "/story.atom")[2] == b"<feed/>"  # served from the folder meanwhile
        assert finished == [] and len(calls) == 1  # answered while the update still waits
        failing = threading.Event()

        def broken() -> tuple[int, int]:
            if failing.is_set():
                calls.append(2)
                raise OSError(28, "No space left on device")
            calls.append(3)
            return 0, 0

        monkeypatch.setattr(s, "update", broken)
        failing.set()
        release.set()
        began = time.monotonic()
        while time.monotonic() < began + 1.0:
            assert get(s, "/story.atom")[0] == "200 OK"
            time.sleep(0.01)
        failures = calls.count(2)
        # One line per failed refresh, none per request; the pause doubles (0.04, 0.08,
        # ... up to MAX_PAUSE), so about five tries in a second instead of fifty.
        assert 3 <= failures <= 6, calls
        assert said == ["feeds not updated: the disk is full (No space left on device)"] * failures
        failing.clear()
        while 3 not in calls:
            time.sleep(0.01)
        time.sleep(0.1)
    finally:
        halt()
    assert said[failures:] == [f"feeds updated again after {failures} failed refreshes (log position #0)"]


def test_the_first_build_runs_in_the_background_and_answers_503_until_it_is_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[str] = []
    s = site(tmp_path, monkeypatch, poll=0.02, said=said)
    s.ready.clear()
    (tmp_path / "story.atom").write_text("<feed/>")  # built by an earlier run
    release = threading.Event()

    def first() -> tuple[int, int]:
        release.wait(10)
        (tmp_path / "index.html").write_text("<p>index</p>")
        return 1, 7

    monkeypatch.setattr(s, "update", first)
    halt = s.start()
    try:
        assert get(s, "/story.atom")[0] == "200 OK"
        status, h, body = get(s, "/index.html")
        assert (status, h["Retry-After"], body) == (
            "503 Service Unavailable",
            "5",
            b"the feeds are being built; try again shortly\n",
        )
        assert get(s, "/topic/nope.atom", "HEAD")[:3:2] == ("503 Service Unavailable", b"")
        assert get(s, "/.timeline-feeds.json")[0] == "404 Not Found"  # never a feed
        release.set()
        assert s.ready.wait(5)
        assert get(s, "/index.html")[0] == "200 OK" and get(s, "/topic/nope.atom")[0] == "404 Not Found"
    finally:
        halt()
    assert said == [f"1 files written in {tmp_path} (log position #7)"]

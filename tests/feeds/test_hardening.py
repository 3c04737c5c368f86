"""What `serve` and `feeds build` refuse: links out of the folder, traversal, sniffing,
markup in names; and what they survive: a full disk, files lost or damaged by hand."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import BASE, snapshot
from lxml import html as lxml_html

import feeds.server as fs
from tests.feeds.test_serve_folder import get, site

NOSNIFF = ("X-Content-Type-Options", "nosniff")


# --- defect 4: links ------------------------------------------------------------------------------------------


def test_links_are_served_only_when_they_resolve_to_a_regular_file_inside_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    (out / "topic").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.json").write_text('{"secret": 1}')
    (out / "story.atom").write_text("<feed/>")
    (out / "passwd.json").symlink_to("/etc/passwd")
    (out / "secret.json").symlink_to(elsewhere / "secret.json")
    (out / "up.json").symlink_to("../elsewhere/secret.json")
    (out / "actor").symlink_to(elsewhere)  # a whole folder linked out
    (out / "loop.json").symlink_to(out / "loop.json")
    (out / "dir.atom").mkdir()
    os.mkfifo(out / "pipe.json")  # opening a FIFO for reading would block without O_NONBLOCK
    (out / "topic" / "aid.atom").symlink_to(out / "story.atom")  # stays inside: served
    s = site(out, monkeypatch)
    for path in ("/passwd.json", "/secret.json", "/up.json", "/actor/secret.json", "/loop.json", "/dir.atom",
                 "/pipe.json"):  # fmt: skip
        assert get(s, path)[0] == "404 Not Found", path
    assert get(s, "/topic/aid.atom")[::2] == ("200 OK", b"<feed/>")
    assert get(s, "/story.atom")[::2] == ("200 OK", b"<feed/>")


def test_the_folder_itself_may_be_a_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "story.atom").write_text("<feed/>")
    (tmp_path / "out").symlink_to(tmp_path / "real")
    assert get(site(tmp_path / "out", monkeypatch), "/story.atom")[0] == "200 OK"


# --- defect 5: security headers on every response ---------------------------------------------------------------


def test_every_response_carries_nosniff_and_a_strict_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "index.html").write_text("<p>x</p>")
    s = site(tmp_path, monkeypatch)
    _, h, _ = get(s, "/index.html")
    answers = [
        get(s, "/index.html"),
        get(s, "/index.html", "HEAD"),
        get(s, "/index.html", **{"If-None-Match": h["ETag"]}),
        get(s, "/nope.atom"),
        get(s, "/../x"),
        get(s, "/index.html", "POST"),
        get(s, "/index.html", "DELETE"),
    ]
    s.ready.clear()
    answers.append(get(s, "/not-yet.atom"))
    statuses = [a[0][:3] for a in answers]
    assert statuses == ["200", "200", "304", "404", "404", "405", "405", "503"]
    for status, headers, _ in answers:
        assert headers["X-Content-Type-Options"] == "nosniff", status
        assert headers["Content-Security-Policy"].startswith("default-src 'none'"), status
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY" and headers["Referrer-Policy"] == "no-referrer"


def test_a_handler_added_before_the_folder_answers_with_the_same_headers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hook other endpoints (proofs, say) plug into."""
    s = site(tmp_path, monkeypatch)

    def proof(path: str, environ: dict[str, Any]) -> fs.Response | None:
        if path != "proof/inclusion":
            return None
        return fs.Response("200 OK", b'{"ok": true}', [("Content-Type", "application/json")])

    got: dict[str, Any] = {}
    app = fs.make_app(s, handlers=[proof])
    body = b"".join(app({"REQUEST_METHOD": "GET", "PATH_INFO": "/proof/inclusion"},
                        lambda status, hs: got.update(status=status, headers=hs)))  # fmt: skip
    assert got["status"] == "200 OK" and body == b'{"ok": true}'
    assert ("Content-Type", "application/json") in got["headers"] and NOSNIFF in got["headers"]
    assert ("Content-Length", "12") in got["headers"]
    assert [k for k, _ in got["headers"]].count("Content-Type") == 1
    assert get(s, "/proof/other")[0] == "404 Not Found"


# --- the HTML index escapes every field -------------------------------------------------------------------------

MARKUP = '<script>alert("x")</script><img src=x onerror=alert(1)>&amp;"\''


def test_the_index_escapes_every_field(sqlite_run: Any, tmp_path: Path) -> None:
    sqlite_run("add", "statement", "--title", MARKUP, "--occurred", "2024-07-08", "--speaker", MARKUP,
               "--actors", f"{MARKUP} 2", "--paraphrase", MARKUP, "--source", "https://news.example/a")  # fmt: skip
    out = tmp_path / "out"
    sqlite_run("feeds", "build", "--out", str(out), "--base-url", "https://x.example/a&b'c", "--title", MARKUP)
    page = (out / "feeds.html").read_text(encoding="utf-8")  # the list of feeds; index.html: tests/browser
    doc = lxml_html.document_fromstring(page)
    assert doc.xpath("//script|//img|//@onerror") == []
    assert doc.findtext(".//title") == f"{MARKUP}: feeds" and doc.findtext(".//h1") == MARKUP
    names = [a.text_content() for a in doc.xpath("//li/a[1]")]
    assert names[0] == MARKUP and f"{MARKUP}: {MARKUP}" in names and f"{MARKUP}: {MARKUP} 2" in names
    hrefs = doc.xpath("//li/a/@href") + doc.xpath("//link/@href")
    assert len(hrefs) == 2 * 4 and all(h.startswith("https://x.example/a&b'c/") for h in hrefs)
    assert 'href="https://x.example/a&amp;b&#x27;c/story.atom"' in page


# --- nothing written outside --out for any slug -----------------------------------------------------------------


def test_no_actor_or_topic_name_writes_outside_the_folder(sqlite_run: Any, tmp_path: Path) -> None:
    names = ["..", "../..", "../../etc/passwd", "/etc/passwd", ".", "a/../../b", "..\\..\\x", "%2e%2e", "\u2025", "~"]
    for i, name in enumerate(names):
        sqlite_run("add", "statement", "--title", f"Statement {i}", "--occurred", "2024-07-08", "--speaker", name,
                   "--actors", name, "--paraphrase", "x", "--source", "https://news.example/a")  # fmt: skip
    bad_topic = sqlite_run("add", "statement", "--title", "t", "--occurred", "2024", "--speaker", "x",
                           "--paraphrase", "x", "--topics", "../x", "--source", "https://a.example", ok=False)  # fmt: skip
    assert bad_topic.exit_code == 2 and bad_topic.stderr == (
        "Error: topics: topic '../x' is not a slug (lower-case letters, digits, hyphens)\n"
    )  # a value on the command line: 2
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    out = tmp_path / "deep" / "out"
    sqlite_run("feeds", "build", "--out", str(out), "--base-url", BASE)
    after = sorted(str(p) for p in tmp_path.rglob("*") if not p.is_relative_to(out))
    assert after == sorted([*before, str(tmp_path / "deep")])
    files = [p.relative_to(out) for p in out.rglob("*") if p.is_file()]
    assert len([f for f in files if f.parts[0] == "actor" and f.suffix == ".atom"]) >= 5
    for f in files:
        assert all(part not in ("..", ".", "") for part in f.parts)
        assert (out / f).resolve().is_relative_to(out.resolve())


def test_a_folder_linked_out_of_the_output_is_refused_in_one_line(sqlite_run: Any, tmp_path: Path) -> None:
    sqlite_run.import_seed()
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "topic").symlink_to(elsewhere)
    result = sqlite_run("feeds", "build", "--out", str(out), "--base-url", BASE, ok=False)
    assert result.exit_code == 1 and result.stderr == (
        f"Error: cannot write the feeds: output path 'topic' leads outside {str(out)!r}\n"
    )
    assert list(elsewhere.iterdir()) == []


# --- defect 12: a folder heals ----------------------------------------------------------------------------------


def test_a_build_rewrites_what_was_lost_or_damaged_by_hand(sqlite_run: Any, tmp_path: Path) -> None:
    sqlite_run.import_seed()
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    args = ("feeds", "build", "--base-url", BASE, "--page-size", "3", "--json")
    sqlite_run(*args, "--out", str(out))
    sqlite_run(*args, "--out", str(fresh))
    want = snapshot(fresh)
    assert snapshot(out) == want

    (out / "archive" / "story" / "2.atom").unlink()  # deleted by hand
    shutil.rmtree(out / "archive" / "topic" / "aid")
    page = out / "archive" / "story" / "1.rss"
    data = page.read_bytes()
    page.write_bytes(data[:10] + b"X" + data[11:])  # same size, changed bytes
    (out / "topic" / "aid.rss").write_bytes((out / "topic" / "aid.rss").read_bytes()[:-40])  # cut short
    (out / "actor" / "japan.atom").unlink()
    (out / "actor" / "japan.atom").symlink_to("/etc/passwd")
    sidecar = out / ".timeline-archived" / "actor" / "japan.ids"
    sidecar.write_bytes(sidecar.read_bytes()[:-5])

    healed = json.loads(sqlite_run(*args, "--out", str(out)).stdout)
    assert {"archive/story/2.atom", "archive/story/1.rss", "topic/aid.rss", "actor/japan.atom"} <= set(
        healed["written"]
    )
    assert any(p.startswith("archive/topic/aid/") for p in healed["written"])
    assert snapshot(out) == want and not (out / "actor" / "japan.atom").is_symlink()
    again = json.loads(sqlite_run(*args, "--out", str(out)).stdout)
    assert again["written"] == [] and again["rebuilt"] == []


def test_a_check_hashes_only_files_changed_since_the_manifest(
    sqlite_run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from feeds.folder import Directory

    sqlite_run.import_seed()
    out = tmp_path / "out"
    sqlite_run("feeds", "build", "--out", str(out), "--base-url", BASE, "--page-size", "3")
    hashed: list[str] = []
    real = Directory._digest
    monkeypatch.setattr(Directory, "_digest", staticmethod(lambda full: hashed.append(full) or real(full)))
    d = Directory(out)
    assert d.damaged(d.manifest()) == frozenset() and hashed == []
    page = out / "archive" / "story" / "1.atom"
    page.write_bytes(page.read_bytes())  # touched: same bytes, a newer ctime
    assert d.damaged(d.manifest()) == frozenset() and hashed == [str(page)]


# --- defect 3: a full disk ----------------------------------------------------------------------------------------


DISK = 4 * 2**20


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of 4 MB mounted under the test's folder, always unmounted afterwards."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        if os.environ.get("CI"):
            pytest.fail("under CI the full-disk test must run: it needs root to mount a tmpfs")
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK},mode=0755", "tmpfs", str(mount)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs: {done.stderr.strip()}")
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.slow
def test_a_full_disk_is_one_line_leaves_every_file_whole_and_the_next_build_finishes(
    sqlite_run: Any, tmp_path: Path, small_disk: Path, timeline_cmd: Any
) -> None:
    lines = [
        {"kind": "statement", "title": f"Statement {i} " + "words " * 60, "occurred": "2024-07-08",
         "speaker": f"Speaker {i % 7}", "paraphrase": "p " * 200, "topics": [f"t{i % 5}"],
         "sources": ["https://news.example/a"]}
        for i in range(90)
    ]  # fmt: skip  # enough for the feeds (and pages, a page per development) to need more than the disk has left
    (tmp_path / "many.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    sqlite_run("import", str(tmp_path / "many.jsonl"))
    fresh = tmp_path / "fresh"
    sqlite_run("feeds", "build", "--out", str(fresh), "--base-url", BASE, "--page-size", "10")
    need = sum(p.stat().st_size for p in fresh.rglob("*") if p.is_file())
    assert 1_000_000 < need < DISK * 0.8
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * (DISK - need // 2))  # the disk holds about half the feeds
    out = small_disk / "out"
    result = timeline_cmd("--db", sqlite_run.target, "feeds", "build", "--out", str(out), "--base-url", BASE,
                          "--page-size", "10")  # fmt: skip
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: the disk is full: cannot write the feeds in {str(out)!r}; every file there is still whole, "
        "and the next build after space is freed finishes the work\n"
    )
    visible = {p: b for p, b in snapshot(out).items() if not any(part.startswith(".") for part in Path(p).parts)}
    want = snapshot(fresh)
    assert visible and all(want[p] == b for p, b in visible.items())  # each one whole, as a full build has it
    assert not any(".tmp-" in p for p in snapshot(out))  # the one it was writing was removed

    filler.unlink()
    again = timeline_cmd("--db", sqlite_run.target, "feeds", "build", "--out", str(out), "--base-url", BASE,
                         "--page-size", "10")  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert snapshot(out) == want


@pytest.mark.slow
def test_a_full_temporary_folder_is_named_as_such(
    sqlite_run: Any, tmp_path: Path, small_disk: Path, timeline_cmd: Any
) -> None:
    """The build's working files go to TMPDIR: when that is what filled up, the line says
    so, not that OUT's disk is full."""
    sqlite_run.import_seed()
    (small_disk / "filler").write_bytes(b"\0" * (DISK - 16 * 1024))
    out = tmp_path / "out"
    result = timeline_cmd("--db", sqlite_run.target, "feeds", "build", "--out", str(out), "--base-url", BASE,
                          env={"TMPDIR": str(small_disk)})  # fmt: skip
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: the temporary folder {str(small_disk)!r} is full: the feeds build keeps its working files there"
        f" (set TMPDIR to a folder with room); every file in {str(out)!r} is still whole\n"
    )

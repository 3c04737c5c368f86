"""`timeline feeds build` on SQLite and PostgreSQL: valid, deterministic, incremental feeds."""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from pathlib import Path
from typing import Any

import feedparser
import pytest
from conftest import AT, ATOM, BASE, FH, Built, feed_files, snapshot

SOURCE = "https://news.example/article"


def add_statement(cli: Any, title: str, *extra: str) -> str:
    return cli.json("add", "statement", "--title", title, "--occurred", "2024-07-08", "--speaker", "Hun Manet",
                    "--source", SOURCE, "--paraphrase", "Said so.", *extra)["id"]  # fmt: skip


def check_atom(built: Built, rel: str) -> Any:
    """RFC 4287: feed id, title, updated, author, self link; each entry id, title, updated,
    and content or an alternate link."""
    root = built.xml(rel)
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert len(root.findall(f"{ATOM}{name}")) == 1 and root.findtext(f"{ATOM}{name}")
    assert root.findtext(f"{ATOM}author/{ATOM}name")
    selfs = [ln.get("href") for ln in root.findall(f"{ATOM}link") if ln.get("rel") == "self"]
    assert selfs == [f"{BASE}/{rel}"]
    assert root.findtext(f"{ATOM}id").startswith("tag:news-timeline.example,")
    newest = ""
    for e in root.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated", "published"):
            assert len(e.findall(f"{ATOM}{name}")) == 1 and e.findtext(f"{ATOM}{name}")
        assert e.find(f"{ATOM}content") is not None
        alternates = [ln for ln in e.findall(f"{ATOM}link") if ln.get("rel", "alternate") == "alternate"]
        assert len(alternates) <= 1
        newest = max(newest, e.findtext(f"{ATOM}updated"))
    if newest:
        assert root.findtext(f"{ATOM}updated") == newest
    return root


def check_rss(built: Built, rel: str) -> Any:
    root = built.xml(rel)
    channel = root.find("channel")
    assert root.tag == "rss" and root.get("version") == "2.0"
    for name in ("title", "link", "description"):
        assert channel.findtext(name)
    for item in channel.findall("item"):
        assert item.findtext("title") and item.find("guid").get("isPermaLink") == "false"
    return root


CHECKPOINT_LINK = {"href": f"{BASE}/checkpoint", "rel": "https://c2sp.org/tlog-checkpoint", "type": "text/plain"}


def assert_links_the_checkpoint(root: Any) -> None:
    """One link to the checkpoint among the feed's own links, before any entry, and no
    element in a namespace the W3C validator does not know (only RFC 6721's, which it
    predates, stays)."""
    # An extension relation is an absolute URI (RFC 4287 4.2.7.2), which the W3C validator
    # takes as a valid relation; a bare name it does not know draws a warning.
    assert re.fullmatch(r"https://[a-z0-9.]+/[a-z0-9-]+", CHECKPOINT_LINK["rel"])
    parent = root if root.tag == f"{ATOM}feed" else root.find("channel")
    links = [dict(ln.attrib) for ln in parent.findall(f"{ATOM}link")]
    assert links.count(CHECKPOINT_LINK) == 1
    kids = [el.tag for el in parent]
    first_entry = next((i for i, t in enumerate(kids) if t in (f"{ATOM}entry", "item")), len(kids))
    assert [dict(el.attrib) for el in parent[:first_entry]].count(CHECKPOINT_LINK) == 1
    namespaces = {el.tag[1:].split("}")[0] for el in root.iter() if isinstance(el.tag, str) and el.tag.startswith("{")}
    known = {ATOM, FH, "{http://purl.org/rss/1.0/modules/content/}"}  # Atom, RFC 5005, RSS content:encoded
    assert namespaces <= {ns[1:-1] for ns in (*known, AT)}


def test_every_seed_feed_is_valid_and_complete(run: Any, build: Any) -> None:
    run.import_seed()
    built = build(run)
    index = built.index()
    assert index["head"]["position"] == 25 and index["feeds"][0]["name"] == "story"
    names = {f["name"] for f in index["feeds"]}
    assert {"story", "topic/aid", "actor/yoko-kamikawa"} <= names and len(names) == 1 + 11 + 14
    for row in index["feeds"]:
        for fmt in ("atom", "rss"):
            rel = row[fmt].removeprefix(BASE + "/")
            d = built.parsed(rel)
            assert len(d.entries) == row["developments"], rel
        atom = check_atom(built, row["atom"].removeprefix(BASE + "/"))
        rss = check_rss(built, row["rss"].removeprefix(BASE + "/"))
        for root in (atom, rss):
            assert_links_the_checkpoint(root)
    story = built.xml("story.atom")
    updated = [e.findtext(f"{ATOM}updated") for e in story.findall(f"{ATOM}entry")]
    assert updated == sorted(updated, reverse=True)  # newest first
    html = (built.out / "feeds.html").read_text(encoding="utf-8")
    assert 'type="application/atom+xml"' in html and "topic/aid.atom" in html
    page = (built.out / "index.html").read_text(encoding="utf-8")
    assert 'rel="alternate" type="application/atom+xml"' in page and 'href="feeds.html"' in page


def test_builds_are_deterministic_and_a_rebuild_writes_nothing(sqlite_run: Any, build: Any, tmp_path: Path) -> None:
    sqlite_run.import_seed()
    first = build(sqlite_run, tmp_path / "a")
    second = build(sqlite_run, tmp_path / "b")
    assert snapshot(first.out) == snapshot(second.out)
    again = build(sqlite_run, tmp_path / "a")
    assert again.result["written"] == [] and again.result["rebuilt"] == []
    assert snapshot(first.out) == snapshot(second.out)


def test_one_new_event_rewrites_only_the_feeds_it_touches(sqlite_run: Any, build: Any) -> None:
    sqlite_run.import_seed()
    build(sqlite_run)
    add_statement(sqlite_run, "A new statement on water", "--topics", "water")
    built = build(sqlite_run)
    written = built.result["written"]
    assert sorted(p for p in written if not p.endswith(".html") and not p.startswith(".")) == [
        "actor/hun-manet.atom", "actor/hun-manet.rss", "checkpoint", "index.json",
        "story.atom", "story.rss", "topic/water.atom", "topic/water.rss",
    ]  # fmt: skip
    # The story pages: the story's, the touched topic's and actor's, the kinds' and the changes.
    assert {"index.html", "feeds.html", "changes.html", "topic/water.html", "actor/hun-manet.html",
            "kind/statement.html"} <= set(written)  # fmt: skip
    assert not {"topic/aid.html", "actor/japan.html"} & set(written)
    assert built.result["rebuilt"] == ["actor/hun-manet", "story", "topic/water"]
    assert len(built.parsed("story.rss").entries) == 26


def test_correction_and_retraction_as_a_subscriber_sees_them(run: Any, build: Any) -> None:
    run.import_seed()
    dev = add_statement(run, "Japan to fund a bridge", "--topics", "infrastructure")
    before = build(run).entries()
    eid = next(i for i in before if i.endswith(dev))
    run("correct", dev, "--set", "title=Japan to fund two bridges", "--reason", "second bridge in the report")
    corrected = build(run).entries()
    assert corrected.keys() == before.keys()
    assert corrected[eid]["title"] == "Japan to fund two bridges"
    assert corrected[eid]["updated"] > before[eid]["updated"]
    assert "Corrected on" in corrected[eid]["content"] and "→" in corrected[eid]["content"]
    assert "second bridge in the report" in corrected[eid]["content"]

    run("retract", dev, "--reason", "the ministry denied it")
    built = build(run)
    retracted = built.entries()
    assert retracted.keys() == before.keys()
    assert retracted[eid]["title"].startswith("Retracted: ")
    assert retracted[eid]["updated"] > corrected[eid]["updated"]
    assert "the ministry denied it" in retracted[eid]["content"]
    for rel in ("story.atom", "topic/infrastructure.atom", "actor/hun-manet.atom"):
        stones = built.xml(rel).findall(f"{AT}deleted-entry")
        assert [s.get("ref") for s in stones] == [eid], rel
        assert stones[0].get("when") and "the ministry denied it" in stones[0].findtext(f"{AT}comment")
        assert len(built.parsed(rel).entries) == len(built.parsed(rel.replace(".atom", ".rss")).entries)
    assert built.xml("topic/aid.atom").findall(f"{AT}deleted-entry") == []
    parsed = feedparser.parse((built.out / "story.atom").read_bytes())
    assert parsed.bozo == 0 and len(parsed.entries) == 26


AWKWARD = [
    "Tom & Jerry <script>alert('x')</script> \"quoted\" ]]> &amp;",
    "Emoji 🇯🇵🤝🇰🇭 and ZWJ 👩‍👩‍👧",
    "بيان وزير الخارجية حول المساعدات اليابانية لكمبوديا",
    "Long " + "word " * 400,
]


def test_awkward_content_stays_valid(sqlite_run: Any, build: Any) -> None:
    ids = [add_statement(sqlite_run, t, "--quote", f"«{t}»", "--topics", "aid", "--actors", t[:60]) for t in AWKWARD]
    # Characters XML cannot carry are never stored, so nothing invalid reaches a feed.
    ids.append(add_statement(sqlite_run, "control \x01\x02 chars\x0b here"))
    assert sqlite_run.json("show", ids[-1])["title"] == "control chars here"
    built = build(sqlite_run)
    titles = {e.title for e in built.parsed("story.atom").entries}
    assert "control chars here" in titles
    for t in AWKWARD:
        assert t.strip() in titles or " ".join(t.split()) in titles
    for path in feed_files(built.out):
        d = built.parsed(str(path.relative_to(built.out)))
        assert len(d.entries) >= 1
    assert len(built.parsed("story.rss").entries) == len(ids)


def test_slugs_that_would_escape_the_folder_never_write_outside_it(sqlite_run: Any, build: Any, tmp_path: Path) -> None:
    add_statement(sqlite_run, "Escape attempt", "--actors", "../../../escaped", "--actors", "/etc/passwd")
    sqlite_run("show")  # the views exist and are caught up
    # Names the domain would never produce, planted straight into the views.
    with sqlite3.connect(sqlite_run.target) as conn:
        for name in ("topic/../../../escaped", "actor//tmp/escaped", "topic/a\0b", "../escaped", "topic/"):
            conn.execute("INSERT INTO timeline_feeds (feed, last_position) VALUES (?, 1)", [name])
    out = tmp_path / "deep" / "out"
    built = build(sqlite_run, out)
    outside = {p.name for p in tmp_path.rglob("*") if p.is_file() and not p.is_relative_to(out)}
    assert all(name.startswith("timeline.db") for name in outside), outside
    for rel in built.result["written"]:
        assert (out / rel).resolve().is_relative_to(out.resolve())
    assert (out / "actor" / "escaped.atom").is_file() and (out / "actor" / "etc-passwd.atom").is_file()
    assert len(list(out.glob("topic/x-*.atom"))) == 3 and len(list(out.glob("other/x-*.atom"))) == 1


def test_archives_follow_rfc_5005_and_full_pages_never_change(sqlite_run: Any, build: Any) -> None:
    sqlite_run.import_seed()
    built = build(sqlite_run, None, "--page-size", "10")
    current = built.xml("story.atom")
    assert len(current.findall(f"{ATOM}entry")) == 10
    links = {ln.get("rel"): ln.get("href") for ln in current.findall(f"{ATOM}link")}
    assert links["prev-archive"] == f"{BASE}/archive/story/2.atom"
    assert current.find(f"{FH}archive") is None
    ids = set(built.entries())
    for k in (1, 2):
        page = built.xml(f"archive/story/{k}.atom")
        assert page.find(f"{FH}archive") is not None
        plinks = {ln.get("rel"): ln.get("href") for ln in page.findall(f"{ATOM}link")}
        assert plinks["current"] == f"{BASE}/story.atom" and plinks["self"] == f"{BASE}/archive/story/{k}.atom"
        assert ("prev-archive" in plinks) == (k == 2)
        assert len(page.findall(f"{ATOM}entry")) == 10
        ids |= set(built.entries(f"archive/story/{k}.atom"))
        rss = built.xml(f"archive/story/{k}.rss").find("channel")
        assert rss.find(f"{FH}archive") is not None
    assert len(ids) == 25  # current + archives cover the whole feed
    frozen = {k: v for k, v in snapshot(built.out).items() if k.startswith("archive/story/")}
    first = sorted(built.entries("archive/story/1.atom"))[0].rsplit("/", 1)[-1]
    sqlite_run("correct", first, "--set", "title=An archived title, corrected", "--reason", "test")
    add_statement(sqlite_run, "One more")
    again = build(sqlite_run, None, "--page-size", "10")
    assert not [w for w in again.result["written"] if w.startswith("archive/story/")]
    assert {k: v for k, v in snapshot(again.out).items() if k in frozen} == frozen
    assert "An archived title, corrected" in {e["title"] for e in again.entries().values()}


def test_settings_per_database_and_per_command(sqlite_run: Any, build: Any) -> None:
    sqlite_run.import_seed()
    sqlite_run("feeds", "config", "set", "authority", "editor@example.org")
    sqlite_run("feeds", "config", "set", "title", "Japan & Cambodia")
    shown = sqlite_run.json("feeds", "config", "show")
    assert shown["authority"] == {"value": "editor@example.org", "from": "database"}
    built = build(sqlite_run)
    root = built.xml("story.atom")
    assert root.findtext(f"{ATOM}title") == "Japan & Cambodia"
    assert all(i.startswith("tag:editor@example.org,") for i in built.entries())
    built = build(sqlite_run, None, "--title", "Override")
    assert built.xml("story.atom").findtext(f"{ATOM}title") == "Override"
    feeds_written = [p for p in built.result["written"] if not p.endswith((".html", ".css", ".js")) and p[0] != "."]
    assert len(feeds_written) == len(list(built.out.rglob("*.atom"))) * 2 + 1  # settings changed: all
    bad = sqlite_run("feeds", "config", "set", "authority", "not a domain", ok=False)
    assert (
        bad.exit_code == 2
        and bad.stderr == "Error: authority 'not a domain' is neither a domain name nor an email address\n"
    )
    sqlite_run("feeds", "config", "unset", "authority")
    assert sqlite_run.json("feeds", "config", "show")["authority"]["from"] == "default"


def test_as_of(sqlite_run: Any, build: Any, tmp_path: Path) -> None:
    sqlite_run.import_seed()
    sqlite_run("feeds", "build", "--out", str(tmp_path / "old"), "--as-of", "#5")
    index = json.loads((tmp_path / "old" / "index.json").read_text(encoding="utf-8"))
    assert index["position"] == 5 and index["feeds"][0]["developments"] == 5


@pytest.mark.slow
def test_other_commands_do_not_import_feedgen_or_waitress() -> None:
    import subprocess

    code = (
        "import sys, timeline.cli; print(sorted(m for m in ('feedgen', 'waitress', 'feeds.build') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def current_documents(out: Path) -> dict[str, bytes]:
    return {k: v for k, v in snapshot(out).items() if k.endswith((".atom", ".rss")) and not k.startswith("archive/")}


def test_incremental_builds_give_the_current_documents_a_full_build_gives(
    sqlite_run: Any, build: Any, tmp_path: Path
) -> None:
    """Builds after a few events read only what changed (and the previous newest page);
    their subscription documents are those of a build from scratch."""
    sqlite_run.import_seed()
    docs = sqlite_run.json("show")
    steps = [
        ("correct", docs[0]["id"], "--set", "title=The oldest, corrected", "--reason", "archived entry"),
        ("correct", docs[-1]["id"], "--set", "summary=Newest, corrected", "--reason", "current entry"),
        ("retract", docs[5]["id"], "--reason", "withdrawn"),
        ("correct", docs[12]["id"], "--set", "title=Middle, corrected", "--reason", "middle"),
    ]
    incremental = tmp_path / "incremental"
    build(sqlite_run, incremental, "--page-size", "3")
    for i, step in enumerate(steps):
        sqlite_run(*step)
        add_statement(sqlite_run, f"New statement {i}", "--topics", "aid")
        result = build(sqlite_run, incremental, "--page-size", "3").result
        assert "topic/water" not in result["rebuilt"]
    scratch = build(sqlite_run, tmp_path / "scratch", "--page-size", "3")
    assert current_documents(incremental) == current_documents(scratch.out)
    index = json.loads((incremental / "index.json").read_text(encoding="utf-8"))
    assert index == scratch.index()


def test_incremental_newest_entries_survive_members_leaving(sqlite_run: Any, build: Any, tmp_path: Path) -> None:
    sqlite_run.import_seed()
    build(sqlite_run, tmp_path / "a", "--page-size", "2")
    aid = [d for d in sqlite_run.json("show", "--topic", "aid")]
    for d in aid[-3:]:  # the newest members of topic/aid leave it
        sqlite_run("correct", d["id"], "--set", "topics=water", "--reason", "moved")
    a = build(sqlite_run, tmp_path / "a", "--page-size", "2")
    b = build(sqlite_run, tmp_path / "b", "--page-size", "2")
    for rel in ("topic/aid.atom", "topic/water.atom", "story.atom"):
        newest_a = [e.findtext(f"{ATOM}id") for e in a.xml(rel).findall(f"{ATOM}entry")][:2]
        newest_b = [e.findtext(f"{ATOM}id") for e in b.xml(rel).findall(f"{ATOM}entry")][:2]
        assert newest_a == newest_b, rel

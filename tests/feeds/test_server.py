"""`timeline serve` over real HTTP on 127.0.0.1: the installed command, an ephemeral port."""

from __future__ import annotations

import http.client
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser
import pytest

from tests.conftest import installed_timeline

pytestmark = pytest.mark.slow


@pytest.fixture
def server(sqlite_run: Any) -> Iterator[str]:
    sqlite_run.import_seed()
    proc = subprocess.Popen(
        [*installed_timeline(), "--db", sqlite_run.target, "serve", "--port", "0", "--base-url", "http://feeds.test"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        yield started(proc)[0]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def started(proc: subprocess.Popen[str], built: bool = True) -> tuple[str, list[str]]:
    """The URL from `serving feeds at URL ...`, and (with `built`, once the background
    build has said `N files written in ...`) the lines up to that one."""
    lines, url = [], None
    for line in proc.stderr or ():
        lines.append(line.rstrip("\n"))
        if line.startswith("serving feeds at http://127.0.0.1:"):
            url = line.split(" at ", 1)[1].split()[0].rstrip("/")
            if not built:
                return url, lines
        elif url and " files written in " in line:
            return url, lines
    raise AssertionError(f"serve exited {proc.wait()}: {lines}")


def fetch(url: str, method: str = "GET", **headers: str) -> tuple[int, Any, bytes]:
    req = urllib.request.Request(url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def test_serves_feeds_with_validators_and_conditional_requests(server: str, sqlite_run: Any) -> None:
    status, h, body = fetch(f"{server}/story.atom")
    assert status == 200 and h["Content-Type"].startswith("application/atom+xml")
    assert feedparser.parse(body).bozo == 0 and len(feedparser.parse(body).entries) == 25
    etag, modified = h["ETag"], h["Last-Modified"]
    assert parsedate_to_datetime(modified).tzinfo is not None

    status, h2, rss = fetch(f"{server}/topic/aid.rss")
    assert status == 200 and h2["Content-Type"].startswith("application/rss+xml") and feedparser.parse(rss).bozo == 0
    for path, media in (("", "text/html"), ("/index.html", "text/html"), ("/index.json", "application/json")):
        status, hx, _ = fetch(server + path)
        assert status == 200 and hx["Content-Type"].startswith(media), path

    status, hh, empty = fetch(f"{server}/story.atom", "HEAD")
    assert status == 200 and empty == b"" and hh["ETag"] == etag and int(hh["Content-Length"]) == len(body)

    assert fetch(f"{server}/story.atom", **{"If-None-Match": etag})[0] == 304
    assert fetch(f"{server}/story.atom", **{"If-None-Match": f'"nope", W/{etag}'})[0] == 304
    assert fetch(f"{server}/story.atom", **{"If-Modified-Since": modified})[0] == 304
    assert fetch(f"{server}/story.atom", **{"If-None-Match": '"other"', "If-Modified-Since": modified})[0] == 200
    earlier = format_datetime(parsedate_to_datetime(modified).replace(year=2000), usegmt=True)
    assert fetch(f"{server}/story.atom", **{"If-Modified-Since": earlier})[0] == 200
    for bad in ("yesterday", "Mon, 99 Foo 2024 99:99:99 GMT", "", "\u00e9t\u00e9", "Tue, 1 Jan 10000 00:00:00 GMT"):
        assert (
            fetch(f"{server}/story.atom", **{"If-Modified-Since": bad.encode("latin-1").decode("latin-1")})[0] == 200
        ), bad
    assert fetch(f"{server}/story.atom", **{"If-None-Match": 'unquoted, "", ,,'})[0] == 200

    for missing in ("/nope.atom", "/topic/nope.atom", "/../etc/passwd", "/.timeline-feeds.json", "/topic/", "/story"):
        assert fetch(server + missing)[0] == 404, missing
    assert fetch(f"{server}/story.atom", "POST")[0] == 405

    # A development appended by another process appears without a restart, within the
    # server's polling interval (feeds.server.POLL_SECONDS) plus the rebuild.
    sqlite_run("add", "statement", "--title", "Appended while serving", "--occurred", "2024-07-09",
               "--speaker", "Hun Manet", "--paraphrase", "Said so.", "--source", "https://news.example/x")  # fmt: skip
    deadline = time.monotonic() + 10
    while True:
        status, h3, body3 = fetch(f"{server}/story.atom", **{"If-None-Match": etag})
        if status != 304 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert status == 200 and h3["ETag"] != etag
    d = feedparser.parse(body3)
    assert d.bozo == 0 and len(d.entries) == 26 and d.entries[0].title == "Appended while serving"
    assert fetch(f"{server}/actor/hun-manet.atom")[0] == 200


def test_one_connection_carries_304s_a_head_and_a_200(server: str) -> None:
    where = urlsplit(server)
    conn = http.client.HTTPConnection(where.hostname or "", where.port, timeout=10)
    try:
        conn.request("GET", "/story.atom")
        first = conn.getresponse()
        body, sock = first.read(), conn.sock
        assert first.status == 200 and sock is not None and not first.will_close
        etag, modified = first.getheader("ETag") or "", first.getheader("Last-Modified") or ""
        for cond in ({"If-None-Match": etag}, {"If-Modified-Since": modified}, {"If-None-Match": etag}):
            conn.request("GET", "/story.atom", headers=cond)
            r = conn.getresponse()
            assert (r.status, r.read(), r.will_close, r.getheader("ETag")) == (304, b"", False, etag), cond
            assert r.getheader("Connection") is None and r.getheader("Content-Length") is None
        conn.request("HEAD", "/story.atom")
        r = conn.getresponse()
        assert (r.status, r.read(), r.getheader("Content-Length")) == (200, b"", str(len(body)))
        conn.request("GET", "/story.atom")
        r = conn.getresponse()
        assert (r.status, r.read()) == (200, body)
        assert conn.sock is sock  # http.client reconnects after a response that closed
        conn.request("GET", "/story.atom", headers={"If-None-Match": etag, "Connection": "close"})
        r = conn.getresponse()
        assert (r.status, r.will_close, r.getheader("Connection")) == (304, True, "close")
    finally:
        conn.close()


def test_serve_binds_to_loopback_by_default_and_reports_a_busy_port(sqlite_run: Any, timeline_cmd: Any) -> None:
    import socket

    sqlite_run.import_seed()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        # It must exit (timeout=30 fails the test if it waits instead), with one line.
        result = timeline_cmd("--db", sqlite_run.target, "serve", "--port", str(port), timeout=30)
    assert result.returncode == 1 and result.stderr.startswith(f"Error: cannot listen on 127.0.0.1:{port}")


def test_search_answers_a_small_escaped_page(server: str) -> None:
    from urllib.parse import quote

    status, headers, body = fetch(f"{server}/search?q={quote('Kamikawa Sihanoukville')}")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    page = body.decode()
    assert "<strong><mark>Kamikawa</mark>: Japan wants to develop <mark>Sihanoukville</mark> Port" in page
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")
    hostile = "<script>alert(1)</script> Kamikawa"
    status, _, body = fetch(f"{server}/search?q={quote(hostile)}")
    assert status == 200 and b"<script>" not in body and b"&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert fetch(f"{server}/search?q=%21%21")[:1] == (400,)
    assert fetch(f"{server}/search?q=" + "a+" * 150)[0] == 400


def test_every_entrys_alternate_link_is_served_with_its_anchor(server: str) -> None:
    import lxml.html

    status, _, body = fetch(f"{server}/story.atom")
    assert status == 200
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0 and parsed.entries
    for e in parsed.entries:
        link = e.link
        assert link.startswith("http://feeds.test/d/"), link  # under the base URL
        status, headers, page = fetch(server + urlsplit(link).path)
        assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8", link
        dev_id = e.id.rsplit("/", 1)[1]
        assert lxml.html.fromstring(page).xpath(f'//li[@id="d-{dev_id}"]'), link

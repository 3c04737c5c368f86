"""The feeds over HTTP: a WSGI application, served by waitress.

A request asks the log for its newest position (one small query) at most once every
`POLL_SECONDS` (0.5 s); when the log moved, the views catch up and the touched feeds are
rebuilt in memory (the same incremental build as `feeds build`), so a new event appears
without a restart, at most `POLL_SECONDS` (plus the rebuild) after it was appended. Every
other request is answered from memory: each document's bytes, `ETag`, `Last-Modified` and
the 200 and 304 header lists are computed once, when the document is built.

HTTP: GET and HEAD; `ETag` (a strong hash of the bytes) and `Last-Modified` (the time of
the event that last changed the document); 304 for a matching `If-None-Match`, or, when
that header is absent, for an `If-Modified-Since` not older than the document. Conditional
headers that cannot be read are ignored (200), never an error. Unknown paths: 404; other
methods: 405.

waitress (3.0.2) ends every response it has no length for with `Connection: close`, 304s
included, although a 304 ends at its blank line (RFC 9112 section 6.3; Pylons/waitress#502
is still open), so each revalidation cost a new TCP connection. A 304 must not carry a
length waitress would honour (it drops a `Content-Length` on a 304, still closes, and
warns that the body was short), so the server's own task class keeps HTTP/1.1 connections
open after bodiless responses unless the client asked to close.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.task import WSGITask

from feeds.settings import FeedSettings
from feeds.site import Output, Result, build_site

StartResponse = Callable[..., Any]


POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Served:
    out: Output
    etag: str
    ok: list[tuple[str, str]]  # 200 headers
    not_modified: list[tuple[str, str]]  # 304 headers


def _served(out: Output) -> Served:
    etag = '"' + hashlib.sha256(out.data).hexdigest()[:32] + '"'
    common = [
        ("ETag", etag),
        ("Last-Modified", format_datetime(out.modified, usegmt=True)),
        ("Cache-Control", "no-cache"),
    ]
    ok = [*common, ("Content-Type", out.media_type), ("Content-Length", str(len(out.data)))]
    return Served(out, etag, ok, common)


class Feeds:
    """The current build, kept in memory and refreshed when the log moves."""

    def __init__(self, app: Any, settings: FeedSettings, poll: float = POLL_SECONDS) -> None:
        self.app = app
        self.settings = settings
        self.poll = poll
        self._lock = threading.Lock()
        self._seen = -1
        self._next_check = 0.0
        self._manifest: dict[str, Any] | None = None
        self._files: dict[str, Served] = {}
        self._sidecars: dict[str, bytes] = {}  # archived ids per feed, never served

    def refresh(self) -> None:
        if time.monotonic() < self._next_check:
            return
        with self._lock:
            if time.monotonic() < self._next_check:
                return
            try:
                self._refresh()
            finally:
                self._next_check = time.monotonic() + self.poll

    def _refresh(self) -> None:
        latest = self.app.recorder.max_notification_id() or 0
        if latest == self._seen:
            return
        from timeline.reading import Reader

        reader = Reader.live(self.app)
        files = dict(self._files)
        sidecars = dict(self._sidecars)

        def sink(out: Output) -> None:
            if out.append_at is not None:
                sidecars[out.path] = sidecars.get(out.path, b"")[: out.append_at] + out.data
            else:
                files[out.path] = _served(out)

        result: Result = build_site(
            reader, self.settings, self._manifest, lambda p: p in files or p in sidecars, sink, sidecars.get
        )
        for path in result.removed:
            files.pop(path, None)
            sidecars.pop(path, None)
        self._files = files
        self._sidecars = sidecars
        self._manifest = result.manifest
        self._seen = max(latest, reader.position)

    def get(self, path: str) -> Served | None:
        return self._files.get(path)


def _not_modified(environ: dict[str, Any], etag: str, modified: datetime) -> bool:
    inm = environ.get("HTTP_IF_NONE_MATCH")
    if inm is not None:
        if inm == etag:
            return True
        tags = [t.strip() for t in inm.split(",")]
        return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)
    ims = environ.get("HTTP_IF_MODIFIED_SINCE")
    if ims:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
        if since is None or since.tzinfo is None:
            return False
        return modified.replace(microsecond=0) <= since
    return False


def make_app(feeds: Feeds) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    empty = [b""]

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method != "GET" and method != "HEAD":
            return _plain(start_response, "405 Method Not Allowed", b"method not allowed\n", [("Allow", "GET, HEAD")])
        path = environ.get("PATH_INFO", "/").lstrip("/") or "index.html"
        feeds.refresh()
        found = feeds.get(path)
        if found is None or path.startswith("."):
            return _plain(start_response, "404 Not Found", b"no such feed\n", [], head=method == "HEAD")
        if ("HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ) and _not_modified(
            environ, found.etag, found.out.modified
        ):
            start_response("304 Not Modified", found.not_modified)
            return empty
        start_response("200 OK", found.ok)
        return empty if method == "HEAD" else [found.out.data]

    return app


def _plain(
    start_response: StartResponse, status: str, body: bytes, extra: list[tuple[str, str]], head: bool = False
) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))), *extra])
    return [b""] if head else [body]


class _KeepAliveTask(WSGITask):  # type: ignore[misc]  # waitress has no type information
    def set_close_on_finish(self) -> None:
        if (
            not self.has_body
            and self.version == "1.1"
            and self.request.headers.get("CONNECTION", "").lower() != "close"
        ):
            return  # a 304 (or 204) is delimited by its header: nothing to close for
        super().set_close_on_finish()


class _KeepAliveChannel(HTTPChannel):  # type: ignore[misc]
    task_class = _KeepAliveTask


def _create_server(application: Callable[..., Iterable[bytes]], host: str, port: int) -> Any:
    sockets: dict[int, Any] = {}
    server = create_server(application, map=sockets, host=host, port=port, threads=4, ident="news-timeline")
    for listener in sockets.values():  # one per address the host resolves to
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class = _KeepAliveChannel
    return server


def serve(app: Any, settings: FeedSettings, host: str, port: int, ready: Callable[[str], None] | None = None) -> None:
    """Serve until interrupted, with waitress (a production WSGI server)."""
    feeds = Feeds(app, settings)
    feeds.refresh()
    server = _create_server(make_app(feeds), host, port)
    if ready:
        ready(f"http://{server.effective_host}:{server.effective_port}/")
    try:
        server.run()
    finally:
        server.close()

"""The feeds over HTTP: a built folder, kept up to date and served by waitress.

The site lives in a folder on disk, the one `feeds build --out DIR` maintains, written by
the same `Directory` and incremental `build_site`: before it listens, `serve` brings the
folder up to date (after a restart, only the feeds touched since the last build are
rewritten). A request asks the log for its newest position (one small query) at most once
every `POLL_SECONDS` (0.5 s); when the log moved, that request's thread rebuilds the
touched feeds into the folder while the other threads go on serving the files as they are
(each file is replaced atomically), so a new event appears without a restart, at most
`POLL_SECONDS` plus the rebuild after it was appended.

Documents are read from the folder and remembered: the validators (`ETag`,
`Last-Modified`, the 200 and 304 header lists) of up to `MAX_FILES` files and the bytes of
the most recently requested ones up to `MAX_BYTES` (reading the file on every request cost
a third of the 200 rate). A remembered document is looked at again on disk at most every
`POLL_SECONDS`, or at once when this server rewrote it; it is hashed again when the open
file's inode, size, mtime or ctime changed, so a file rewritten by a `feeds build` run is
served within `POLL_SECONDS` too, and the bytes served always match the `ETag` sent with
them. The server gives each document it writes the time of the event that last changed it
as its mtime, which is what `Last-Modified` says (a static server serving the folder says
the same); a document written by `feeds build` has the time it was written until the
server rewrites it.

HTTP: GET and HEAD; `ETag` (a strong hash of the bytes) and `Last-Modified`; 304 for a
matching `If-None-Match`, or, when that header is absent, for an `If-Modified-Since` not
older than the document. Conditional headers that cannot be read are ignored (200), never
an error. Only paths made of segments of letters, digits, '_', '-' and '.', none starting
with '.', and ending in .atom, .rss, .json or .html are looked up, so no request reaches
outside the folder or the build's own files (manifest, archive id lists, temporary files):
anything else is 404. Other methods: 405.

waitress (3.0.2) ends every response it has no length for with `Connection: close`, 304s
included, although a 304 ends at its blank line (RFC 9112 section 6.3; Pylons/waitress#502
is still open), so each revalidation cost a new TCP connection. A 304 must not carry a
length waitress would honour (it drops a `Content-Length` on a 304, still closes, and
warns that the body was short), so the server's own task class keeps HTTP/1.1 connections
open after bodiless responses unless the client asked to close.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.task import WSGITask

from feeds.settings import FeedSettings
from feeds.site import MEDIA_TYPES, Directory, Output
from timeline.errors import TimelineError

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


POLL_SECONDS = 0.5
MAX_FILES = 10_000  # files whose validators are remembered (about 1 KB each)
MAX_BYTES = 32 * 2**20  # of those files' bytes kept in memory
_SERVED = re.compile(r"(?:[A-Za-z0-9_-][A-Za-z0-9_.-]*/)*[A-Za-z0-9_-][A-Za-z0-9_.-]*\.(atom|rss|json|html)")


@dataclass(frozen=True)
class Document:
    key: tuple[int, int, int, int]  # inode, size, mtime, ctime of the file described
    etag: str
    modified: datetime  # whole seconds, as Last-Modified says
    ok: list[tuple[str, str]]  # 200 headers
    not_modified: list[tuple[str, str]]  # 304 headers
    data: bytes | None  # None when not kept in memory
    checked: float  # time.monotonic() when the file was last looked at


def _key(st: os.stat_result) -> tuple[int, int, int, int]:
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _document(st: os.stat_result, data: bytes, media_type: str, now: float) -> Document:
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    modified = datetime.fromtimestamp(st.st_mtime_ns // 1_000_000_000, UTC)
    common = [
        ("ETag", etag),
        ("Last-Modified", format_datetime(modified, usegmt=True)),
        ("Cache-Control", "no-cache"),
    ]
    ok = [*common, ("Content-Type", media_type), ("Content-Length", str(len(data)))]
    return Document(_key(st), etag, modified, ok, common, data, now)


class DatedDirectory(Directory):
    """A `Directory` whose documents carry, as their mtime, the time of the event that last
    changed them (so `Last-Modified` survives a restart), and that reports each path it
    writes."""

    def __init__(self, root: Path, written: Callable[[str], None]) -> None:
        super().__init__(root)
        self.written = written

    def emit(self, out: Output) -> bool:
        changed = super().emit(out)
        if out.append_at is None:  # archive id lists are bookkeeping, never served
            seconds = int(out.modified.timestamp())
            os.utime(self.path(out.path), (seconds, seconds))
            self.written(out.path)
        return changed


class Site:
    """The served folder: brought up to date from the log at most every `poll` seconds. Its
    documents are remembered (validators of up to `MAX_FILES` files, bytes up to
    `MAX_BYTES`) and looked at again on disk at most every `poll` seconds, or at once when
    this server rewrote them."""

    def __init__(self, app: Any, settings: FeedSettings, root: Path, poll: float = POLL_SECONDS) -> None:
        self.app = app
        self.settings = settings
        self.poll = poll
        self.directory = DatedDirectory(root, self.forget)  # OSError when the folder cannot be made
        self._root = os.path.realpath(root)
        self._building = threading.Lock()
        self._remembering = threading.Lock()
        self._seen = -1
        self._next_check = 0.0
        self._documents: dict[str, Document] = {}  # oldest first
        self._bytes = 0  # held in self._documents

    def update(self) -> tuple[int, int]:
        """Build what the log changed since the folder's last build; returns the number of
        files written and the log position built."""
        latest = self.app.recorder.max_notification_id() or 0
        if latest == self._seen:
            return 0, latest
        from timeline.reading import Reader

        reader = Reader.live(self.app)
        result, written = self.directory.build(reader, self.settings)
        for path in result.removed:
            self.forget(path)
        self._seen = max(latest, reader.position)
        return len(written), reader.position

    def refresh(self) -> None:
        """`update` at most every `poll` seconds, by one thread at a time; the others serve
        the files as they are meanwhile. A failure is reported on stderr, never to the
        client, and tried again after `poll` seconds."""
        if time.monotonic() < self._next_check or not self._building.acquire(blocking=False):
            return
        try:
            if time.monotonic() >= self._next_check:
                self.update()
        except Exception as e:  # the files already built stay served whatever the log does
            print(f"feeds not updated: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        finally:
            self._next_check = time.monotonic() + self.poll
            self._building.release()

    def lookup(self, path: str) -> tuple[Document, bytes] | None:
        """The document at `path` and its bytes; None when there is none."""
        known = self._documents.get(path)
        now = time.monotonic()
        if known is not None and known.data is not None and now < known.checked + self.poll:
            return known, known.data
        match = _SERVED.fullmatch(path)
        if match is None:
            return None
        try:
            with open(os.path.join(self._root, path), "rb", buffering=0) as f:
                st = os.fstat(f.fileno())
                if not stat.S_ISREG(st.st_mode):
                    return None
                if known is not None and known.key == _key(st):
                    found = replace(known, data=known.data or f.read(), checked=now)
                else:  # the bytes and their validators come from the same open file
                    found = _document(st, f.read(), MEDIA_TYPES[match.group(1)], now)
        except OSError:
            self.forget(path)
            return None
        self._remember(path, found)
        return found, found.data or b""

    def forget(self, path: str) -> None:
        with self._remembering:
            gone = self._documents.pop(path, None)
            if gone is not None and gone.data is not None:
                self._bytes -= len(gone.data)

    def _remember(self, path: str, found: Document) -> None:
        """Keep `found` as the newest document, and its bytes if they fit; drop the oldest
        documents' bytes (then the oldest documents) to stay within the bounds."""
        with self._remembering:
            gone = self._documents.pop(path, None)
            self._bytes -= len(gone.data) if gone is not None and gone.data is not None else 0
            if found.data is not None and len(found.data) > MAX_BYTES:
                found = replace(found, data=None)
            self._documents[path] = found
            self._bytes += len(found.data) if found.data is not None else 0
            if self._bytes <= MAX_BYTES and len(self._documents) <= MAX_FILES:
                return
            for old in list(self._documents)[:-1]:
                if self._bytes <= MAX_BYTES and len(self._documents) <= MAX_FILES:
                    break
                doc = self._documents[old]
                if doc.data is not None:
                    self._bytes -= len(doc.data)
                    self._documents[old] = replace(doc, data=None)
                if len(self._documents) > MAX_FILES:
                    del self._documents[old]


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
        return modified <= since
    return False


def make_app(site: Site) -> WSGIApp:
    empty = [b""]

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method != "GET" and method != "HEAD":
            return _plain(start_response, "405 Method Not Allowed", b"method not allowed\n", [("Allow", "GET, HEAD")])
        site.refresh()
        found = site.lookup(environ.get("PATH_INFO", "/").lstrip("/") or "index.html")
        if found is None:
            return _plain(start_response, "404 Not Found", b"no such feed\n", [], head=method == "HEAD")
        doc, data = found
        if ("HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ) and _not_modified(
            environ, doc.etag, doc.modified
        ):
            start_response("304 Not Modified", doc.not_modified)
            return empty
        start_response("200 OK", doc.ok)
        return empty if method == "HEAD" else [data]

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


def _bind(application: WSGIApp, host: str, port: int) -> tuple[Any, list[Any]]:
    """A waitress server bound to host:port but not yet listening, and its listeners (one
    per address the host resolves to)."""
    sockets: dict[int, Any] = {}
    server = create_server(
        application, map=sockets, _start=False, host=host, port=port, threads=4, ident="news-timeline"
    )
    listeners = [s for s in sockets.values() if isinstance(s, BaseWSGIServer)]
    for listener in listeners:
        listener.channel_class = _KeepAliveChannel
    return server, listeners


def serve(site: Site, host: str, port: int, say: Callable[[str], None] = lambda line: None) -> None:
    """Bind (so a busy port fails at once), bring the folder up to date, then listen and
    serve until interrupted. Clients are refused until the folder is up to date."""
    try:
        server, listeners = _bind(make_app(site), host, port)
    except (OSError, ValueError) as e:
        raise TimelineError(f"cannot listen on {host}:{port}: {getattr(e, 'strerror', None) or e}") from None
    try:
        say(f"updating the feeds in {site.directory.root} ...")
        try:
            written, position = site.update()
        except OSError as e:
            raise TimelineError(f"cannot write to {str(site.directory.root)!r}: {e.strerror or e}") from None
        say(f"{written} files written in {site.directory.root} (log position #{position})")
        for listener in listeners:
            listener.accept_connections()
        say(f"serving feeds at http://{_shown(listeners[0].effective_host)}:{listeners[0].effective_port}/")
        server.run()
    finally:
        server.close()


def _shown(host: str) -> str:
    return f"[{host}]" if ":" in host else host

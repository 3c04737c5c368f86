"""The feeds over HTTP: a built folder, kept up to date in the background, served by waitress.

The site lives in a folder on disk, the one `feeds build --out DIR` maintains, written by
the same `Directory` and incremental `build_site`. Requests never wait on the store: they
are answered from the folder as it is, and one background thread brings it up to date.
`serve` listens at once (a first start on a large log answers within a second or two):
what is already built is served, and a feed not built yet is a 503 with `Retry-After`
until the first build has finished (then it is a 404). The thread asks the log for its
newest position every `POLL_SECONDS` (0.5 s) and, when it moved, rebuilds the touched
feeds (each file replaced atomically), so a new event appears without a restart, at most
`POLL_SECONDS` plus the rebuild after it was appended. Every `CHECK_SECONDS` a build also
checks every file the manifest names (see `Directory.build`), so the folder heals.

When a refresh fails (the store is down, the disk is full), the files built stay served,
one line says so on stderr per failed refresh, the next try comes after a growing pause
(up to `MAX_PAUSE` seconds), and one line says when the feeds are updated again.

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
with '.', and ending in one of `MEDIA_TYPES`' extensions are looked up, so no request
reaches the build's own files (manifest, archive id lists, temporary files); a path whose
links resolve outside the folder, or that is not a regular file, is 404 too. Other
methods: 405. Every response carries `SECURITY_HEADERS` (`nosniff`, a Content-Security-
Policy that lets nothing load or run). Other handlers (proof endpoints, say) are tried
before the folder: `make_app(site, handlers=[...])`, each a `Handler`.

waitress (3.0.2) ends every response it has no length for with `Connection: close`, 304s
included, although a 304 ends at its blank line (RFC 9112 section 6.3; Pylons/waitress#502
is still open), so each revalidation cost a new TCP connection. A 304 must not carry a
length waitress would honour (it drops a `Content-Length` on a 304, still closes, and
warns that the body was short), so the server's own task class keeps HTTP/1.1 connections
open after bodiless responses unless the client asked to close.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask, WSGITask

from feeds import CHECKPOINT_FILE
from feeds.folder import Directory
from feeds.layout import MEDIA_TYPES, Output
from feeds.page import page_sources
from feeds.proof_http import write_checkpoint
from feeds.settings import FeedSettings, http_url
from timeline.errors import TimelineError, first_line

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


POLL_SECONDS = 0.5
MAX_PAUSE = 5.0  # longest pause between refreshes while they fail
CHECK_SECONDS = 300.0  # how often a refresh checks every file the manifest names
RETRY_AFTER = 5  # seconds, for a feed not built yet
MAX_FILES = 10_000  # files whose validators are remembered (about 1 KB each)
MAX_BYTES = 32 * 2**20  # of those files' bytes kept in memory
_SEGMENT = r"[A-Za-z0-9_-][A-Za-z0-9_.-]*"
_SERVED = re.compile(rf"(?:{_SEGMENT}/)*{_SEGMENT}\.({'|'.join(map(re.escape, MEDIA_TYPES))})")
# Static feeds and pages: nothing may load but the pages' own stylesheet and script (the
# folder's, or the same inlined in embed.html, by hash); nothing may frame them or be sniffed.
SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    (
        "Content-Security-Policy",
        "default-src 'none'; " + page_sources() + "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
]


@dataclass(frozen=True)
class Response:
    """What a `Handler` answers; `serve` adds the security headers and the length."""

    status: str
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)


# A handler tried before the folder: the request's path (without the leading '/') and its
# WSGI environ in, a Response or None (not mine) out.
Handler = Callable[[str, dict[str, Any]], Response | None]


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
        *SECURITY_HEADERS,
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
        if out.append_at is not None:  # archive id lists are bookkeeping, never served
            return super().emit(out)
        changed = self.write(out.path, out.data, mtime=int(out.modified.timestamp()))
        self.written(out.path)
        return changed


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def reason(e: BaseException) -> str:
    """Why a refresh failed, in one line (never a password: the store's errors name the
    host and port, and a full disk is said in words)."""
    if isinstance(e, TimelineError):
        return str(e)
    if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"the disk is full ({e.strerror})"
    if isinstance(e, OSError) and e.strerror:
        return f"{e.strerror}" + (f": {e.filename!r}" if e.filename else "")
    return f"{type(e).__name__}: {first_line(e)}"


class Site:
    """The served folder, brought up to date from the log by one background thread (see
    `start`). Its documents are remembered (validators of up to `MAX_FILES` files, bytes up
    to `MAX_BYTES`) and looked at again on disk at most every `poll` seconds, or at once
    when this server rewrote them."""

    def __init__(  # noqa: PLR0913 - three inputs, then four knobs tests and `serve` set by name
        self, app: Any, settings: FeedSettings, root: Path, poll: float = POLL_SECONDS,
        say: Callable[[str], None] = _say, reopen: Callable[[], Any] | None = None,
        probe: Callable[[], None] | None = None,
    ) -> None:  # fmt: skip
        """`probe` raises at once when the store cannot be reached, so a refresh fails in
        a moment instead of waiting out the store library's retries; `reopen` opens the
        application again after a failed refresh, with a fresh connection pool (a pool
        that lost its server waits ever longer between reconnections: 47 s after a 70 s
        outage, measured)."""
        self.app = app
        self.reopen = reopen
        self.probe = probe
        self.settings = settings
        self.poll = poll
        self.say = say
        self.directory = DatedDirectory(root, self.forget)  # OSError when the folder cannot be made
        self._root = os.path.realpath(root)
        self.ready = threading.Event()  # set once the folder has been brought up to date
        self._remembering = threading.Lock()
        self._seen = -1
        self._checked = -CHECK_SECONDS  # time.monotonic() of the last full check of the files
        self._failures = 0
        self._documents: dict[str, Document] = {}  # oldest first
        self._bytes = 0  # held in self._documents

    def update(self) -> tuple[int, int]:
        """Build what the log changed since the folder's last build (and, every
        `CHECK_SECONDS`, whatever the folder lost); returns the number of files written
        and the log position built."""
        check = time.monotonic() >= self._checked + CHECK_SECONDS
        if self.probe is not None:
            self.probe()
        if self.app is None and self.reopen is not None:
            self.app = self.reopen()
        from timeline import reading  # the views and the store: not needed to start listening

        latest = reading.log_position(self.app)
        if latest == self._seen and not check:
            return 0, latest
        reader = reading.Reader.live(self.app)
        result, written = self.directory.build(reader, self.settings, check=check)
        with written:
            if check:
                self._checked = time.monotonic()
            if write_checkpoint(self.directory, self.app, reader.position):
                written.append(CHECKPOINT_FILE)
            for path in result.removed:
                self.forget(path)
            self._seen = max(latest, reader.position)
            return len(written), reader.position

    def refresh(self) -> float:
        """One `update`, never raising: a failure is one line on stderr. Returns the
        seconds to wait before the next: `poll`, or a pause that doubles with each failure
        in a row up to `MAX_PAUSE`."""
        try:
            written, position = self.update()
        except Exception as e:  # the files already built stay served whatever the log does
            self._failures += 1
            self.say(f"feeds not updated: {reason(e)}")
            if self.reopen is not None and self.app is not None:
                app, self.app = self.app, None
                with contextlib.suppress(Exception):
                    app.close()
            return float(min(MAX_PAUSE, self.poll * 2**self._failures))
        if self._failures:
            self.say(f"feeds updated again after {self._failures} failed refreshes (log position #{position})")
            self._failures = 0
        if not self.ready.is_set():
            self.ready.set()
            self.say(f"{written} files written in {self.directory.root} (log position #{position})")
        return self.poll

    def start(self) -> Callable[[], None]:
        """Refresh in a background thread until the returned function is called."""
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(self.refresh()):
                pass

        thread = threading.Thread(target=loop, name="feeds-refresh", daemon=True)
        thread.start()

        def halt() -> None:
            # A build in progress may be left: every file it writes is renamed into place
            # whole, and the next start finishes the work.
            stop.set()
            thread.join(timeout=2)

        return halt

    def lookup(self, path: str) -> tuple[Document, bytes] | None:
        """The document at `path` and its bytes; None when there is none: not a name the
        site serves, not a regular file, or (after resolving links) not inside the folder."""
        known = self._documents.get(path)
        now = time.monotonic()
        if known is not None and known.data is not None and now < known.checked + self.poll:
            return known, known.data
        match = _SERVED.fullmatch(path)
        if match is None:
            return None
        try:
            real = os.path.realpath(os.path.join(self._root, path))
            if not real.startswith(self._root + os.sep):
                return None
            # O_NOFOLLOW: a link put in place since realpath() looked is refused, not
            # followed; O_NONBLOCK: a FIFO cannot hold the thread (it is not regular anyway).
            fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
            with open(fd, "rb", buffering=0) as f:
                st = os.fstat(f.fileno())
                if not stat.S_ISREG(st.st_mode):
                    return None
                if known is not None and known.key == _key(st):
                    found = replace(known, data=known.data or f.read(), checked=now)
                else:  # the bytes and their validators come from the same open file
                    found = _document(st, f.read(), MEDIA_TYPES[match.group(1)], now)
        except (OSError, ValueError):
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


def make_app(site: Site, handlers: Sequence[Handler] = ()) -> WSGIApp:
    """The WSGI application: `handlers` first, in order, then the folder."""
    empty = [b""]

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        head = method == "HEAD"
        if method != "GET" and not head:
            return _answer(
                start_response, Response("405 Method Not Allowed", b"method not allowed\n", [("Allow", "GET, HEAD")])
            )
        path = environ.get("PATH_INFO", "/").lstrip("/") or "index.html"
        for handler in handlers:
            answer = handler(path, environ)
            if answer is not None:
                return _answer(start_response, answer, head)
        found = site.lookup(path)
        if found is None:
            if not site.ready.is_set() and _SERVED.fullmatch(path):
                return _answer(
                    start_response,
                    Response("503 Service Unavailable", b"the feeds are being built; try again shortly\n",
                             [("Retry-After", str(RETRY_AFTER))]),
                    head,
                )  # fmt: skip
            return _answer(start_response, Response("404 Not Found", b"no such feed\n"), head)
        doc, data = found
        if ("HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ) and _not_modified(
            environ, doc.etag, doc.modified
        ):
            start_response("304 Not Modified", doc.not_modified)
            return empty
        start_response("200 OK", doc.ok)
        return empty if head else [data]

    return app


def _answer(start_response: StartResponse, r: Response, head: bool = False) -> list[bytes]:
    headers = dict.fromkeys(k.lower() for k, _ in r.headers)
    start_response(
        r.status,
        [
            *([] if "content-type" in headers else [("Content-Type", "text/plain; charset=utf-8")]),
            ("Content-Length", str(len(r.body))),
            *r.headers,
            *SECURITY_HEADERS,
        ],
    )
    return [b""] if head else [r.body]


class _KeepAliveTask(WSGITask):  # type: ignore[misc]  # waitress has no type information
    def set_close_on_finish(self) -> None:
        if (
            not self.has_body
            and self.version == "1.1"
            and self.request.headers.get("CONNECTION", "").lower() != "close"
        ):
            return  # a 304 (or 204) is delimited by its header: nothing to close for
        super().set_close_on_finish()


class _ErrorTask(ErrorTask):  # type: ignore[misc]
    """waitress's own answers to requests it cannot parse (400, 431...) carry the security
    headers too."""

    def execute(self) -> None:
        self.response_headers.extend(SECURITY_HEADERS)
        super().execute()


class _KeepAliveChannel(HTTPChannel):  # type: ignore[misc]
    task_class = _KeepAliveTask
    error_task_class = _ErrorTask


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


def serve(site: Site, host: str, port: int, handlers: Sequence[Handler] = ()) -> None:
    """Bind (so a busy port fails at once), listen, and serve until interrupted, while the
    folder is brought up to date in the background."""
    try:
        server, listeners = _bind(make_app(site, handlers), host, port)
    except (OSError, ValueError) as e:
        raise TimelineError(f"cannot listen on {host}:{port}: {getattr(e, 'strerror', None) or e}") from None
    halt = None
    try:
        for listener in listeners:
            listener.accept_connections()
        where = http_url(listeners[0].effective_host, listeners[0].effective_port) + "/"
        site.say(f"serving feeds at {where} from {site.directory.root} (updating it in the background)")
        halt = site.start()
        server.run()
    finally:
        server.close()
        if halt is not None:
            halt()

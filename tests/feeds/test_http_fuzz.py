"""Property tests of serve's HTTP handler: whatever a client sends (paths with traversal,
encoded slashes, NUL, non-UTF-8 bytes or 100 KB; odd conditional headers; any method), the
answer is a 2xx, 3xx or 4xx, never a 5xx (but waitress's 501 for a transfer coding it does
not know, as RFC 9112 asks), and nothing is logged as an exception.

Run over real HTTP on 127.0.0.1 (waitress in a thread, raw bytes on a socket), and once
more straight into the WSGI application with values HTTP could not even carry.
`TIMELINE_FUZZ_EXAMPLES` sets the number of cases (`scripts/stress_serve.py` runs 10,000).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import feeds.server as fs

EXAMPLES = int(os.environ.get("TIMELINE_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

PIECES = [b"..", b".", b"%2e%2e", b"%2E%2e", b"%2F", b"%2f", b"%5C", b"%00", b"%ff", b"%c3%a9", b"\xff\xfe", b"\xc3",
          b"\xe9t\xe9", b"//", b"\\", b";x", b"?a=b", b"#f", b"~", b"story.atom", b"index.html", b"topic", b"aid.atom",
          b"archive", b"story", b"1.atom", b"passwd.json", b"secret.json", b"pipe.json", b"dir.atom", b"up",
          b".timeline-feeds.json", b".timeline-archived", b"%252e%252e", b"%%", b"%", b"\x7f", b"\t"]  # fmt: skip
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "CONNECT", "get", "BREW", "G\xe9T"]
DATES = ["Sat, 06 Jul 2024 12:00:00 GMT", "Tue, 1 Jan 10000 00:00:00 GMT", "Mon, 99 Foo 2024 99:99:99 GMT",
         "Sat, 06 Jul 2024 12:00:00", "0", "-1", "Thu, 01 Jan 1970 00:00:00 +9999", "Sun, 06 Nov 1994 08:49:37 GMT",
         "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", ""]  # fmt: skip

EXTRA = [b"Range", b"Host", b"Connection", b"Accept", b"X-\xff", b"Transfer-Encoding", b"Content-Length", b"Expect"]
header_bytes = st.binary(max_size=60).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
EXISTING = ["/story.atom", "/index.html", "/", "/topic/aid.atom", "/archive/story/1.atom"]
REAL = [*EXISTING, "/passwd.json", "/up/secret.json", "/pipe.json"]
# Half the cases ask for a document that exists, so the conditional headers are reached.
methods = st.one_of(st.sampled_from(["GET", "HEAD"]), st.sampled_from(["GET"]), st.sampled_from(METHODS))
path_bytes = st.one_of(
    st.sampled_from(EXISTING).map(str.encode),
    st.sampled_from(EXISTING).map(str.encode),
    st.sampled_from(REAL).map(str.encode),
    st.lists(st.one_of(st.sampled_from(PIECES), header_bytes.map(lambda b: b.replace(b" ", b""))), max_size=12).map(
        lambda parts: b"/" + b"/".join(parts)
    ),
    st.integers(1, 100_000).map(lambda n: b"/" + b"a" * n + b".atom"),
    st.sampled_from([b"*", b"http://127.0.0.1/story.atom", b"story.atom", b"/%00.atom", b"/story.atom%00.json"]),
)
conditional = st.one_of(
    st.sampled_from(DATES).map(str.encode),
    header_bytes,
    st.lists(st.sampled_from([b'"x"', b"W/", b"*", b"", b",", b'"', b'""', b'W/"abc"']), max_size=6).map(b"".join),
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fuzz") / "out"
    (out / "topic").mkdir(parents=True)
    (out / "archive" / "story").mkdir(parents=True)
    (out / "story.atom").write_bytes(b"<feed/>")
    (out / "index.html").write_bytes(b"<p>index</p>")
    (out / "topic" / "aid.atom").write_bytes(b"<feed>aid</feed>")
    (out / "archive" / "story" / "1.atom").write_bytes(b"<feed>1</feed>")
    (out / ".timeline-feeds.json").write_bytes(b"{}")
    (out / "passwd.json").symlink_to("/etc/passwd")
    (out.parent / "secret.json").write_text("{}")
    (out / "up").symlink_to(out.parent)
    (out / "dir.atom").mkdir()
    os.mkfifo(out / "pipe.json")
    return out


class Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def errors() -> Iterator[Errors]:
    handler = Errors()
    logging.getLogger("waitress").addHandler(handler)
    try:
        yield handler
    finally:
        logging.getLogger("waitress").removeHandler(handler)


@pytest.fixture(scope="module")
def server(folder: Path) -> Iterator[tuple[str, int]]:
    s = fs.Site(app=None, settings=None, root=folder, poll=0.0)  # type: ignore[arg-type]
    s.ready.set()
    httpd, listeners = fs._bind(fs.make_app(s), "127.0.0.1", 0)
    for listener in listeners:
        listener.accept_connections()
    thread = threading.Thread(target=httpd.run, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", int(listeners[0].effective_port)
    finally:
        httpd.close()
        thread.join(timeout=5)


def exchange(where: tuple[str, int], request: bytes) -> bytes:
    with socket.create_connection(where, timeout=10) as conn:
        conn.sendall(request)
        conn.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@FUZZ
@given(
    method=methods,
    path=path_bytes,
    inm=st.none() | conditional,
    ims=st.none() | conditional,
    extra=st.lists(st.tuples(st.sampled_from(EXTRA), header_bytes), max_size=3),
    version=st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/0.9", b"HTTP/2.0", b"HTTP/1.1 x"]),
)
def test_any_request_over_http_is_answered_without_a_5xx(
    server: tuple[str, int], errors: Errors, method: str, path: bytes, inm: bytes | None, ims: bytes | None,
    extra: list[tuple[bytes, bytes]], version: bytes,
) -> None:  # fmt: skip
    lines = [method.encode("latin-1") + b" " + path + b" " + version, b"Host: 127.0.0.1"]
    if inm is not None:
        lines.append(b"If-None-Match: " + inm)
    if ims is not None:
        lines.append(b"If-Modified-Since: " + ims)
    lines += [name + b": " + value for name, value in extra]
    lines.append(b"Connection: close")
    answer = exchange(server, b"\r\n".join(lines) + b"\r\n\r\n")
    if answer == b"" and any(n == b"Content-Length" and v.strip().isdigit() and int(v) > 0 for n, v in extra):
        # The request promised a body and the client closed before sending it: the
        # request never ended, so there is nothing to answer (waitress closes).
        assert errors.records == []
        return
    status = answer.split(b"\r\n", 1)[0]
    assert status.startswith((b"HTTP/1.1 ", b"HTTP/1.0 ")), answer[:200]
    code = int(status.split()[1])
    if code == 501:  # RFC 9112 section 6.1: the answer to a transfer coding the server does not know
        assert any(name == b"Transfer-Encoding" and value.strip().lower() != b"chunked" for name, value in extra)
    else:
        assert 200 <= code < 500, answer[:300]
    if code < 400 and method.upper() in ("GET", "HEAD"):
        assert b"root:" not in answer and b"{}" not in answer.split(b"\r\n\r\n", 1)[-1]
    head = answer.split(b"\r\n\r\n", 1)[0].lower()
    assert b"\r\nx-content-type-options: nosniff" in head, answer[:300]
    assert errors.records == []


@FUZZ
@given(
    method=methods | st.text(max_size=10),
    path=st.sampled_from(EXISTING) | st.sampled_from(REAL) | st.text(max_size=300),
    inm=st.none() | st.text(max_size=80),
    ims=st.none() | st.text(max_size=80) | st.sampled_from(DATES),
)
def test_any_wsgi_environ_is_answered_without_an_exception(
    folder: Path, method: str, path: str, inm: str | None, ims: str | None
) -> None:
    s = fs.Site(app=None, settings=None, root=folder, poll=0.0)  # type: ignore[arg-type]
    s.ready.set()
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": path}
    if inm is not None:
        environ["HTTP_IF_NONE_MATCH"] = inm
    if ims is not None:
        environ["HTTP_IF_MODIFIED_SINCE"] = ims
    got: list[str] = []
    body = b"".join(fs.make_app(s)(environ, lambda status, headers: got.append(status)))
    assert got and got[0][:3] in ("200", "304", "404", "405"), got
    assert b"root:" not in body

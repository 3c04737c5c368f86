"""`witness` against whatever a server may send: one line and the right exit status for
each, never a traceback. A small in-process HTTP server plays the log."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from timeline.proof import merkle, proofs
from timeline.proof.checkpoint import Checkpoint
from timeline.proof.note import Signer
from timeline.proof.witness import CannotCheck, Misbehaviour, witness

KEY = Signer.generate("log.example/news")
LEAVES = [merkle.leaf_hash(f"event {i}".encode()) for i in range(40)]


def signed(size: int, leaves: list[bytes] = LEAVES) -> bytes:
    return Checkpoint(KEY.name, size, merkle.root_of(leaves[:size])).encode(KEY)


def consistency(old: int, new: int) -> bytes:
    proof = proofs.Consistency(KEY.name, old, merkle.root_of(LEAVES[:old]), new, merkle.root_of(LEAVES[:new]),
                               tuple(merkle.consistency_path(LEAVES[:new], old)))  # fmt: skip
    return json.dumps(proofs.to_json(proof)).encode()


@pytest.fixture
def server() -> Iterator[tuple[str, dict[str, tuple[int, bytes]]]]:
    routes: dict[str, tuple[int, bytes]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = routes.get(self.path, (404, b"no\n"))
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", routes
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_each_kind_of_answer(server: tuple[str, dict[str, tuple[int, bytes]]], tmp_path: Path) -> None:
    url, routes = server
    state = tmp_path / "state"
    routes["/checkpoint"] = (200, signed(10))
    assert witness(url, KEY.verifier, state).old is None
    routes["/checkpoint"] = (200, signed(20))
    routes["/proof/consistency?from=10&to=20"] = (200, consistency(10, 20))
    assert (
        witness(url + "/checkpoint", KEY.verifier, state).message()
        == "ok: log.example/news grew from 10 to 20 events, only appended to"
    )

    routes["/checkpoint"] = (200, signed(30))
    for body, error, message in [
        (b"<html>oops</html>", CannotCheck, "/proof/consistency?from=20&to=30 is not a proof: the proof is not JSON"),
        (b'{"proof": "inclusion"}', CannotCheck, "is not a proof: the proof lacks the field(s)"),
        (consistency(20, 31), Misbehaviour, "history was rewritten: the log of 20 events kept earlier is not a prefix"),
    ]:
        routes["/proof/consistency?from=20&to=30"] = (200, body)
        with pytest.raises(error) as raised:
            witness(url, KEY.verifier, state)
        assert message in str(raised.value) and "\n" not in str(raised.value)
    routes["/proof/consistency?from=20&to=30"] = (400, b"size 30 is beyond the log's 25 events\n")
    with pytest.raises(CannotCheck, match=r"answered 400: size 30 is beyond the log's 25 events$"):
        witness(url, KEY.verifier, state)
    assert state.read_bytes() == signed(20)  # nothing kept from the failed runs

    for body, error, message in [
        (b"\xff\xfe garbage", CannotCheck, "/checkpoint is not a checkpoint: a checkpoint must be UTF-8"),
        (b"x" * (2 << 20), CannotCheck, "/checkpoint sent more than"),
        (
            Checkpoint(KEY.name, 30, merkle.root_of(LEAVES[:30])).encode(None),
            Misbehaviour,
            "is badly signed: the checkpoint is not signed",
        ),
        (
            Checkpoint(KEY.name, 30, merkle.root_of(LEAVES[:30])).encode(Signer.generate(KEY.name)),
            Misbehaviour,
            "is badly signed: no signature by the key",
        ),
        (signed(15), Misbehaviour, "history was rewritten: the log shrank from 20 to 15 events"),
        (
            signed(20, [merkle.leaf_hash(b"x"), *LEAVES[1:]]),
            Misbehaviour,
            "two different roots signed for the same 20 events",
        ),
        (Checkpoint("other.example/log", 20, merkle.root_of(LEAVES[:20])).encode(KEY), Misbehaviour, "origin changed"),
    ]:
        routes["/checkpoint"] = (200, body)
        with pytest.raises(error) as raised:
            witness(url, KEY.verifier, state)
        assert message in str(raised.value) and "\n" not in str(raised.value)
    routes["/checkpoint"] = (503, b"")
    with pytest.raises(CannotCheck, match=r"/checkpoint answered 503$"):
        witness(url, KEY.verifier, state)
    with pytest.raises(CannotCheck, match=r"^'ftp://x' is not an http\(s\) URL of a served log"):
        witness("ftp://x", KEY.verifier, state)

"""The log's checkpoint and proofs over HTTP, beside the feeds `serve` publishes.

    GET /checkpoint                              the current checkpoint (C2SP tlog-checkpoint),
                                                 text/plain, revalidated on every use
    GET /proof/consistency?from=N[&to=M]         the log of N events is a prefix of the log
                                                 of M (default: all of it); JSON
    GET /proof/inclusion?id=ID|position=N[&size=M]
                                                 a development's events (or event #N) are in
                                                 the log of M events (default: all); JSON

The checkpoint is the folder's `checkpoint` file, the one every feed links, written with
each build: it answers without waiting on the database (503 with Retry-After until the
first build wrote it). Proofs are read from the stored tree, a few indexed queries; when
the database cannot be reached they answer 503 with Retry-After, one line.

A proof between fixed sizes never changes (the log only grows, and a rewritten log is what
the proofs are there to catch), so it is sent with `Cache-Control: public, max-age=31536000,
immutable`; one that names no end depends on the log's current size and is `no-cache`,
like the checkpoint. Every answer has a strong `ETag`; a matching `If-None-Match` gets 304.
A bad parameter gets 400 with one line saying what is accepted (an unknown development
404); errors are never cached. The signing key's name (the proofs' origin) is read once,
when the server starts.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import parse_qsl

from feeds import CHECKPOINT_FILE
from timeline import reading
from timeline.errors import DevelopmentNotFound, TimelineError, first_line

PATHS = ("/checkpoint", "/proof/consistency", "/proof/inclusion")
IMMUTABLE = "public, max-age=31536000, immutable"
_PARAMS = {"/checkpoint": set(), "/proof/consistency": {"from", "to"}, "/proof/inclusion": {"id", "position", "size"}}


def write_checkpoint(directory: Any, app: Any, position: int) -> bool:
    """The checkpoint of the log up to `position` (the feeds' position) as the file
    `checkpoint` in the feeds folder, which every feed links to; True when it changed."""
    return bool(directory.write(CHECKPOINT_FILE, reading.checkpoint_bytes(app, position)))


class BadRequest(Exception):
    pass


class Unavailable(Exception):
    pass


def _number(params: dict[str, str], name: str, least: int = 1) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or int(value) < least or len(value) > 19:
        raise BadRequest(f"{name} must be a whole number from {least}, not {value[:40]!r}")
    return int(value)


class ProofHandler:
    """A `feeds.server.Handler` for the paths in `PATHS`: the checkpoint from the folder (as
    the feeds link it, no database wait), the proofs from the log's stored tree."""

    def __init__(self, site: Any) -> None:
        self.site = site
        # A misconfigured key fails the start, not a request; proofs name the key's origin.
        self.origin = reading.proof_origin(site.app)

    def __call__(self, path: str, environ: dict[str, Any]) -> Any:
        from feeds.server import RETRY_AFTER, Response

        route = "/" + path
        if route not in PATHS:
            return None
        try:
            params = self._params(route, environ.get("QUERY_STRING", ""))
            body, media_type, cache = self._answer(route, params)
        except BadRequest as e:
            return Response("400 Bad Request", f"{e}\n".encode(), [("Cache-Control", "no-store")])
        except DevelopmentNotFound as e:
            return Response("404 Not Found", f"{e}\n".encode(), [("Cache-Control", "no-store")])
        except TimelineError as e:  # a size beyond the log, an event it does not have
            return Response("400 Bad Request", f"{first_line(e)}\n".encode(), [("Cache-Control", "no-store")])
        except Unavailable as e:
            return Response("503 Service Unavailable", f"{e}\n".encode(),
                            [("Cache-Control", "no-store"), ("Retry-After", str(RETRY_AFTER))])  # fmt: skip
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        common = [("ETag", etag), ("Cache-Control", cache)]
        if environ.get("HTTP_IF_NONE_MATCH") in (etag, f"W/{etag}"):
            return Response("304 Not Modified", b"", common)
        return Response("200 OK", body, [("Content-Type", media_type), *common])

    @staticmethod
    def _params(path: str, query: str) -> dict[str, str]:
        try:
            pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query), max_num_fields=10)
        except ValueError:
            raise BadRequest(f"the query {query[:80]!r} cannot be read") from None
        params: dict[str, str] = {}
        for name, value in pairs:
            if name not in _PARAMS[path]:
                known = ", ".join(sorted(_PARAMS[path])) or "none"
                raise BadRequest(f"{path} takes no parameter {name[:40]!r} (it takes: {known})")
            if name in params:
                raise BadRequest(f"{name} is given twice")
            params[name] = value
        return params

    def _answer(self, path: str, params: dict[str, str]) -> tuple[bytes, str, str]:
        if path == "/checkpoint":
            data = self.site.directory.read(CHECKPOINT_FILE)
            if data is None:
                raise Unavailable("the checkpoint is being written with the feeds; try again shortly")
            return data, "text/plain; charset=utf-8", "no-cache"
        app = self.site.app
        if app is None:
            raise Unavailable("the log's database cannot be reached now; try again shortly")
        try:
            return self._proof(app, path, params)
        except reading.STORE_ERRORS as e:
            raise Unavailable(
                f"the log's database cannot be reached now ({first_line(e)}); try again shortly"
            ) from None

    def _proof(self, app: Any, path: str, params: dict[str, str]) -> tuple[bytes, str, str]:
        if path == "/proof/consistency":
            old, new = _number(params, "from"), _number(params, "to")
            if old is None:
                raise BadRequest("/proof/consistency needs from=N (and takes to=M)")
            proof = reading.consistency_proof(app, old, new, self.origin)
            fixed = new is not None
        else:
            dev, position, size = params.get("id"), _number(params, "position"), _number(params, "size")
            if (dev is None) == (position is None):
                raise BadRequest("/proof/inclusion needs id=ID or position=N (one of them), and takes size=M")
            if dev is not None and not dev.strip():
                raise BadRequest("id must not be empty")
            proof = reading.inclusion_proof(app, dev if dev is not None else f"#{position}", size, self.origin)
            fixed = size is not None
        body = json.dumps(proof, sort_keys=True, indent=2).encode() + b"\n"
        return body, "application/json", IMMUTABLE if fixed else "no-cache"

"""The proof paths' handler on its own: what it answers while the folder or the database
is not there yet."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from feeds.folder import Directory
from feeds.proof_http import ProofHandler
from timeline import config
from timeline.app import Timeline


def test_unavailable_answers_are_503_with_retry_after(sqlite_run: Any, tmp_path: Path) -> None:
    sqlite_run.import_seed()
    app = Timeline.open(config.resolve(sqlite_run.target))
    try:
        site = SimpleNamespace(app=app, directory=Directory(tmp_path / "site"))
        handler = ProofHandler(site)
        assert handler("story.atom", {}) is None  # not a proof path: the folder answers
        r = handler("checkpoint", {})
        assert (r.status, r.body) == (
            "503 Service Unavailable",
            b"the checkpoint is being written with the feeds; try again shortly\n",
        )
        assert ("Retry-After", "5") in r.headers and ("Cache-Control", "no-store") in r.headers
        ok = handler("proof/consistency", {"QUERY_STRING": "from=3&to=10"})
        assert ok.status == "200 OK" and ("Cache-Control", "public, max-age=31536000, immutable") in ok.headers
        etag = dict(ok.headers)["ETag"]
        again = handler("proof/consistency", {"QUERY_STRING": "from=3&to=10", "HTTP_IF_NONE_MATCH": etag})
        assert (again.status, again.body) == ("304 Not Modified", b"")
        site.app = None  # the server lost its database and has not reopened it yet
        r = handler("proof/consistency", {"QUERY_STRING": "from=3"})
        assert (r.status, r.body) == (
            "503 Service Unavailable",
            b"the log's database cannot be reached now; try again shortly\n",
        )
    finally:
        app.close()

"""`timeline witness` against a real `timeline serve` on 127.0.0.1, and the served proofs."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import installed_timeline
from tests.forgery import rewrite_with_forged_tree
from tests.serving import fetch, serve
from timeline import config
from timeline.app import Timeline
from timeline.proof.note import Signer

pytestmark = pytest.mark.slow


class Served:
    """A `serve` of one database that the test can restart."""

    def __init__(self, db: str) -> None:
        self.db = db
        self.proc, self.url = serve(db)

    def restart(self) -> None:
        self.stop()
        self.proc, self.url = serve(self.db)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)

    def wait_for_size(self, size: int) -> None:
        """Until the served checkpoint (rewritten by the background build) has `size` events."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            status, _, body = fetch(f"{self.url}/checkpoint")
            if status == 200 and body.decode().splitlines()[1] == str(size):
                return
            time.sleep(0.1)
        raise AssertionError(f"the served checkpoint never reached size {size}")


@pytest.fixture
def log(run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Served, str]]:
    """The seed story with a signing key, served, on each back end."""
    monkeypatch.delenv("TIMELINE_SIGNING_KEY", raising=False)
    monkeypatch.chdir(tmp_path)  # serve's folder for PostgreSQL is DBNAME-feeds here
    run.import_seed()
    vkey = run("keys", "init", "--file", str(tmp_path / "log.key")).stdout.strip()
    served = Served(run.target)
    try:
        yield run, served, vkey
    finally:
        served.stop()


def witness(url: str, vkey: str, state: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*installed_timeline(), "witness", url, "--key", vkey, "--state", str(state)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def add(cli: Any, title: str) -> None:
    cli("add", "statement", "--title", title, "--occurred", "2024-07-09", "--speaker", "X", "--paraphrase", "said",
        "--source", "https://news.example/a")  # fmt: skip


def test_an_appended_log_passes_and_a_rewritten_one_fails(log: tuple[Any, Served, str], tmp_path: Path) -> None:
    cli, served, vkey = log
    state = tmp_path / "witness" / "state"
    first = witness(served.url, vkey, state)
    assert (first.returncode, first.stdout, first.stderr) == (
        0, "first checkpoint of news-timeline.example/timeline kept: 25 events; later runs check it was only appended to\n", "",
    )  # fmt: skip
    add(cli, "One more")
    add(cli, "And another")
    served.wait_for_size(27)
    grown = witness(served.url, vkey, state)
    assert (grown.returncode, grown.stdout) == (
        0,
        "ok: news-timeline.example/timeline grew from 25 to 27 events, only appended to\n",
    )
    assert state.read_text().splitlines()[1] == "27"
    same = witness(served.url, vkey, state)
    assert same.returncode == 0 and same.stdout == "ok: news-timeline.example/timeline unchanged at 27 events\n"
    kept = state.read_bytes()

    app = Timeline.open(config.resolve(cli.target))
    try:
        rewrite_with_forged_tree(app, 3, b"Phnom Penh", b"Bangkok")
    finally:
        app.close()
    served.restart()  # the forger restarts the server, which publishes the forged tree's checkpoint
    forked = witness(served.url, vkey, state)
    assert (forked.returncode, forked.stdout) == (1, "")
    assert forked.stderr == "Error: history was rewritten: two different roots signed for the same 27 events (a fork)\n"
    assert state.read_bytes() == kept  # a failed check keeps the last good checkpoint
    add(cli, "Covering it up")
    served.wait_for_size(28)
    rewritten = witness(served.url, vkey, state)
    assert rewritten.returncode == 1 and rewritten.stderr.startswith(
        "Error: history was rewritten: the log of 27 events kept earlier is not a prefix of the 28 events served now ("
    )
    assert rewritten.stderr.count("\n") == 1
    # `check` says the same with the checkpoint the witness kept, and a proof served now.
    (tmp_path / "p.json").write_bytes(fetch(f"{served.url}/proof/consistency?from=27&to=28")[2])
    check = subprocess.run(
        [*installed_timeline(), "check", "--proof", str(tmp_path / "p.json"), "--checkpoint", str(state), "--key", vkey],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert check.returncode == 1
    assert (
        check.stderr == "Error: the proof's root for size 27 is not the checkpoint's: the log was rewritten or forked\n"
    )


def test_a_badly_signed_or_unreachable_log(sqlite_run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIMELINE_SIGNING_KEY", raising=False)
    sqlite_run.import_seed()
    vkey = sqlite_run("keys", "init", "--file", str(tmp_path / "log.key")).stdout.strip()
    impostor = tmp_path / "impostor.key"
    impostor.write_text(Signer.generate("news-timeline.example/timeline").secret_text() + "\n")
    impostor.chmod(0o600)
    proc, url = serve(sqlite_run.target, {"TIMELINE_SIGNING_KEY": str(impostor)})
    try:
        bad = witness(url, vkey, tmp_path / "state")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    key_id = "+".join(vkey.split("+", 2)[:2])
    assert (bad.returncode, bad.stderr) == (
        1,
        f"Error: {url}/checkpoint is badly signed: no signature by the key {key_id}\n",
    )
    assert not (tmp_path / "state").exists()
    gone = witness(url, vkey, tmp_path / "state")
    assert gone.returncode == 3 and gone.stderr.startswith(f"Error: cannot fetch {url}/checkpoint: ")
    assert gone.stderr.count("\n") == 1
    (tmp_path / "state").write_text("junk\n")
    proc, url = serve(sqlite_run.target)
    try:
        junk = witness(url, vkey, tmp_path / "state")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert junk.returncode == 3 and junk.stderr.startswith(
        f"Error: the witness state {str(tmp_path / 'state')!r} is not"
    )


def test_served_proofs_and_their_caching(log: tuple[Any, Served, str]) -> None:
    url = log[1].url
    status, h, body = fetch(f"{url}/checkpoint")
    assert status == 200 and h["Content-Type"] == "text/plain; charset=utf-8" and h["Cache-Control"] == "no-cache"
    assert fetch(f"{url}/checkpoint", **{"If-None-Match": h["ETag"]})[0] == 304
    status, h, body = fetch(f"{url}/proof/consistency?from=3&to=20")
    assert status == 200 and h["Cache-Control"] == "public, max-age=31536000, immutable"
    assert json.loads(body)["old_size"] == 3 and h["Content-Type"] == "application/json"
    assert fetch(f"{url}/proof/consistency?from=3")[1]["Cache-Control"] == "no-cache"
    status, h, body = fetch(f"{url}/proof/inclusion?id=japan-cambodia-2024/package&size=25")
    assert status == 200 and h["Cache-Control"] == "public, max-age=31536000, immutable"
    assert json.loads(body)["leaves"][0]["position"] == 2
    assert fetch(f"{url}/proof/inclusion?position=4")[0] == 200
    for query, code, line in [
        ("consistency?from=x", 400, "from must be a whole number from 1, not 'x'"),
        ("consistency", 400, "/proof/consistency needs from=N (and takes to=M)"),
        ("consistency?from=2&to=99", 400, "size 99 is beyond the log's 25 events"),
        ("consistency?from=2&from=3", 400, "from is given twice"),
        ("consistency?from=2&size=3", 400, "/proof/consistency takes no parameter 'size' (it takes: from, to)"),
        ("inclusion?id=nope", 404, "no development 'nope'"),
        (
            "inclusion?id=x&position=3",
            400,
            "/proof/inclusion needs id=ID or position=N (one of them), and takes size=M",
        ),
        ("inclusion?position=99", 400, "the log has no event #99"),
        ("inclusion?position=%ff", 400, "position must be a whole number from 1, not '\ufffd'"),
    ]:
        status, h, body = fetch(f"{url}/proof/{query}")
        assert (status, body.decode()) == (code, line + "\n"), query
        assert h["Cache-Control"] == "no-store"

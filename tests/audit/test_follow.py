"""`timeline log --follow` as a user runs it: the installed command in its own process sees
events appended by other processes, and Ctrl-C (SIGINT) ends it cleanly with exit 0.
SQLite is followed by polling, PostgreSQL by LISTEN/NOTIFY."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.conftest import Cli, installed_timeline

pytestmark = pytest.mark.slow

WAIT = 15.0


def next_record(lines: queue.Queue[str]) -> dict[str, Any]:
    return json.loads(lines.get(timeout=WAIT))


# Runs the command with SIGINT's default action even when this run was started with SIGINT
# ignored (a shell's background job): a child inherits that, and Python honours it, so the
# follower would never see the test's Ctrl-C.
WITH_CTRL_C = [sys.executable, "-c", "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
               "os.execv(sys.argv[1], sys.argv[1:])"]  # fmt: skip


def test_follow_sees_events_appended_by_another_process(run: Cli, timeline_cmd: Any) -> None:
    run.import_seed()
    follower = subprocess.Popen(
        [*WITH_CTRL_C, *installed_timeline(), "--db", run.target, "log", "--follow", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ},
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in follower.stdout], daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        assert [next_record(lines)["position"] for _ in range(25)] == list(range(1, 26))
        for n, title in ((26, "First appended"), (27, "Second appended")):
            added = timeline_cmd("--db", run.target, "add", "visit", "--title", title, "--occurred", "2024-08",
                                 "--visitors", "Z", "--source", "https://example.org/z")  # fmt: skip
            assert added.returncode == 0, added.stderr
            record = next_record(lines)
            assert (record["position"], record["event"], record["data"]["fields"]["title"]) == (
                n,
                "Reported",
                title,
            )
        follower.send_signal(signal.SIGINT)
        assert follower.wait(timeout=WAIT) == 0
        assert "Traceback" not in follower.stderr.read()  # type: ignore[union-attr]
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait()


# --- exactly once, across writers, with and without notifications ----------------------------

VISIT = ("add", "visit", "--occurred", "2024-08", "--visitors", "Z")


def story_lines(tag: str, n: int) -> str:
    return "".join(
        json.dumps({"kind": "visit", "id": f"{tag}/{i}", "title": f"{tag} {i}", "occurred": "2024-08",
                    "visitors": ["Z"], "sources": [{"url": f"https://example.org/{tag}/{i}"}]}) + "\n"
        for i in range(n)
    )  # fmt: skip


def test_follower_sees_every_event_once_across_writers(run: Cli, timeline_cmd: Any, tmp_path: Any) -> None:
    """Three imports (one transaction each) and single adds, all in their own processes and
    at once, while the installed `log --follow` runs: it prints every position once, in order."""
    run.import_seed()
    follower = subprocess.Popen(
        [*installed_timeline(), "--db", run.target, "log", "--follow", "--json", "--from", "#25"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in follower.stdout], daemon=True).start()  # type: ignore[union-attr]
    try:
        files = []
        for w in range(3):
            files.append(tmp_path / f"writer-{w}.jsonl")
            files[-1].write_text(story_lines(f"writer-{w}", 20))
        writers = [
            threading.Thread(target=timeline_cmd, args=("--db", run.target, "import", str(f))) for f in files
        ] + [
            threading.Thread(target=timeline_cmd, args=("--db", run.target, *VISIT, "--title", f"Single {i}",
                                                        "--source", f"https://example.org/single/{i}"))
            for i in range(4)
        ]  # fmt: skip
        for t in writers:
            t.start()
        for t in writers:
            t.join()
        total = 25 + 3 * 20 + 4
        positions = [next_record(lines)["position"] for _ in range(total - 25)]
        assert positions == list(range(26, total + 1))
        run(*VISIT, "--title", "After the writers", "--source", "https://example.org/after")
        assert next_record(lines)["position"] == total + 1  # and nothing twice before it
    finally:
        follower.kill()
        follower.wait()


class Stopped(Exception):
    pass


def follow_in_thread(target: str, after: int, wake: Any, poll: float) -> tuple[queue.Queue[Any], Any]:
    """`follow_events` in a thread of this process; calling `stop()` ends it at its next
    wait and joins it (before the test's database is dropped under it)."""
    from timeline import config
    from timeline.app import Timeline
    from timeline.audit.log import follow_events

    out: queue.Queue[Any] = queue.Queue()
    stop = threading.Event()

    @contextmanager
    def stoppable(app: Any) -> Iterator[Any]:
        with wake(app) as wait:

            def checked(seconds: float) -> None:
                if stop.is_set():
                    raise Stopped
                wait(seconds)

            yield checked

    def body() -> None:
        app = Timeline.open(config.resolve(target))
        try:
            for record in follow_events(app, after, poll_seconds=poll, wake=stoppable):
                out.put(record["position"])
        except Stopped:
            pass
        finally:
            app.close()

    thread = threading.Thread(target=body, daemon=True)
    thread.start()

    def stop_and_join() -> None:
        stop.set()
        thread.join(WAIT)

    return out, stop_and_join


@pytest.mark.postgres
def test_every_append_notifies_on_commit(postgres_own_database: str) -> None:
    """The writer's side: `add` and `import` each send the log's NOTIFY when they commit.
    A database of its own: the library's channel is named after the table, not the schema."""
    postgres_url = postgres_own_database
    from tests.conftest import pg_connect
    from timeline import config
    from timeline.app import Timeline

    run = Cli(postgres_url)
    run.import_seed()
    app = Timeline.open(config.resolve(postgres_url))
    channel = app.recorder.channel_name  # type: ignore[attr-defined]
    app.close()
    with pg_connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'LISTEN "{channel}"')
        run(*VISIT, "--title", "Notified", "--source", "https://example.org/n")
        assert len(list(conn.notifies(timeout=WAIT, stop_after=1))) == 1
        run("import", "-", input=story_lines("notify", 3))
        assert [n.channel for n in conn.notifies(timeout=WAIT, stop_after=1)] == [channel]


@pytest.mark.postgres
def test_follower_polls_when_notifications_are_missed(
    postgres_own_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writers that send no NOTIFY, then a follower whose listening connection is killed:
    it still prints every event (by its fallback poll), once. A database of its own, so the
    only listening connection in it is the follower's."""
    postgres_url = postgres_own_database
    from eventsourcing.postgres import PostgresApplicationRecorder

    from tests.conftest import pg_connect
    from timeline.audit.log import wake_ups

    run = Cli(postgres_url)
    run.import_seed()
    out, stop = follow_in_thread(postgres_url, 25, wake_ups, poll=0.2)
    try:
        monkeypatch.setattr(PostgresApplicationRecorder, "_notify_channel", lambda self, curs: None)
        for i in range(3):
            run(*VISIT, "--title", f"Silent {i}", "--source", f"https://example.org/silent/{i}")
        assert [out.get(timeout=WAIT) for _ in range(3)] == [26, 27, 28]
        monkeypatch.undo()
        with pg_connect(postgres_url, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND query LIKE 'LISTEN %'"
            ).fetchall()
        assert killed == [(True,)]
        for i in range(2):
            run(*VISIT, "--title", f"After the kill {i}", "--source", f"https://example.org/kill/{i}")
        assert [out.get(timeout=WAIT) for _ in range(2)] == [29, 30]
        assert out.empty()
    finally:
        stop()


@pytest.mark.postgres
def test_each_schema_wakes_only_its_own_followers(postgres_own_database: str) -> None:
    """Two logs in two schemas of one database: an append to one is not a NOTIFY to the
    other's followers (the library's channel is named after the table alone)."""
    from timeline import config
    from timeline.app import Timeline
    from timeline.recorders.postgres import Listener

    here, there = (Cli(f"{postgres_own_database}?schema={name}") for name in ("here", "there"))
    for log in (here, there):
        log(*VISIT, "--title", "First", "--source", "https://example.org/first")
    app = Timeline.open(config.resolve(here.target))
    listener = Listener(app.recorder)  # type: ignore[arg-type]
    listener.listen()
    try:
        there(*VISIT, "--title", "Elsewhere", "--source", "https://example.org/elsewhere")
        assert list(listener.conn.notifies(timeout=1.0, stop_after=1)) == []
        here(*VISIT, "--title", "Here", "--source", "https://example.org/here")
        assert len(list(listener.conn.notifies(timeout=WAIT, stop_after=1))) == 1
    finally:
        listener.close()
        app.close()


def test_a_long_schema_s_channel_is_hashed_not_cut_short() -> None:
    from timeline.recorders.postgres import channel_name

    assert channel_name("newsroom", "timeline_events") == "newsroom_timeline_events"
    long_a, long_b = "a" * 62 + "b", "a" * 62 + "c"  # equal in their first 63 bytes once suffixed
    assert len({channel_name(long_a, "timeline_events"), channel_name(long_b, "timeline_events")}) == 2
    assert all(len(channel_name(s, "timeline_events")) <= 63 for s in (long_a, long_b))

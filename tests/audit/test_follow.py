"""`timeline log --follow` as a user runs it: the installed command in its own process sees
events appended by other processes, and Ctrl-C (SIGINT) ends it cleanly with exit 0.
SQLite is followed by polling, PostgreSQL by LISTEN/NOTIFY."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
from typing import Any

import pytest

from tests.conftest import Cli, installed_timeline

pytestmark = pytest.mark.slow

WAIT = 15.0


def next_record(lines: queue.Queue[str]) -> dict[str, Any]:
    return json.loads(lines.get(timeout=WAIT))


def test_follow_sees_events_appended_by_another_process(run: Cli, timeline_cmd: Any) -> None:
    run.import_seed()
    follower = subprocess.Popen(
        [*installed_timeline(), "--db", run.target, "log", "--follow", "--json"],
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

"""Killing a command (`kill -9`) at a chosen moment, for the fault tests and the stress run.

The moment is chosen by what the store shows, not by a clock: the test polls the log's
length (or the views' tracked position) and kills the process as soon as it reaches a
threshold, so a kill lands inside the write phase however fast or slow the machine is.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from typing import Any

from tests.conftest import pg_connect
from tests.load.writers import ROOT, timeline_command


def _sqlite_scalar(path: str, statement: str) -> int:
    import sqlite3

    conn = _CONNECTIONS.get(path)
    if conn is None:
        try:
            conn = _CONNECTIONS[path] = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        except sqlite3.Error:
            return 0  # not created yet
    try:
        # fetchall, not fetchone: a statement left unfinished would keep its snapshot.
        rows = conn.execute(statement).fetchall()
        return int(rows[0][0] or 0) if rows else 0
    except sqlite3.Error:
        return 0  # the tables are not there yet


_CONNECTIONS: dict[str, Any] = {}


def _postgres_scalar(url: str, statement: str) -> int:
    """Through one kept connection per database: polling must not fork a backend each time."""
    import psycopg

    conn = _CONNECTIONS.get(url)
    if conn is None:
        conn = _CONNECTIONS[url] = pg_connect(url, autocommit=True)
    try:
        row = conn.execute(statement).fetchone()
    except psycopg.Error:
        return 0
    return int(row[0] or 0) if row else 0


def close_connections() -> None:
    for conn in _CONNECTIONS.values():
        conn.close()
    _CONNECTIONS.clear()


def scalar(target: str, statement: str) -> int:
    if target.startswith("postgresql://"):
        return _postgres_scalar(target, statement)
    return _sqlite_scalar(target, statement)


def log_length(target: str) -> int:
    """How many events are stored. Not the last position on PostgreSQL: a transaction that
    rolls back (a killed import, a retried insert) has used up positions, so they can skip."""
    if target.startswith("postgresql://"):
        return scalar(target, "SELECT count(*) FROM timeline_events")
    return scalar(target, "SELECT max(rowid) FROM stored_events")


def last_position(target: str) -> int:
    if target.startswith("postgresql://"):
        return scalar(target, "SELECT max(notification_id) FROM timeline_events")
    return scalar(target, "SELECT max(rowid) FROM stored_events")


def views_position(target: str) -> int:
    table = "timeline_tracking" if target.startswith("postgresql://") else "tracking"
    return scalar(target, f"SELECT notification_id FROM {table} WHERE application_name = 'timeline'")


def start(target: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*timeline_command(), "--db", target, *args], cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **(env or {})},
    )  # fmt: skip


def kill_when(proc: subprocess.Popen[str], reached: Callable[[], bool], timeout: float = 60) -> bool:
    """`kill -9` the process once `reached()` is true; False if it ended first."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if reached():
            os.kill(proc.pid, signal.SIGKILL)
            proc.communicate()
            return True
        time.sleep(0.002)
    proc.communicate(timeout=timeout)
    return False


def run(target: str, *args: str, env: dict[str, str] | None = None) -> Any:
    return subprocess.run(
        [*timeline_command(), "--db", target, *args], cwd=ROOT, text=True, capture_output=True,
        env={**os.environ, **(env or {})}, timeout=120,
    )  # fmt: skip

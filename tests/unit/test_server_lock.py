"""The lock that keeps a test that stops PostgreSQL apart from every other PostgreSQL test
when the suite runs in parallel (tests/conftest.py): another process cannot take it
shared while one test holds it exclusively, and can while tests hold it shared."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import SERVER_LOCK, server_lock

pytestmark = pytest.mark.slow

TRY_SHARED = f"""
import fcntl, sys
with open({str(SERVER_LOCK)!r}, "a") as f:
    try:
        fcntl.flock(f, fcntl.LOCK_SH | (fcntl.LOCK_NB if sys.argv[1] == "now" else 0))
    except BlockingIOError:
        sys.exit(3)
"""


def other_process_can_share(wait: bool = False) -> bool:
    """At once; or with `wait`, once any holder lets go (another worker's test that stops
    the server may take the lock exclusively the moment this one is released)."""
    code = subprocess.run([sys.executable, "-c", TRY_SHARED, "wait" if wait else "now"], timeout=120).returncode
    assert code in (0, 3), code
    return code == 0


def test_an_exclusive_hold_keeps_other_processes_out() -> None:
    with server_lock(exclusive=True):
        assert not other_process_can_share()
        with server_lock():  # nested in the same process: no wait on its own lock
            pass
    assert other_process_can_share(wait=True)  # released: not held by this process any more


def test_shared_holds_do_not_exclude_each_other() -> None:
    with server_lock():
        assert other_process_can_share()

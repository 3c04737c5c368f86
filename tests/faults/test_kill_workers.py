"""`kill -9` of an import while its worker processes read the file: the workers go away
on their own, say nothing (no traceback reaches the terminal), nothing is stored, and the
same import run again stores everything."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.faults.kill import log_length, run
from tests.load.writers import ROOT, timeline_command, write_import_file

pytestmark = pytest.mark.slow
LINES = 20_000  # long enough that the kill lands while the workers read


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_killed_while_workers_read_leaves_nothing_behind(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    file = write_import_file(tmp_path / "a.jsonl", 1, LINES)
    env = {**os.environ, "TIMELINE_IMPORT_WORKERS": "2"}
    importing = subprocess.Popen([*timeline_command(), "--db", db, "import", str(file)], cwd=ROOT, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 120
    workers: list[int] = []
    while len(workers) < 2 and time.monotonic() < deadline and importing.poll() is None:
        workers = _children(importing.pid)
        time.sleep(0.05)
    assert len(workers) == 2, "the import ended before its workers started"
    importing.send_signal(signal.SIGKILL)
    _, err = importing.communicate(timeout=60)  # ends once the workers, which share stderr, are gone
    assert err == b""
    deadline = time.monotonic() + 30
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(w) for w in workers)
    assert log_length(db) == 0
    again = run(db, "import", str(file), env={"TIMELINE_IMPORT_WORKERS": "2"})
    assert again.returncode == 0, again.stderr
    assert log_length(db) == LINES

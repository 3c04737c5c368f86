"""Faults of issue 10: `kill -9` of `import` and of the views' catch-up loses nothing.

An import writes TIMELINE_IMPORT_BATCH events per transaction; it is killed as soon as
the log holds a random number of its events (so inside its write phase, between or
during batches), or at a random moment from its start. The log then holds a whole
number of batches, never part of one; the same import run again stores exactly the rest
and says so; nothing is stored twice; no scratch file is left in the temp folder.

A `state` whose catch-up applies TIMELINE_VIEWS_PAGE events per transaction is killed
once the views track a random position; the next command finishes the work, and the
views equal a fresh rebuild (no event applied twice, none skipped).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.faults.kill import close_connections, kill_when, last_position, log_length, run, start, views_position
from tests.load.writers import stored_ids, write_import_file

LINES, BATCH, PAGE = 600, 5, 10
TRIES = 3  # per back end in the suite; benchmarks/stress.py runs many more

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _close_polling_connections() -> Iterator[None]:
    yield
    close_connections()  # before the test database is dropped


def test_an_import_killed_anywhere_stores_whole_batches_and_a_rerun_stores_the_rest(run: Cli, tmp_path: Path) -> None:
    rng = random.Random(20261201)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {"TIMELINE_IMPORT_BATCH": str(BATCH), "TMPDIR": str(scratch)}
    outcomes = []
    for attempt in range(TRIES):
        file = write_import_file(tmp_path / f"round-{attempt}.jsonl", 100 + attempt, LINES)
        before = log_length(run.target)
        threshold = before + rng.randrange(1, LINES)
        proc = start(run.target, "import", str(file), env=env)
        killed = kill_when(proc, lambda t=threshold: log_length(run.target) >= t)
        stored = log_length(run.target) - before
        outcomes.append((killed, stored))
        assert stored % BATCH == 0, f"{stored} events stored: part of a batch"
        assert list(scratch.iterdir()) == []
        again = run.json("import", str(file))
        assert (again["new"], again["existing"]) == (LINES - stored, stored)
    assert any(killed and 0 < stored < LINES for killed, stored in outcomes), outcomes
    ids = stored_ids(run.target)
    assert sum(ids.values()) == TRIES * LINES and set(ids.values()) == {1}


def test_a_catch_up_killed_part_way_is_finished_by_the_next_command(run: Cli, tmp_path: Path) -> None:
    rng = random.Random(7)
    run("import", str(write_import_file(tmp_path / "a.jsonl", 1, LINES)))
    env = {"TIMELINE_VIEWS_PAGE": str(PAGE)}
    killed_inside = 0
    for attempt in range(TRIES):
        if attempt:
            run("import", str(write_import_file(tmp_path / f"b{attempt}.jsonl", 10 + attempt, LINES // 3)))
        total = last_position(run.target)
        start_at = views_position(run.target)
        threshold = rng.randrange(start_at + 1, total)
        proc = start(run.target, "state", env=env)
        if kill_when(proc, lambda t=threshold: views_position(run.target) >= t):
            position = views_position(run.target)
            assert position % PAGE == start_at % PAGE or position == total
            killed_inside += position < total
    assert killed_inside >= 1
    shown = run.json("show")
    state = run.json("state")
    assert state["position"] == last_position(run.target)
    run("rebuild")
    assert run.json("show") == shown and run.json("state") == state


def test_no_scratch_folder_is_left_and_stale_ones_are_removed(sqlite_run: Cli, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys
    import time

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    old = scratch / "timeline-import-old1"  # an earlier version's folder, a day old, no lock
    old.mkdir()
    (old / "scratch.sqlite").write_bytes(b"x" * 1000)
    os.utime(old, (time.time() - 2 * 86400,) * 2)
    fresh = scratch / "timeline-import-fresh"  # no lock, but young: maybe a live old import
    fresh.mkdir()
    dead = scratch / "timeline-readonly-dead"  # a lock nobody holds: its owner was killed
    dead.mkdir()
    (dead / "lock").touch()
    live = scratch / "timeline-import-live"  # a lock a live process holds
    live.mkdir()
    (live / "lock").touch()
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl,os,sys,time; fd=os.open(sys.argv[1], os.O_RDWR);"
                               " fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)",
                               str(live / "lock")], stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        file = write_import_file(tmp_path / "a.jsonl", 1, 10)
        result = run(sqlite_run.target, "import", str(file), env={"TMPDIR": str(scratch)})
        assert result.returncode == 0, result.stderr
        assert sorted(p.name for p in scratch.iterdir()) == ["timeline-import-fresh", "timeline-import-live",
                                                             "timeline-readonly-dead"]  # fmt: skip
        from timeline.scratch import remove_stale

        assert remove_stale("timeline-readonly-", scratch) == [dead]
    finally:
        holder.kill()
        holder.wait()
    assert json.loads(run(sqlite_run.target, "state", "--json").stdout)["position"] == 10

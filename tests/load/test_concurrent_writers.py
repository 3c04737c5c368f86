"""Defect 1 of issue 10: many writers at once on one log lose nothing and say nothing.

8 processes each import 200 distinct developments while 8 more each run 12 `add`
commands (reading the views after every tenth), all against one database, on SQLite and
on PostgreSQL. Every one exits 0 with nothing on stderr but the import's own summary;
the log holds exactly 1,696 developments, none twice; the views equal a fresh rebuild;
`verify` passes. `benchmarks/stress.py` (`nox -s stress`) runs the full size (500 and 50
each, 4,400 developments) many times over; the suite keeps the same number of writers
at a size that fits its time.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.load.writers import run_writers, stored_ids

WRITERS, PER_IMPORT, PER_ADD = 8, 200, 12

pytestmark = pytest.mark.slow


def test_eight_importers_and_eight_adders_store_everything_once(run: Cli, tmp_path: Path) -> None:
    result = run_writers(run.target, tmp_path, WRITERS, PER_IMPORT, PER_ADD)

    assert result.complaints == []
    assert result.exits == [0] * (2 * WRITERS)
    ids = stored_ids(run.target)
    assert sum(ids.values()) == WRITERS * (PER_IMPORT + PER_ADD)
    assert set(ids.values()) == {1}
    shown = run.json("show")
    assert len(shown) == WRITERS * (PER_IMPORT + PER_ADD)
    state = run.json("state")
    run("rebuild")
    assert run.json("show") == shown
    assert run.json("state") == state
    assert json.loads(run("verify", "--json").stdout)["ok"] is True


def test_one_file_imported_four_times_at_once_is_stored_once(run: Cli, tmp_path: Path) -> None:
    """A cron import and an editor importing the same file: the events one of them stored
    first are 'already there' for the others, not a conflict."""
    import subprocess

    from tests.load.writers import timeline_command, write_import_file

    file = write_import_file(tmp_path / "same.jsonl", 1, 300)
    procs = [subprocess.Popen([*timeline_command(), "--db", run.target, "import", "--json", str(file)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]  # fmt: skip
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in results]
    counts = [json.loads(out) for out, _ in results]
    assert sum(c["new"] for c in counts) == 300
    assert all(c["new"] + c["existing"] == 300 for c in counts)
    ids = stored_ids(run.target)
    assert sum(ids.values()) == 300 and set(ids.values()) == {1}

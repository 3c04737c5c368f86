"""Defect 1 of issue 10: many writers at once on one log lose nothing and say nothing.

8 processes each import 500 distinct developments while 8 more each run 50 `add`
commands (reading the views after every tenth), all against one database, on SQLite and
on PostgreSQL. Every one exits 0 with nothing on stderr but the import's own summary;
the log holds exactly 4,400 developments, none twice; the views equal a fresh rebuild;
`verify` passes. `benchmarks/stress.py` runs the same rounds many times over.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.load.writers import run_writers, stored_ids

WRITERS, PER_IMPORT, PER_ADD = 8, 500, 50

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

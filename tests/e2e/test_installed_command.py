"""The installed `timeline` command, driven as a user drives it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SEED

pytestmark = pytest.mark.slow


def test_import_show_and_state_through_the_installed_command(tmp_path: Path, timeline_cmd: Any) -> None:
    db = str(tmp_path / "story.db")
    first = timeline_cmd("--db", db, "import", str(SEED))
    assert first.returncode == 0, first.stderr
    assert first.stderr == "25 new, 0 already there, 0 corrections, 0 retractions, 0 sources added (25 lines)\n"
    shown = timeline_cmd("--db", db, "show")
    assert shown.returncode == 0 and "Kamikawa" in shown.stdout
    state = json.loads(timeline_cmd("--db", db, "state", "--json").stdout)
    assert state["discrepancies"][0]["parts_total"]["total"] == "104200000"
    via_env = timeline_cmd("show", "--kind", "visit", "--json", env={"TIMELINE_DB": db})
    assert [d["key"] for d in json.loads(via_env.stdout)] == ["japan-cambodia-2024/visit"]


def test_bad_input_through_the_installed_command(tmp_path: Path, timeline_cmd: Any) -> None:
    db = str(tmp_path / "story.db")
    result = timeline_cmd("--db", db, "add", "pledge", "--title", "x", "--occurred", "soon",
                          "--donor", "A", "--recipient", "B", "--amount", "$1", "--source", "https://e.org")  # fmt: skip
    assert result.returncode == 2  # a value on the command line that cannot be read: a usage error
    assert (
        result.stderr
        == "Error: occurred: cannot read 'soon' as a date; write it like '6 July 2024', 'July 2024' or 2024-07-06\n"
    )
    assert result.stdout == ""
    log = timeline_cmd("--db", db, "log", "--json")
    assert log.returncode == 1 and log.stderr == f"Error: no timeline database at {db}\n"
    assert not Path(db).exists()


def test_version_and_completion(timeline_cmd: Any) -> None:
    assert timeline_cmd("--version").stdout.startswith("timeline, version ")
    completion = timeline_cmd(env={"_TIMELINE_COMPLETE": "bash_source"})
    assert completion.returncode == 0 and "_timeline_completion" in completion.stdout


def test_python_m_timeline_creates_and_reads_like_the_command(tmp_path: Path) -> None:
    # `python -m timeline` names the program with spaces; which commands may create a
    # database must not depend on how the program was named.
    import subprocess
    import sys

    db = str(tmp_path / "new.db")
    run = [sys.executable, "-m", "timeline", "--db", db]
    imported = subprocess.run([*run, "import", str(SEED)], capture_output=True, text=True, timeout=120)
    assert imported.returncode == 0, imported.stderr
    assert imported.stderr.startswith("25 new, 0 already there")
    assert subprocess.run([*run, "state", "--json"], capture_output=True, text=True, timeout=120).returncode == 0
    missing = subprocess.run([sys.executable, "-m", "timeline", "--db", str(tmp_path / "typo.db"), "show"],
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    assert (missing.returncode, missing.stderr) == (1, f"Error: no timeline database at {tmp_path / 'typo.db'}\n")
    assert not (tmp_path / "typo.db").exists()

"""Defect 9 of issue 10: a full disk under `add` or `import` is said as a full disk.

SQLite says "database or disk is full" from some writes and "disk I/O error" from others
(a WAL or shared-memory page it could not extend). The test mounts a 2 MB tmpfs (root
only; skipped with the reason otherwise), fills it, and always unmounts it.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Cli

pytestmark = pytest.mark.slow  # they mount file systems and start processes


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def _add(cli: Cli, title: str) -> object:
    return cli("add", "statement", "--title", title, "--occurred", "2024-07-06", "--speaker", "Hun Manet",
               "--quote", "q" * 15000, "--summary", "s" * 15000, "--source", "https://example.org", ok=False)  # fmt: skip


def test_add_and_import_on_a_full_disk_say_the_disk_is_full(small_disk: Path, tmp_path: Path) -> None:
    db = small_disk / "timeline.db"
    cli = Cli(str(db))
    cli.import_seed()
    # A reader keeps the database open, so its -wal and -shm stay: the next add opens the
    # database and fails only when its insert needs a new page.
    keeper = sqlite3.connect(db)
    keeper.execute("SELECT count(*) FROM stored_events").fetchall()
    filler = _fill(small_disk)
    try:
        full = _add(cli, "While the disk is full")
        assert full.exit_code == 1  # type: ignore[attr-defined]
        assert full.stderr in (  # type: ignore[attr-defined]
            f"Error: database {db}: the disk is full; free some space and run the command again\n",
            f"Error: cannot open database {db}: the disk is full; free some space and run the command again\n",
        )
        keeper.close()
        line = tmp_path / "one.jsonl"
        line.write_text('{"kind": "visit", "title": "Import on a full disk", "occurred": "2024", "visitors": ["A"],'
                        f' "summary": "{"s" * 15000}", "sources": ["https://example.org"]}}\n')  # fmt: skip
        imported = cli("import", str(line), ok=False)
        assert imported.exit_code == 1 and "is full; free some space and run the command again" in imported.stderr
        assert "Traceback" not in imported.output and "disk I/O error" not in imported.output
    finally:
        keeper.close()
        filler.unlink()
    assert cli.json("state")["position"] == 25  # nothing half-written
    assert _add(cli, "Once there is room again").exit_code == 0  # type: ignore[attr-defined]
    assert cli.json("state")["position"] == 26
    assert cli.json("verify")["ok"] is True


def test_an_import_whose_temp_folder_is_full_says_so(small_disk: Path, tmp_path: Path) -> None:
    from tests.faults.kill import log_length, run
    from tests.load.writers import write_import_file

    db = str(tmp_path / "timeline.db")
    Cli(db).import_seed()
    filler = _fill(small_disk)
    try:
        result = run(
            db, "import", str(write_import_file(tmp_path / "a.jsonl", 1, 15000)), env={"TMPDIR": str(small_disk)}
        )
    finally:
        filler.unlink()
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: cannot keep the import's scratch files in {small_disk} (it is full); nothing was imported;"
        " free some space there or set TMPDIR to a folder with more room\n"
    )
    assert log_length(db) == 25

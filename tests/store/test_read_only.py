"""Defect 8 of issue 10: a database this process may not write can be read, replayed, verified.

The tests run as root, which ignores file modes, so the file is made truly unwritable:
`chattr +i` (immutable: the kernel refuses every write, root's too) for a read-only file
in a writable folder, and a read-only bind mount for a read-only folder (where SQLite
cannot even make the `-shm` file a WAL database needs to be read in place). Both need
root (CAP_LINUX_IMMUTABLE, CAP_SYS_ADMIN) and skip with the reason without it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.faults.kill import run

READS = [["state", "--json"], ["show", "--json"], ["verify", "--full", "--json"], ["replay", "--as-of", "#10", "--json"],
         ["log", "--json"], ["topics", "--json"], ["history", "japan-cambodia-2024/package", "--json"]]  # fmt: skip

pytestmark = pytest.mark.slow  # they mount file systems and start processes


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _root_can(*command: str) -> str | None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except FileNotFoundError:
        return f"{command[0]} is not installed"
    return None if done.returncode == 0 else f"{' '.join(command)}: {done.stderr.strip()}"


@pytest.fixture
def immutable_db(tmp_path: Path) -> Iterator[Path]:
    db = tmp_path / "db" / "timeline.db"
    db.parent.mkdir()
    yield db
    subprocess.run(["chattr", "-i", str(db)], capture_output=True)


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(a writable folder, the same folder mounted read-only)."""
    src, view = tmp_path / "rw", tmp_path / "ro"
    src.mkdir()
    view.mkdir()
    reason = _root_can("mount", "--bind", str(src), str(view))
    if reason:
        pytest.skip(f"cannot bind-mount here: {reason}")
    try:
        reason = _root_can("mount", "-o", "remount,bind,ro", str(view))
        if reason:
            pytest.skip(f"cannot remount read-only here: {reason}")
        yield src, view
    finally:
        subprocess.run(["umount", str(view)], capture_output=True)


def _story(db: Path, caught_up: bool) -> dict[str, str]:
    """The seed story, with the views current or one event behind; the reads' answers."""
    cli = Cli(str(db))
    cli.import_seed()
    cli("add", "visit", "--title", "A second visit", "--occurred", "2024-08", "--visitors", "Yoko Kamikawa",
        "--source", "https://example.org/2")  # fmt: skip
    answers = {" ".join(r): cli(*r).stdout for r in READS}
    if not caught_up:
        cli("add", "visit", "--title", "A third visit", "--occurred", "2024-09", "--visitors", "Yoko Kamikawa",
            "--source", "https://example.org/3")  # fmt: skip
        copy = db.with_name("reference.db")
        shutil.copyfile(db, copy)
        answers = {" ".join(r): Cli(str(copy))(*r).stdout for r in READS}
        copy.unlink()
    return answers


def _reads_work(db: Path, expected: dict[str, str], tmp_path: Path, caught_up: bool, in_place: bool) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    before = _digest(db.parent)
    for args in READS:
        result = run(str(db), *args, env={"TMPDIR": str(scratch)})
        assert result.returncode == 0, (args, result.stderr)
        assert result.stdout == expected[" ".join(args)], args
        behind = f"Note: {db} is read-only: its views were brought up to date in a scratch copy\n"
        not_in_place = f"Note: {db} is read-only and cannot be read in place: reading a scratch copy\n"
        if in_place and args[0] in ("state", "show", "topics", "history") and not caught_up:
            assert result.stderr == behind
        elif in_place:
            assert result.stderr in ("", behind)
        else:
            assert result.stderr == not_in_place
    refused = Cli(str(db))("add", "visit", "--title", "x", "--occurred", "2024", "--visitors", "A",
                           "--source", "https://example.org", ok=False)  # fmt: skip
    assert (refused.exit_code, refused.stderr) == (1, f"Error: cannot write to {db}: the database is read-only\n")
    after = _digest(db.parent)
    # Reading a WAL database in place makes its -shm (and an empty -wal) when the folder
    # allows; SQLite cannot remove them without writing the file. The file is untouched.
    assert after.pop(db.name) == before.pop(db.name)
    assert set(after) - set(before) <= {f"{db.name}-wal", f"{db.name}-shm"}
    assert db.with_name(f"{db.name}-wal").stat().st_size == 0 if f"{db.name}-wal" in after else True
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize("caught_up", [True, False], ids=["views-current", "views-behind"])
def test_an_immutable_file_can_be_read(immutable_db: Path, tmp_path: Path, caught_up: bool) -> None:
    expected = _story(immutable_db, caught_up)
    reason = _root_can("chattr", "+i", str(immutable_db))
    if reason:
        pytest.skip(f"cannot make the file immutable here: {reason}")
    assert not (immutable_db.parent / "timeline.db-wal").exists()
    _reads_work(immutable_db, expected, tmp_path, caught_up, in_place=True)


@pytest.mark.parametrize("caught_up", [True, False], ids=["views-current", "views-behind"])
def test_a_file_in_a_read_only_folder_can_be_read(read_only_folder: tuple[Path, Path], tmp_path: Path,
                                                  caught_up: bool) -> None:  # fmt: skip
    src, view = read_only_folder
    expected = _story(src / "timeline.db", caught_up)
    _reads_work(view / "timeline.db", expected, tmp_path, caught_up, in_place=False)

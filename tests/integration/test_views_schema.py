"""Views made by an older version of their schema are rebuilt by the first command that
needs them, once, with one note on stderr; never used as they are."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import Cli
from timeline import config
from timeline.app import Timeline
from timeline.views.runner import Views
from timeline.views.tables import SCHEMA_VERSION, VERSION_TABLE

EVENTS = 25  # in the seed


def note(made: int = 1) -> str:
    return (
        f"Note: the views were made by an older version (schema {made}, now {SCHEMA_VERSION}):"
        f" rebuilding them from the log's {EVENTS} events\n"
    )


def make_old(target: str) -> None:
    """Views as an older version left them: no schema version kept, and a document whose
    text no version of this one would write (so using them as they are shows)."""
    app = Timeline.open(config.resolve(target))
    try:
        views = Views(app)
        with views.sql.transaction(commit=True) as c:
            views.sql.execute(c, f"DROP TABLE {VERSION_TABLE}")
            views.sql.execute(c, "UPDATE timeline_developments SET doc = REPLACE(doc, 'Kamikawa', 'STALE')")
    finally:
        app.close()


def test_show_rebuilds_old_views_once_with_one_note(target: str) -> None:
    run = Cli(target)
    run.import_seed()
    expected = run("show", "--json").stdout
    make_old(target)
    first = run("show", "--json")
    assert first.stderr == note()
    assert first.stdout == expected and "STALE" not in first.stdout
    again = run("show", "--json")
    assert again.stderr == "" and again.stdout == expected


def test_feeds_build_rebuilds_old_views_once(target: str, tmp_path: Path) -> None:
    run = Cli(target)
    run.import_seed()
    run("feeds", "build", "--out", str(tmp_path / "before"))
    make_old(target)
    first = run("feeds", "build", "--out", str(tmp_path / "after"))
    assert first.stderr.startswith(note()) and first.stderr.count("Note:") == 1
    written = {
        p.relative_to(tmp_path / "after"): p.read_bytes() for p in (tmp_path / "after").rglob("*") if p.is_file()
    }
    assert written and not any(b"STALE" in b for b in written.values())
    assert run("feeds", "build", "--out", str(tmp_path / "again")).stderr.count("Note:") == 0


def test_a_newer_schema_than_this_one_is_rebuilt_too(target: str) -> None:
    """Views another version made are not this version's, whichever is newer."""
    run = Cli(target)
    run.import_seed()
    app = Timeline.open(config.resolve(target))
    try:
        views = Views(app)
        with views.sql.transaction(commit=True) as c:
            views.sql.execute(c, f"UPDATE {VERSION_TABLE} SET version = ?", [SCHEMA_VERSION + 1])
    finally:
        app.close()
    assert run("topics").stderr == note(SCHEMA_VERSION + 1)
    assert run("topics").stderr == ""


def test_two_first_commands_rebuild_once(target: str) -> None:
    """Both open the old views before either rebuilds: the second finds them rebuilt once
    it holds the catch-up lock, and catches up instead of dropping them again."""
    run = Cli(target)
    run.import_seed()
    expected = run("show", "--json").stdout
    make_old(target)
    notes: list[str] = []

    @contextmanager
    def notice(text: str, total: int) -> Any:
        notes.append(text)
        yield lambda n: None

    apps = [Timeline.open(config.resolve(target)) for _ in range(2)]
    try:
        first, second = (Views(a) for a in apps)
        first.notice = second.notice = notice
        assert first.stale == second.stale == 1
        assert first.catch_up() == EVENTS
        assert second.catch_up() == 0 and second.stale is None
        assert len(notes) == 1
    finally:
        for a in apps:
            a.close()
    assert run("show", "--json").stdout == expected

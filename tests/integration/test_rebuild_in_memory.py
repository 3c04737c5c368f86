"""A rebuild of an in-memory SQLite log (one connection, held by the views' transaction)
applies one page a transaction: reading the next page under it would wait for that same
connection until the pool gave up."""

from __future__ import annotations

import pytest

from tests.conftest import SEED
from timeline import config
from timeline.app import Timeline
from timeline.importer import import_lines
from timeline.views import runner
from timeline.views.runner import Views


def test_an_in_memory_log_rebuilds_over_many_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    app = Timeline(env=config.resolve(":memory:").settings)
    with SEED.open(encoding="utf-8") as f:
        import_lines(app, f)
    monkeypatch.setattr(runner, "REBUILD_PAGE", 3)  # 25 events: nine pages
    views = Views(app)
    assert views.rebuild() == 25
    assert views.position() == 25


def test_the_rebuild_holds_the_lock_at_most_half_a_writers_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[float] = []
    monkeypatch.setenv(config.LOCK_TIMEOUT_VAR, "4")
    monkeypatch.setattr(Views, "catch_up", lambda self, progress=None, **kw: seen.append(kw["hold"]) or 0)
    app = Timeline(env=config.resolve(":memory:").settings)
    Views(app)._replay(None)
    assert seen == [2.0]

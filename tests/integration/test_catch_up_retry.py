"""A catch-up page whose transaction loses a race (another catch-up committed the same
position, or the server aborted it) is rolled back whole and tried again, a bounded
number of times: every event is applied once, and the views equal a rebuild."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from tests.conftest import Cli
from timeline import config
from timeline.app import Timeline
from timeline.views import runner
from timeline.views.runner import RETRIES, Views


def _views(run: Cli, monkeypatch: pytest.MonkeyPatch, failures: int) -> tuple[Timeline, Views, list[int]]:
    app = Timeline.open(config.resolve(run.target))
    views = Views(app)
    views.reset()  # empty views at position 0, so the catch-up below applies the whole log
    monkeypatch.setattr(runner.time, "sleep", lambda _: None)
    record, calls = views.record, []

    def losing(c: Any, tracking: Any) -> None:
        calls.append(tracking.notification_id)
        if len(calls) <= failures:
            # Raised after the page's rows were written in the same transaction, as a
            # concurrent catch-up's commit of the same position makes it.
            raise IntegrityError("duplicate key value violates unique constraint")
        record(c, tracking)

    monkeypatch.setattr(views, "record", losing)
    return app, views, calls


def test_a_page_that_loses_a_race_is_rolled_back_and_applied_once(run: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    run.import_seed()
    before = run("show", "--json").stdout
    app, views, calls = _views(run, monkeypatch, failures=3)
    try:
        assert views.catch_up(page=10) == app.event_count()
        assert views.position() == app.event_count()
        assert calls[:4] == [10, 10, 10, 10] and len(calls) == 4 + (app.event_count() - 1) // 10
    finally:
        app.close()
    assert run("show", "--json").stdout == before  # no page applied twice or half
    run("rebuild")
    assert run("show", "--json").stdout == before


def test_a_page_that_keeps_losing_gives_up_after_the_retries(run: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    run.import_seed()
    app, views, calls = _views(run, monkeypatch, failures=RETRIES + 1)
    try:
        with pytest.raises(IntegrityError):
            views.catch_up(page=10)
        assert len(calls) == RETRIES + 1 and views.position() == 0  # nothing half-applied
    finally:
        app.close()

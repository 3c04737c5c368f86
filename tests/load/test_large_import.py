"""Defect 11 of issue 10: a large write on PostgreSQL always finishes.

The library's recorder sent all the events of one call as one pipelined statement and
synced after it; at 10,000 events or more the client and the server could each wait for
the other for ever (it hung at 10,000 to 20,000 events per call). The recorder here sends
a call of 1,000 events or more as one binary COPY in an ordinary transaction (smaller ones
as one INSERT: `tests/integration/test_postgres_copy.py` checks both store the same rows).
This test stores 20,000 events of a realistic size in one call, twice; a hang fails it
through pytest-timeout's limit (pyproject.toml), not a timed assertion.
`benchmarks/stress.py` (`nox -s stress`) runs whole `timeline import`s of 50,000 lines.
"""

from __future__ import annotations

import uuid

import pytest
from eventsourcing.persistence import StoredEvent

from timeline import config
from timeline.app import Timeline

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

EVENTS = 20_000
STATE = b'{"title":"' + b"x" * 640 + b'"}'  # about the size of a seed development's event


def test_twenty_thousand_events_in_one_call_twice(postgres_url: str) -> None:
    app = Timeline.open(config.resolve(postgres_url))
    try:
        for round_ in range(2):
            events = [StoredEvent(uuid.uuid4(), 1, "events:Development.Reported", STATE) for _ in range(EVENTS)]
            positions = app.recorder.insert_events(events)  # it hung here before (psycopg's pipeline)
            assert positions == list(range(round_ * EVENTS + 1, (round_ + 1) * EVENTS + 1))
        assert app.event_count() == 2 * EVENTS
    finally:
        app.close()

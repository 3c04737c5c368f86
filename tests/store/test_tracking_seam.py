"""The one place the views call the library's private tracking methods
(`timeline.views.tracking`): if an upgrade of eventsourcing renames them, changes their
arguments or what they do, this fails, on both stores, before any catch-up goes wrong."""

from __future__ import annotations

import inspect

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from timeline import config
from timeline.app import Timeline
from timeline.views.tracking import position_in, record_in


def test_the_private_tracking_methods_keep_their_signatures_and_behaviour(target: str) -> None:
    app = Timeline.open(config.resolve(target))
    try:
        recorder = app.factory.tracking_recorder()
        kind = type(recorder)
        read = list(inspect.signature(kind._max_tracking_id).parameters)
        write = list(inspect.signature(kind._insert_tracking).parameters)
        assert read[0] == "self" and read[1] == "application_name" and len(read) == 3, read
        assert write[0] == "self" and write[2] == "tracking" and len(write) == 3, write

        datastore = recorder.datastore  # type: ignore[attr-defined]
        # On the caller's cursor: seen inside its transaction, gone when it rolls back.
        with datastore.transaction(commit=False) as c:
            assert position_in(recorder, c, "seam-test") == 0
            record_in(recorder, c, Tracking("seam-test", 5))
            assert position_in(recorder, c, "seam-test") == 5
        assert recorder.max_tracking_id("seam-test") is None
        # Committed with the caller's transaction.
        with datastore.transaction(commit=True) as c:
            record_in(recorder, c, Tracking("seam-test", 5))
        assert recorder.max_tracking_id("seam-test") == 5
        # A position not above the tracked one is refused, not recorded.
        with pytest.raises(IntegrityError), datastore.transaction(commit=True) as c:
            record_in(recorder, c, Tracking("seam-test", 5))
        with datastore.transaction(commit=True) as c:
            record_in(recorder, c, Tracking("seam-test", 9))
        assert recorder.max_tracking_id("seam-test") == 9
    finally:
        app.close()

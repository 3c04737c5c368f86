"""The stored events as plain records, in log order, and following new ones as they come."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from timeline.store import iter_notifications
from timeline.views.project import iso

if TYPE_CHECKING:
    from timeline.app import Timeline

# How often a follower reads the log when nothing woke it: SQLite's only way to see new
# events, and PostgreSQL's fallback when a notification is missed.
POLL_SECONDS = 0.5


def as_record(notification: Any, event: Any) -> dict[str, Any]:
    data = {
        k: v
        for k, v in vars(event).items()
        if k not in ("originator_id", "originator_version", "timestamp", "originator_topic")
    }
    return {
        "position": notification.id,
        "recorded": iso(event.timestamp),
        "event": type(event).__name__,
        "id": str(event.originator_id),
        "version": event.originator_version,
        "data": data,
    }


def stored_events(app: Timeline, after: int = 0, stop: int | None = None) -> Iterator[dict[str, Any]]:
    for n in iter_notifications(app.recorder, after + 1, stop):
        yield as_record(n, app.mapper.to_domain_event(n))


@contextmanager
def wake_ups(app: Timeline) -> Iterator[Callable[[float], None]]:
    """`wait(seconds)`: returns when an append may have committed, at the latest after
    `seconds`. On PostgreSQL the writers' NOTIFY wakes it at once; on SQLite it sleeps."""
    # Looked up, not imported: following a SQLite log never pays for importing psycopg.
    pg = sys.modules.get("timeline.recorders.postgres")
    if pg is None or not isinstance(app.recorder, pg.PostgresRecorder):
        yield time.sleep
        return
    listener = pg.Listener(app.recorder)
    try:
        listener.wait(0)  # LISTEN before the first read, so no commit falls between them
        yield listener.wait
    finally:
        listener.close()


def follow_events(
    app: Timeline, after: int, poll_seconds: float = POLL_SECONDS, wake: Any = wake_ups
) -> Iterator[dict[str, Any]]:
    """New events after `after`, forever, each once and in log order: read what follows the
    last one printed, then wait to be woken (or for `poll_seconds`) and read again. Positions
    are handed out in commit order (the recorder locks the table), so reading after the
    last position never skips an event that commits later; a missed notification delays an
    event by at most `poll_seconds`, never loses it."""
    with wake(app) as wait:
        while True:
            for record in stored_events(app, after):
                after = record["position"]
                yield record
            wait(poll_seconds)

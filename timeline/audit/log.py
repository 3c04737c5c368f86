"""The stored events as plain records, in log order, and following new ones as they come."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from timeline.store import iter_notifications
from timeline.views.project import iso

if TYPE_CHECKING:
    from timeline.app import Timeline

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


def follow_events(app: Timeline, after: int) -> Iterator[dict[str, Any]]:
    """New events after `after`, forever: by LISTEN/NOTIFY on PostgreSQL, by polling on
    SQLite (whose recorder has no subscriptions)."""
    try:
        subscription = app.recorder.subscribe(gt=after)
    except NotImplementedError:
        while True:
            for record in stored_events(app, after):
                after = record["position"]
                yield record
            time.sleep(POLL_SECONDS)
    with subscription:
        for notification in subscription:
            yield as_record(notification, app.mapper.to_domain_event(notification))

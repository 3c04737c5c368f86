"""The timeline as it stood at a point of the log: `replay --as-of WHEN`.

A point WHEN is a log position written `#N`, or a recorded time: ISO 8601, or a day with
or without a time as the occurred-date reader reads it, under the same date-order
convention (naive times are UTC; a day without a time means its first instant). A time
stands for the last event recorded at or before it: the log is read in append order and
reading stops at the first event recorded later.

`reader_as_of(app, when_text)` is a context manager that yields a `timeline.reading.Reader`
over scratch views built in a private SQLite file by the same `ViewWriter` that maintains
the live views, so every answer has the shape `show`, `state`, `topics` and the feeds use:

    from timeline.audit.replay import reader_as_of

    with reader_as_of(app, "#12") as reader:       # or "2024-07-07T12:00Z"
        docs = reader.timeline(Filter(topic="aid"))

The log is streamed in pages up to the point and no further, so memory stays flat however
long the log is, and a point near the start reads only the start. A point before the first
event gives empty views; a time in the future gives the current ones. An unreadable WHEN or
a position beyond the log raises `BadPoint` (a `TimelineError`, shown as one line; exit 2
for a WHEN that cannot be read, 1 for one beyond the log).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import Notification

from timeline import scratch
from timeline.errors import BadValue

if TYPE_CHECKING:
    from timeline.app import Timeline
    from timeline.reading import Reader
    from timeline.store import Sql
    from timeline.views.writer import ViewWriter

PAGE = 1000
_POSITION = re.compile(r"#(\d+)")
# A full ISO 8601 date and time, as `log --json` writes recorded times (no other reading).
_ISO_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?")

Batch = list[tuple[Notification, Any]]


class BadPoint(BadValue):
    """A WHEN that cannot be read, or names no point of this log."""


class PointBeyondLog(BadPoint):
    """A well-formed WHEN past the end of the log: like an unknown id, not a usage error."""

    exit_code = 1


@dataclass(frozen=True)
class Point:
    """A point of the log as written: a position `#N` or a recorded time (UTC)."""

    text: str
    position: int | None = None
    time: datetime | None = None

    @classmethod
    def parse(cls, text: str) -> Point:
        text = text.strip()
        m = _POSITION.fullmatch(text)
        if m:
            return cls(text, position=int(m.group(1)))
        if text.startswith("#"):
            raise BadPoint(f"{text!r} is not a log position #N")
        when = _instant(text)
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
        return cls(text, time=when)

    def includes(self, notification: Notification, event: Any) -> bool:
        if self.position is not None:
            return notification.id <= self.position
        assert self.time is not None
        return bool(event.timestamp <= self.time)

    def __str__(self) -> str:
        return self.text


def _instant(text: str) -> datetime:
    """A recorded time as written: ISO 8601 as `log --json` prints it, or a day (with or
    without a time of day and zone) read by the same reader, under the same date-order
    convention, as occurred dates: "03/04/2024" is refused as ambiguous, never guessed."""
    from events.dates import OccurredDate, Precision
    from events.errors import InvalidInput

    try:
        if _ISO_INSTANT.fullmatch(text):
            return datetime.fromisoformat(text)
        when = OccurredDate.parse(text)
    except (ValueError, InvalidInput) as e:
        if isinstance(e, InvalidInput) and "ambiguous" in e.message:
            raise BadPoint(e.message) from None
        when = None
    if when is None or when.is_interval or when.precision not in (Precision.DAY, Precision.TIME):
        raise BadPoint(
            f"{text!r} is neither a log position #N nor a time; write e.g. '#12', '2024-07-07 10:00' or '7 July 2024'"
        )
    day = (when.year, when.month or 1, when.day or 1)
    t = when.time
    if t is None:
        return datetime(*day)
    zone = None if t.offset is None else timezone(timedelta(minutes=t.offset))
    return datetime(*day, t.hour, t.minute, t.second, tzinfo=zone)


def point(app: Timeline, text: str) -> Point:
    """Parse WHEN and check it against this log: `#N` must not lie beyond it."""
    p = Point.parse(text)
    if p.position is not None:
        last = app.event_count()
        if p.position > last:
            raise PointBeyondLog(f"{p.text} is beyond the log, which ends at #{last}")
    return p


def stream(app: Timeline, after: int, until: Point, page: int = PAGE) -> Iterator[Batch]:
    """Decoded events after position `after` up to `until`, in pages, read no further.

    A position bounds the read itself; a time stops at the first event recorded later.
    Only rows the log's tree proves are replayed, as the views' catch-up does: at the first
    that it does not (within the range read), `LogAltered` names its position and why.
    """
    from timeline.audit.verify import LogAltered
    from timeline.store import notification_pages
    from timeline.views.proven import first_unproven

    mapper = app.mapper
    sql = app.sql()
    stop = until.position
    if stop is not None and stop <= after:
        return
    for notifications in notification_pages(app.recorder, after + 1, stop, page):
        with sql.transaction(commit=False) as c:
            unproven = first_unproven(sql, c, notifications)
        batch: Batch = []
        for n in notifications if unproven is None else notifications[: unproven[0]]:
            event = mapper.to_domain_event(n)
            if not until.includes(n, event):
                if batch:
                    yield batch
                return
            batch.append((n, event))
        if batch:
            yield batch
        if unproven is not None:
            last = batch[-1][0].id if batch else notifications[0].id - 1
            where = f"stops at #{last}" if last else "cannot start"
            raise LogAltered(f"replay {where}: {unproven[1]} (`timeline verify` lists every problem)")


@contextmanager
def scratch_views() -> Iterator[tuple[Sql, ViewWriter]]:
    """Empty views in a private SQLite file, removed afterwards: (sql, writer)."""
    from timeline.store import Sql
    from timeline.views.writer import ViewWriter

    with scratch.folder("timeline-replay-") as tmp:
        sql = Sql.scratch(Path(tmp) / "views.sqlite")
        try:
            writer = ViewWriter(sql)
            with sql.transaction(commit=True) as c:
                writer.create_tables(c)
            yield sql, writer
        finally:
            sql.close()


def replay_into(app: Timeline, sql: Sql, writer: ViewWriter, until: Point, after: int = 0) -> int:
    """Apply the log after `after` up to `until` to scratch views; returns the position reached."""
    position = after
    for batch in stream(app, after, until):
        with sql.transaction(commit=True) as c:
            writer.apply(c, batch)
        position = batch[-1][0].id
    return until.position if until.position is not None else position


@contextmanager
def reader_as_of(app: Timeline, when_text: str) -> Iterator[Reader]:
    """A Reader over the views as they stood at WHEN (`#N` or a recorded time)."""
    from timeline.proof.tree import Tree
    from timeline.reading import Reader

    until = point(app, when_text)
    with scratch_views() as (sql, writer):
        position = replay_into(app, sql, writer, until)
        yield Reader(sql, position, Tree(app))

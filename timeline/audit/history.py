"""Every version of one development: `history ID`.

The development's own rows are read by id with their log positions (one indexed query:
the SQLite rowid, the PostgreSQL notification_id), decoded by the application's mapper
and carried through the same pure `project()` the views use, so each version says what it
changed, before -> after, with its reason and source.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import Notification

from timeline.errors import DevelopmentNotFound
from timeline.references import reference_id
from timeline.store import Sql
from timeline.views.project import field_changes, iso, project
from timeline.views.registry import is_registry_event

if TYPE_CHECKING:
    from timeline.app import Timeline


def stored_versions(app: Timeline, originator_id: UUID, lte: int | None = None) -> Iterator[tuple[Notification, Any]]:
    """(notification, event) for each stored event of one development, in version order."""
    recorder = app.recorder
    sql = Sql.for_recorder(recorder)
    table = sql.table(recorder.events_table_name)  # type: ignore[attr-defined]
    position = "notification_id" if sql.postgres else "rowid"
    statement = (
        f"SELECT {position} AS position, originator_id, originator_version, topic, state FROM {table}"
        " WHERE originator_id = ?"
    )
    params: list[Any] = [originator_id if sql.postgres else originator_id.hex]
    if lte is not None:
        statement += " AND originator_version <= ?"
        params.append(lte)
    statement += " ORDER BY originator_version"
    with sql.transaction(commit=False) as c:
        rows = sql.rows(c, statement, params)
    for row in rows:
        n = Notification(
            id=int(row["position"]),
            originator_id=originator_id,
            originator_version=int(row["originator_version"]),
            topic=row["topic"],
            state=bytes(row["state"]),
        )
        yield n, app.mapper.to_domain_event(n)


def history(app: Timeline, ref: str) -> dict[str, Any]:
    dev_id = reference_id(ref)
    versions = []
    doc: dict[str, Any] | None = None
    for n, event in stored_versions(app, dev_id):
        if is_registry_event(event):
            raise DevelopmentNotFound(ref)  # an actor's id, not a development's
        before = doc["fields"] if doc else {}
        doc = project(doc, event, n.id)
        assert doc is not None
        after = doc["fields"]
        old_urls = {s["url"] for s in before.get("sources", [])}
        versions.append(
            {
                "version": n.originator_version,
                "position": n.id,
                "recorded": iso(event.timestamp),
                "event": type(event).__name__,
                "changes": field_changes(before, after),
                "sources_added": [s for s in after.get("sources", []) if s["url"] not in old_urls],
                "reason": getattr(event, "reason", None),
                "source": getattr(event, "source", None),
            }
        )
    if doc is None:
        raise DevelopmentNotFound(ref)
    return {"id": doc["id"], "key": doc["key"], "kind": doc["kind"], "title": doc["title"],
            "retracted": doc["retracted"] is not None, "versions": versions}  # fmt: skip

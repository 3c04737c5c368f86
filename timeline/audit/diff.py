"""What changed between two points of the log: `diff FROM TO`.

Only the events in (FROM, TO] are read, in pages. A development they touch is looked up as
it stood at FROM (its own earlier events, read by id), then carried forward with the same
pure `project()` the views use, so the result equals the difference of the two replays.
Working state lives in a scratch SQLite file, so memory stays flat for any range.

Per development: added (not there at FROM), corrected (each field whose value at TO differs
from its value at FROM; sources are reported as sourced), retracted (retracted at TO, not
at FROM) and sourced (source URLs at TO that were not there at FROM). The actor registry's
events in the range are listed as they are (`registry`): they change no development.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from timeline import scratch
from timeline.audit.history import stored_versions
from timeline.audit.replay import BadPoint, Point, point, stream
from timeline.views.project import field_changes, project
from timeline.views.registry import is_registry_event, registry_change

if TYPE_CHECKING:
    from timeline.app import Timeline


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def diff(app: Timeline, from_text: str, to_text: str) -> dict[str, Any]:
    start, end = point(app, from_text), point(app, to_text)
    if start.time is not None and end.time is not None:
        later: bool | None = start.time > end.time
    elif start.position is not None and end.position is not None:
        later = start.position > end.position
    else:
        later = None  # compare positions once the time is resolved
    if later:
        raise BadPoint(f"FROM {start} is after TO {end}")
    with scratch.folder("timeline-diff-") as tmp:
        db = sqlite3.connect(Path(tmp) / "diff.sqlite", isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=OFF")
            db.execute("CREATE TABLE docs (id TEXT PRIMARY KEY, seq INTEGER, before TEXT, after TEXT)")
            registry: list[dict[str, Any]] = []
            from_position, to_position = _walk(app, db, start, end, registry)
            if later is None and from_position > to_position:
                raise BadPoint(f"FROM {start} is after TO {end}")
            report = {**_report(db), "registry": registry}
        finally:
            db.close()
    return {"from": {"when": start.text, "position": from_position},
            "to": {"when": end.text, "position": to_position}, **report}  # fmt: skip


def _walk(
    app: Timeline, db: sqlite3.Connection, start: Point, end: Point, registry: list[dict[str, Any]]
) -> tuple[int, int]:
    """Resolve FROM (reading up to it only if it is a time), then apply (FROM, TO]."""
    if start.position is not None:
        from_position = start.position
    else:
        from_position = 0
        for batch in stream(app, 0, start):
            from_position = batch[-1][0].id
    to_position = from_position
    if end.time is not None and from_position and _recorded_after(app, from_position, end):
        return from_position, from_position - 1  # TO lies before FROM: the caller says so
    if end.position is not None and end.position <= from_position:
        return from_position, end.position
    seq = 0
    for batch in stream(app, from_position, end):
        db.execute("BEGIN")
        for n, event in batch:
            if is_registry_event(event):
                registry.append(registry_change(n, event))  # they change no development
                continue
            key = str(n.originator_id)
            row = db.execute("SELECT after FROM docs WHERE id = ?", (key,)).fetchone()
            if row is None:
                before = _as_of_version(app, UUID(str(n.originator_id)), n.originator_version - 1)
                seq += 1
                db.execute("INSERT INTO docs VALUES (?, ?, ?, ?)", (key, seq, _dumps(before), _dumps(before)))
                after = before
            else:
                after = json.loads(row[0])
            after = project(after, event, n.id)
            db.execute("UPDATE docs SET after = ? WHERE id = ?", (_dumps(after), key))
        db.execute("COMMIT")
        to_position = batch[-1][0].id
    if end.position is not None:
        to_position = end.position
    return from_position, to_position


def _recorded_after(app: Timeline, position: int, end: Point) -> bool:
    notifications = app.recorder.select_notifications(position, 1, stop=position)
    return bool(notifications) and not end.includes(notifications[0], app.mapper.to_domain_event(notifications[0]))


def _as_of_version(app: Timeline, originator_id: UUID, version: int) -> dict[str, Any] | None:
    """A development's document after its first `version` events (None before any)."""
    doc = None
    if version < 1:
        return doc
    for n, event in stored_versions(app, originator_id, version):
        doc = project(doc, event, n.id)
    return doc


def _report(db: sqlite3.Connection) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {"added": [], "corrected": [], "retracted": [], "sourced": []}
    for before, after in _pairs(db):
        if after is None:
            continue
        ident = {"id": after["id"], "key": after["key"], "kind": after["kind"], "title": after["title"]}
        if before is None:
            out["added"].append({**ident, "occurred": after["occurred"], "position": after["first_position"]})
        else:
            changes = field_changes(before["fields"], after["fields"])
            if changes:
                out["corrected"].append({**ident, "changes": changes})
        if after["retracted"] and not (before and before["retracted"]):
            out["retracted"].append({**ident, "reason": after["retracted"]["reason"],
                                     "position": after["retracted"]["position"]})  # fmt: skip
        if before is None:
            continue  # an added development's sources come with it
        urls = {s["url"] for s in before["fields"].get("sources", [])}
        new = [s for s in after["fields"].get("sources", []) if s["url"] not in urls]
        if new:
            out["sourced"].append({**ident, "sources": new})
    return out


def _pairs(db: sqlite3.Connection) -> Iterator[tuple[Any, Any]]:
    for before, after in db.execute("SELECT before, after FROM docs ORDER BY seq"):
        yield json.loads(before), json.loads(after)

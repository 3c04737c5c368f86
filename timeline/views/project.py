"""The projection as a pure function: a development's document after one more event.

`project(doc, event, position)` takes the document as it stood (or None) and returns the
new one; it reads nothing and writes nothing, so it is tested without a database and the
same function serves the materialised views, a full rebuild and a replay as of any point.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

from events import OccurredDate, apply_changes
from events.development import Development, actors_of, with_source
from events.slugs import slugify

__all__ = ["project", "facets", "field_changes", "period", "sort_key", "iso", "Facet"]

_ZERO = timedelta(0)
Facet = tuple[str, str, str]  # (facet, slug, display name): ("topic", "aid", "aid")


def iso(ts: datetime) -> str:
    """UTC timestamps as '2024-07-07T10:00:00.000000Z' (the library stamps in UTC)."""
    if ts.utcoffset() == _ZERO:
        return ts.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"  # strftime is slower
    return ts.isoformat(timespec="microseconds")


def project(doc: dict[str, Any] | None, event: Any, position: int) -> dict[str, Any] | None:
    return _apply(event, doc, position)


# One handler per event type (as eventsourcing's examples/aggregate7 mutates state).


@functools.singledispatch
def _apply(event: Any, doc: dict[str, Any] | None, position: int) -> dict[str, Any] | None:
    """An event kind this version does not know changes nothing it shows."""
    return _known(doc, event, position)


def _known(doc: dict[str, Any] | None, event: Any, position: int) -> dict[str, Any]:
    if doc is None:
        # An event for a development this view never saw begin: the log is not whole.
        raise ValueError(f"event at position {position} changes unknown development {event.originator_id}")
    return dict(doc)


@_apply.register
def _reported(event: Development.Reported, doc: dict[str, Any] | None, position: int) -> dict[str, Any]:
    stamp = iso(event.timestamp)
    start = {
        "id": str(event.originator_id),
        "key": event.key,
        "kind": event.kind,
        "recorded": stamp,
        "first_position": position,
        "corrections": [],
        "retracted": None,
    }
    return _document(start, dict(event.fields), event, position, stamp)


@_apply.register
def _corrected(event: Development.Corrected, doc: dict[str, Any] | None, position: int) -> dict[str, Any]:
    doc = _known(doc, event, position)
    note = {
        "position": position,
        "recorded": iso(event.timestamp),
        "changes": event.changes,
        "reason": event.reason,
        "source": event.source,
    }
    doc["corrections"] = [*doc["corrections"], note]
    return _document(doc, with_source(apply_changes(doc["fields"], event.changes), event.source), event, position)


@_apply.register
def _retracted(event: Development.Retracted, doc: dict[str, Any] | None, position: int) -> dict[str, Any]:
    doc = _known(doc, event, position)
    doc["retracted"] = {
        "position": position,
        "recorded": iso(event.timestamp),
        "reason": event.reason,
        "source": event.source,
    }
    return _document(doc, with_source(doc["fields"], event.source), event, position)


@_apply.register
def _source_added(event: Development.SourceAdded, doc: dict[str, Any] | None, position: int) -> dict[str, Any]:
    doc = _known(doc, event, position)
    return _document(doc, with_source(doc["fields"], event.source), event, position)


def _document(
    doc: dict[str, Any], fields: dict[str, Any], event: Any, position: int, stamp: str | None = None
) -> dict[str, Any]:
    occurred = OccurredDate.from_canonical(fields["occurred"])
    doc.update(
        title=fields["title"],
        occurred=fields["occurred"],
        precision=occurred.precision.value,
        topics=list(fields.get("topics", [])),
        actors=actors_of(doc["kind"], fields),
        fields=fields,
        updated=stamp or iso(event.timestamp),
        last_position=position,
        version=event.originator_version,
    )
    return doc


def facets(doc: dict[str, Any] | None, registry: Any = None) -> set[Facet]:
    if doc is None:
        return set()
    # One facet per slug: "Hun Manet" and "Hun  Manet" are one actor. Its name here is
    # the first spelling the document uses; the names table keeps one rule for all.
    # With a registry (`timeline.views.registry`), a name it resolves is its actor's.
    by_slug: dict[tuple[str, str], str] = {}
    for t in doc["topics"]:
        by_slug.setdefault(("topic", t), t)
    span = period(doc) if registry is not None and doc["actors"] else None
    for a in doc["actors"]:
        actor = registry.resolve(a, *span) if span else None
        if actor is not None:
            by_slug.setdefault(("actor", actor.slug), actor.name)
        else:
            by_slug.setdefault(("actor", slugify(a)), a)
    return {(facet, slug, name) for (facet, slug), name in by_slug.items()}


def sort_key(doc: dict[str, Any]) -> str:
    return _sort_key(doc["occurred"])


def period(doc: dict[str, Any]) -> tuple[str, str]:
    """First and last day the occurred date may cover, for --from/--to filters: the
    date's own `span`, so the SQL filter asks exactly what `OccurredDate.overlaps` does."""
    return _period(doc["occurred"])


# Both depend on the stored date text alone, and a story repeats its dates.
@functools.lru_cache(maxsize=65536)
def _sort_key(occurred: str) -> str:
    return OccurredDate.from_canonical(occurred).sort_key


@functools.lru_cache(maxsize=65536)
def _period(occurred: str) -> tuple[str, str]:
    return OccurredDate.from_canonical(occurred).span()


def field_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Fields whose value differs, {name: {"before", "after"}}; sources are left to `sourced`."""
    names = sorted((set(before) | set(after)) - {"sources"})
    return {k: {"before": before.get(k), "after": after.get(k)} for k in names if before.get(k) != after.get(k)}

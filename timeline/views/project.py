"""The projection as a pure function: a development's document after one more event.

`project(doc, event, position)` takes the document as it stood (or None) and returns the
new one; it reads nothing and writes nothing, so it is tested without a database and the
same function serves the materialised views, a full rebuild and a replay as of any point.
"""

from __future__ import annotations

import functools
import json
import re
from datetime import datetime, timedelta
from typing import Any

import orjson

from events import OccurredDate, apply_changes
from events.development import Development, actors_of, with_source
from events.slugs import slugify

__all__ = [
    "project",
    "facets",
    "field_changes",
    "period",
    "sort_key",
    "iso",
    "Facet",
    "dumps",
    "dumps_plain",
    "plain",
    "plain_event",
    "loads",
    "read_row",
]

_ZERO = timedelta(0)
Facet = tuple[str, str, str]  # (facet, slug, display name): ("topic", "aid", "aid")


def iso(ts: datetime) -> str:
    """UTC timestamps as '2024-07-07T10:00:00.000000Z' (the library stamps in UTC)."""
    if ts.utcoffset() == _ZERO:
        # isoformat() alone, not its timespec nor a replace(): a third faster (strftime is slower)
        text = ts.isoformat()
        if text.endswith("+00:00"):
            return (text[:-6] if ts.microsecond else text[:-6] + ".000000") + "Z"
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
    # `_document` of a new development's head, made whole in one go: the same keys in the
    # same order (tests/properties/test_dumps_plain.py holds it to `_document`), a dict fewer.
    stamp = iso(event.timestamp)
    kind = event.kind
    fields = dict(event.fields)
    title, occurred = fields["title"], fields["occurred"]  # in `_copies`' order
    return {
        "id": str(event.originator_id),
        "key": event.key,
        "kind": kind,
        "recorded": stamp,
        "first_position": position,
        "corrections": [],
        "retracted": None,
        "title": title,
        "occurred": occurred,
        "precision": _precision(occurred),
        "topics": list(fields.get("topics", [])),
        "actors": actors_of(kind, fields),
        "fields": fields,
        "updated": stamp,
        "last_position": position,
        "version": event.originator_version,
    }


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
    doc.update(
        _copies(doc["kind"], fields),
        fields=fields,
        updated=stamp or iso(event.timestamp),
        last_position=position,
        version=event.originator_version,
    )
    return doc


def _copies(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    """What a document shows beside its fields and derives from them alone."""
    return {
        "title": fields["title"],
        "occurred": fields["occurred"],
        "precision": _precision(fields["occurred"]),
        "topics": list(fields.get("topics", [])),
        "actors": actors_of(kind, fields),
    }


COPIES = ("title", "occurred", "precision", "topics", "actors")
_COPIED = frozenset(COPIES)
_HEAD = ("id", "key", "kind", "recorded", "first_position", "corrections", "retracted")
_TAIL = ("updated", "last_position", "version")  # after the copies and the fields


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


def dumps(doc: dict[str, Any]) -> str:
    """A document as the views store it, as JSON text. Not sorted: `project` builds every
    document in one key order, so the text is already deterministic (sorting was a third
    of the cost of encoding)."""
    return _ENCODE(stored(doc))


# Values orjson writes as `_ENCODE` does (tests/properties/test_dumps_plain.py): text,
# whole numbers, yes/no, None, and lists and objects of them. Not floats (Python writes
# 1e+16 and NaN, orjson 1e16 and null), nor anything else.
_PLAIN_LEAVES = frozenset((str, int, bool, type(None)))
# An event's own attributes, never part of a document as they are (`project` writes its
# time stamp as text).
_EVENT_OWN = frozenset(("originator_id", "originator_version", "timestamp"))


def plain(value: Any) -> bool:
    """Whether `value` holds only what `dumps_plain` writes as `dumps` does."""
    kind = type(value)
    if kind is str:
        return True
    if kind is list or kind is dict:
        # A text, the commonest value, is looked at here rather than in a call of its own.
        for v in value if kind is list else value.values():  # noqa: SIM110 - all() of a generator: twice as slow
            if type(v) is not str and not plain(v):
                return False
        return True
    return kind in _PLAIN_LEAVES


def plain_event(event: Any) -> bool:
    """Whether every value an event gives a document is `plain`."""
    for k, v in vars(event).items():  # noqa: SIM110 - as in `plain`
        if type(v) is not str and k not in _EVENT_OWN and not plain(v):
            return False
    return True


def dumps_plain(doc: dict[str, Any]) -> str:
    """`dumps` of a document made from `plain_event` events only, by orjson: the same text,
    in about a third of the time. What orjson refuses (a whole number over 64 bits, a
    lone surrogate, a key that is not text, deep nesting) goes the exact way."""
    kept = stored(doc)
    try:
        return orjson.dumps(kept).decode()
    except TypeError:
        return _ENCODE(kept)


# A run of 19 digits or more may be a whole number beyond 64 bits, which orjson reads as a
# float: such a text (and what orjson refuses: NaN, a lone surrogate) is read by json.
_LONG_NUMBER = re.compile(r"[0-9]{19}")


def _decode(text: str) -> Any:
    """`json.loads`, by orjson where it reads the same (tests/properties/test_dumps_plain.py)."""
    if _LONG_NUMBER.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def loads(text: str, id: str, kind: str, first_position: int) -> dict[str, Any]:
    """A stored document, whole again, with the values its row's columns hold."""
    kept = _decode(text)
    kept.update(id=id, kind=kind, first_position=int(first_position))
    return loaded(kept)


def read_row(row: Any) -> dict[str, Any]:
    """The document of a row read with `doc, id, kind, first_position`."""
    return loads(row["doc"], row["id"], row["kind"], row["first_position"])


# Values most documents hold that the stored form leaves out, each with how `loaded` knows
# them again: a development never changed was updated when recorded, at its first position,
# has no corrections, is not retracted and is at version 1 (a tenth of a document's bytes).
_IMPLIED: dict[str, Any] = {
    "corrections": lambda kept: [],
    "retracted": lambda kept: None,
    "updated": lambda kept: kept["recorded"],
    "last_position": lambda kept: kept["first_position"],
    "version": lambda kept: 1,
}


# Kept in the document's row (`timeline_developments`): not a second time in its text.
_COLUMNS = frozenset(("id", "kind", "first_position"))
_LEFT_OUT = _COPIED | _COLUMNS


def stored(doc: dict[str, Any]) -> dict[str, Any]:
    """The document as the views store it: without the values `_copies` derives from its
    fields (a second copy of the title, date, topics and actors was a fifth of its bytes),
    those its row's columns hold (`loads` takes them back), nor those `_IMPLIED` gives."""
    kept = {k: v for k, v in doc.items() if k not in _LEFT_OUT}
    # `_IMPLIED`'s values, each compared as `kept[k] == _IMPLIED[k](doc)` (spelled out: the
    # calls were a fifth of this function; tests/properties/test_dumps_plain.py holds them).
    if "corrections" in kept and kept["corrections"] == []:
        del kept["corrections"]
    if "retracted" in kept and kept["retracted"] == None:  # noqa: E711 - as `_IMPLIED` compares
        del kept["retracted"]
    if "updated" in kept and kept["updated"] == doc["recorded"]:
        del kept["updated"]
    if "last_position" in kept and kept["last_position"] == doc["first_position"]:
        del kept["last_position"]
    if "version" in kept and kept["version"] == 1:
        del kept["version"]
    return kept


def loaded(kept: dict[str, Any]) -> dict[str, Any]:
    """The whole document again from its stored form, in the key order `project` makes."""
    doc = {k: kept[k] if k in kept else _IMPLIED[k](kept) for k in _HEAD}
    doc.update(_copies(kept["kind"], kept["fields"]))
    doc["fields"] = kept["fields"]
    for k in _TAIL:
        if k in kept or k in _IMPLIED:
            doc[k] = kept[k] if k in kept else _IMPLIED[k](kept)
    doc.update((k, v) for k, v in kept.items() if k not in doc)
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
            by_slug.setdefault(("actor", _slug(a)), a)
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


@functools.lru_cache(maxsize=65536)
def _slug(name: str) -> str:
    return slugify(name)


@functools.lru_cache(maxsize=65536)
def _precision(occurred: str) -> str:
    return str(OccurredDate.from_canonical(occurred).precision.value)


def field_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Fields whose value differs, {name: {"before", "after"}}; sources are left to `sourced`."""
    names = sorted((set(before) | set(after)) - {"sources"})
    return {k: {"before": before.get(k), "after": after.get(k)} for k in names if before.get(k) != after.get(k)}

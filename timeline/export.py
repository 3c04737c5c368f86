"""Exports to the tools newsrooms and researchers already use.

- `ImportLines(batches)`: the log as import lines, one per event in log order (a development
  line for each report, `correct`, `retract` and `source` lines, and the actor registry's
  lines), so that replaying them into an empty database gives the same timeline, the same
  corrections history and the same registry. Each stored
  value is written as text the importer reads back to exactly that value, or the export
  refuses (`ExportError`), naming the development and field.
- `timelinejs(docs, title)`: TimelineJS 3 JSON (https://timeline.knightlab.com/docs/json-format.html).
- `csv_rows(docs, wikidata)`: one row per development with GDELT/ACLED-style columns, a
  CAMEO-style event code and the Wikidata ids of actor 1 and 2 when the registry resolves
  them; a cell a spreadsheet would read as a formula is neutralised (`csv_cell`).
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from events import COMMON_FIELDS, KINDS, Money, OccurredDate
from events.actors import Actor
from events.errors import InvalidInput
from events.fields import Field
from timeline.errors import TimelineError
from timeline.views.project import period
from timeline.views.registry import Registry, wikidata_of

if TYPE_CHECKING:
    from timeline.audit.replay import Batch

# CAMEO-style codes (Schrodt's CAMEO 1.1b3): make a visit, sign a formal agreement, make a
# public statement, pledge (express intent to provide) economic aid.
CAMEO = {"visit": "042", "agreement": "057", "statement": "010", "pledge": "0331"}

CSV_COLUMNS = [
    "event_id", "event_key", "event_date", "event_date_end", "date_precision", "occurred", "year",
    "actor1", "actor2", "actor1_wikidata", "actor2_wikidata", "assoc_actors", "event_type", "cameo_code", "title", "notes", "location",
    "topics", "amount", "currency", "source_urls", "num_sources", "recorded", "corrected",
    "num_corrections", "retracted", "retraction_reason",
]  # fmt: skip


class ExportError(TimelineError):
    """A stored value the export cannot write so that an import reads it back the same."""


# --- JSON Lines in the import format ------------------------------------------------------


class ImportLines:
    """Import lines for the decoded events in `batches` (as `timeline.audit.replay.stream`
    yields them), in log order, one line per event: a development's as `timeline import`
    reads them, an actor registry event as `timeline actor import` reads it (`registry_line`),
    so that `actor import` of the whole file replays both in that order. `registry_lines`
    counts the registry's, once iterated."""

    def __init__(self, batches: Iterable[Batch]) -> None:
        self.batches = batches
        self.registry_lines = 0

    def __iter__(self) -> Iterator[str]:
        kinds: dict[str, str] = {}
        names: dict[str, str] = {}
        for batch in self.batches:
            for _notification, event in batch:
                if isinstance(event, Actor.Event):
                    self.registry_lines += 1
                    line = registry_line(event, names)
                else:
                    line = _import_line(event, kinds)
                yield json.dumps(line, ensure_ascii=False, sort_keys=False)


def registry_line(event: Actor.Event, names: dict[str, str]) -> dict[str, Any]:
    """The `actor import` line that records `event` again: each actor named by its own name
    (which `names`, actor id -> name, learns from its `Added`, first in the log), dates as
    stored (EDTF, which the registry reads back to the same)."""
    aid = str(event.originator_id)
    if isinstance(event, Actor.Added):
        names[aid] = event.name
        line: dict[str, Any] = {"op": "actor", "name": event.name}
        line.update({k: v for k, v in (("kind", event.kind), ("wikidata", event.wikidata)) if v})
        return line
    name = names[aid]
    if isinstance(event, Actor.Aliased):
        return {"op": "alias", "actor": name, "name": event.alias}
    if isinstance(event, Actor.RoleAssigned):
        line = {"op": "role", "actor": name, "role": event.role, "from": event.start}
        return line if event.end is None else {**line, "to": event.end}
    if isinstance(event, Actor.Merged):
        return {"op": "merge", "into": names[event.into], "other": name, "reason": event.reason}
    if isinstance(event, Actor.Split):
        return {"op": "split", "actor": name, "reason": event.reason}
    raise ExportError(f"event {type(event).__name__} of actor {name} has no registry line")


def _import_line(event: Any, kinds: dict[str, str]) -> dict[str, Any]:
    """The import line of one development event; `kinds` learns each development's kind
    from its report, which comes first in the log."""
    dev_id = str(event.originator_id)
    name = type(event).__name__
    if name == "Reported":
        kinds[dev_id] = event.kind
        line = {"kind": event.kind, "id": event.key}
        for key, value in event.fields.items():
            line[key] = _as_written(event.kind, key, value, dev_id)
        return line
    if name not in ("Corrected", "Retracted", "SourceAdded"):
        raise ExportError(f"event {name} of development {dev_id} has no import line")
    kind = kinds[dev_id]
    if name == "Corrected":
        changes = {k: ("" if c["after"] is None else _as_written(kind, k, c["after"], dev_id))
                   for k, c in event.changes.items()}  # fmt: skip
        line = {"op": "correct", "id": dev_id, "set": changes, "reason": event.reason}
    elif name == "Retracted":
        line = {"op": "retract", "id": dev_id, "reason": event.reason}
    else:
        line = {"op": "source", "id": dev_id}
    if event.source:
        line["source"] = _as_written(kind, "sources", [event.source], dev_id)[0]
    return line


def _field(kind: str, name: str) -> Field:
    table = {f.name: f for f in COMMON_FIELDS}
    table.update(KINDS[kind].field_index)
    return table[name]


def _as_written(kind: str, name: str, value: Any, dev_id: str) -> Any:
    """`value` (stored) as text the field reads back to exactly `value`."""
    fld = _field(kind, name)
    items = value if fld.many else [value]
    out = []
    for item in items:
        for candidate in _candidates(item):
            try:
                if fld.read([candidate] if fld.many else candidate) == ([item] if fld.many else item):
                    out.append(candidate)
                    break
            except InvalidInput:
                continue
        else:
            raise ExportError(
                f"cannot write field {name} of development {dev_id} so that import reads it back: {item!r}"
            )
    return out if fld.many else out[0]


def _candidates(value: Any) -> Iterator[Any]:
    if isinstance(value, str):
        yield value
        try:
            humane = OccurredDate.from_canonical(value).humane()
        except (InvalidInput, ValueError):
            return
        yield humane
    elif isinstance(value, dict) and "currency" in value:
        yield Money.from_primitive(value).humane()
    elif isinstance(value, dict) and "url" in value:
        yield value
        if value.get("published"):
            yield {**value, "published": OccurredDate.from_canonical(value["published"]).humane()}
    else:
        yield value


# --- TimelineJS 3 ------------------------------------------------------------------------


def _tl_date(d: OccurredDate, display: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"year": d.year}
    if d.month is not None:
        out["month"] = d.month
    if d.day is not None:
        out["day"] = d.day
    if d.time is not None:
        out.update(hour=d.time.hour, minute=d.time.minute, second=d.time.second)
    if display:
        out["display_date"] = display
    return out


def _text(value: str) -> str:
    # TimelineJS renders headline and text as HTML: ours are plain text.
    return html.escape(value, quote=False)


def timelinejs(
    docs: Iterable[dict[str, Any]], title: str, group_by: str = "kind", registry: Registry | None = None
) -> dict[str, Any]:
    """The timeline as TimelineJS 3 reads it: one slide per development (`unique_id` from
    its id, `group` from its kind or first topic), partial dates as year/month/day with
    the date as written in `display_date`, the first source as media, an era for every
    development that spans a closed range, and the Wikidata ids of the registered actors
    it names (through `registry`) as links in its text."""
    events: list[dict[str, Any]] = []
    eras: list[dict[str, Any]] = []
    for doc in docs:
        when = OccurredDate.from_canonical(doc["occurred"])
        shown = when.humane()
        slide: dict[str, Any] = {
            "unique_id": f"d-{doc['id']}",
            "start_date": _tl_date(when),
            "display_date": shown,
            "text": {
                "headline": _text(doc["title"] + (" (retracted)" if doc["retracted"] else "")),
                "text": _slide_text(doc, wikidata_of(registry, doc) if registry is not None else []),
            },
            "group": doc["kind"] if group_by == "kind" else (doc["topics"][0] if doc["topics"] else "other"),
            "autolink": False,
        }
        if when.end is not None:
            slide["end_date"] = _tl_date(when.end)
            eras.append(
                {
                    "start_date": _tl_date(when),
                    "end_date": _tl_date(when.end),
                    "text": {"headline": _text(doc["title"])},
                }
            )
        sources = doc["fields"].get("sources") or []
        if sources:
            first = sources[0]
            slide["media"] = {"url": first["url"], "link": first["url"], "caption": _text(first.get("publisher") or first["url"]),
                              "credit": _text(first.get("publisher") or "")}  # fmt: skip
        events.append(slide)
    out: dict[str, Any] = {"title": {"text": {"headline": _text(title), "text": ""}}, "events": events}
    if eras:
        out["eras"] = eras
    return out


def _slide_text(doc: dict[str, Any], wikidata: list[tuple[str, str]]) -> str:
    parts = []
    if doc["fields"].get("summary"):
        parts.append(f"<p>{_text(doc['fields']['summary'])}</p>")
    for c in doc["corrections"]:
        changed = ", ".join(sorted(c["changes"]))
        parts.append(f"<p>Corrected {_text(c['recorded'][:10])} ({_text(changed)}): {_text(c['reason'] or '')}</p>")
    if doc["retracted"]:
        parts.append(
            f"<p>Retracted {_text(doc['retracted']['recorded'][:10])}: {_text(doc['retracted']['reason'] or '')}</p>"
        )
    sources = doc["fields"].get("sources") or []
    if sources:
        links = ", ".join(
            f'<a href="{html.escape(s["url"])}">{_text(s.get("publisher") or s["url"])}</a>' for s in sources
        )
        parts.append(f"<p>Sources: {links}</p>")
    if wikidata:
        items = ", ".join(
            f'<a href="https://www.wikidata.org/wiki/{html.escape(q)}">{_text(name)} ({html.escape(q)})</a>'
            for q, name in wikidata
        )
        parts.append(f"<p>Wikidata: {items}</p>")
    return "".join(parts)


# --- CSV (GDELT / ACLED style) -------------------------------------------------------------


def _two_actors(doc: dict[str, Any]) -> tuple[str, str]:
    f = doc["fields"]
    first = {"visit": "visitors", "pledge": "donor", "statement": "speaker", "agreement": "parties"}
    second = {"visit": "hosts", "pledge": "recipient", "agreement": "parties"}

    def names(key: str | None) -> list[str]:
        value = f.get(key) if key else None
        return value if isinstance(value, list) else ([value] if value else [])

    one = names(first.get(doc["kind"]))
    two = names(second.get(doc["kind"]))
    if doc["kind"] == "agreement":
        one, two = one[:1], one[1:2]
    return (one[0] if one else ""), (two[0] if two else "")


# A cell a spreadsheet reads as a formula (OWASP's CSV injection guidance): =, +, -, @, and
# the tab and carriage return that can hide one.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: str) -> str:
    """`value` as a CSV cell no spreadsheet runs: one that begins like a formula gets a
    single quote in front, which spreadsheets show as text (`=HYPERLINK(...)` -> `'=HYPERLINK(...)`).
    Only the CSV export does this; the JSON Lines export keeps every value as stored."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _wikidata(registry: Registry | None, doc: dict[str, Any], name: str) -> str:
    """The Wikidata id of the registered actor `name` means in this development, or ''."""
    actor = registry.resolve(name, *period(doc)) if registry is not None and name else None
    return (actor.wikidata or "") if actor is not None else ""


def csv_rows(docs: Iterable[dict[str, Any]], registry: Registry | None = None) -> Iterator[list[str]]:
    """The header, then one row per development; actors resolve through `registry` (the
    views' actor registry) to their Wikidata ids."""
    yield CSV_COLUMNS
    for doc in docs:
        when = OccurredDate.from_canonical(doc["occurred"])
        first, last = when.span()
        actor1, actor2 = _two_actors(doc)
        f = doc["fields"]
        amount = f.get("amount") if doc["kind"] == "pledge" else None
        sources = f.get("sources") or []
        row = {
            "event_id": doc["id"],
            "event_key": doc.get("key") or "",
            "event_date": "" if when.open == "before" else first,
            "event_date_end": "" if when.open == "after" else last,
            "date_precision": doc["precision"],
            "occurred": doc["occurred"],
            "year": str(when.year),
            "actor1": actor1,
            "actor2": actor2,
            "actor1_wikidata": _wikidata(registry, doc, actor1),
            "actor2_wikidata": _wikidata(registry, doc, actor2),
            "assoc_actors": "; ".join(a for a in doc["actors"] if a not in (actor1, actor2)),
            "event_type": doc["kind"],
            "cameo_code": CAMEO.get(doc["kind"], ""),
            "title": doc["title"],
            "notes": f.get("summary") or "",
            "location": f.get("place") or "",
            "topics": "; ".join(doc["topics"]),
            "amount": Money.from_primitive(amount).humane() if amount else "",
            "currency": amount["currency"] if amount else "",
            "source_urls": " ".join(s["url"] for s in sources),
            "num_sources": str(len(sources)),
            "recorded": doc["recorded"],
            "corrected": doc["corrections"][-1]["recorded"] if doc["corrections"] else "",
            "num_corrections": str(len(doc["corrections"])),
            "retracted": doc["retracted"]["recorded"] if doc["retracted"] else "",
            "retraction_reason": (doc["retracted"]["reason"] or "") if doc["retracted"] else "",
        }
        yield [csv_cell(row[c]) for c in CSV_COLUMNS]

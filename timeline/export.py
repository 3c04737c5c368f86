"""Exports to the tools newsrooms and researchers already use.

- `jsonl_lines(app, until)`: the log as import lines (a development line for each report,
  then `correct`, `retract` and `source` lines in log order), so that importing them into
  an empty database gives the same timeline and the same corrections history. Each stored
  value is written as text the importer reads back to exactly that value, or the export
  refuses (`ExportError`), naming the development and field.
- `timelinejs(docs, title)`: TimelineJS 3 JSON (https://timeline.knightlab.com/docs/json-format.html).
- `csv_rows(docs)`: one row per development with GDELT/ACLED-style columns and a
  CAMEO-style event code.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Iterator
from typing import Any

from events import COMMON_FIELDS, KINDS, Money, OccurredDate
from events.errors import InvalidInput
from events.fields import Field
from timeline.errors import TimelineError

# CAMEO-style codes (Schrodt's CAMEO 1.1b3): make a visit, sign a formal agreement, make a
# public statement, pledge (express intent to provide) economic aid.
CAMEO = {"visit": "042", "agreement": "057", "statement": "010", "pledge": "0331"}

CSV_COLUMNS = [
    "event_id", "event_key", "event_date", "event_date_end", "date_precision", "occurred", "year",
    "actor1", "actor2", "assoc_actors", "event_type", "cameo_code", "title", "notes", "location",
    "topics", "amount", "currency", "source_urls", "num_sources", "recorded", "corrected",
    "num_corrections", "retracted", "retraction_reason",
]  # fmt: skip


class ExportError(TimelineError):
    """A stored value the export cannot write so that an import reads it back the same."""


# --- JSON Lines in the import format ------------------------------------------------------


def jsonl_lines(batches: Iterable[list[tuple[Any, Any]]]) -> Iterator[str]:
    """Import lines for the decoded events in `batches` (as `timeline.audit.replay.stream`
    yields them), in log order."""
    kinds: dict[str, str] = {}
    for batch in batches:
        for _notification, event in batch:
            dev_id = str(event.originator_id)
            name = type(event).__name__
            if name == "Reported":
                kinds[dev_id] = event.kind
                line = {"kind": event.kind, "id": event.key}
                for key, value in event.fields.items():
                    line[key] = _as_written(event.kind, key, value, dev_id)
            elif name == "Corrected":
                changes = {
                    k: ("" if c["after"] is None else _as_written(kinds[dev_id], k, c["after"], dev_id))
                    for k, c in event.changes.items()
                }
                line = {"op": "correct", "id": dev_id, "set": changes, "reason": event.reason}
                if event.source:
                    line["source"] = _as_written(kinds[dev_id], "sources", [event.source], dev_id)[0]
            elif name == "Retracted":
                line = {"op": "retract", "id": dev_id, "reason": event.reason}
                if event.source:
                    line["source"] = _as_written(kinds[dev_id], "sources", [event.source], dev_id)[0]
            elif name == "SourceAdded":
                line = {
                    "op": "source",
                    "id": dev_id,
                    "source": _as_written(kinds[dev_id], "sources", [event.source], dev_id)[0],
                }
            else:
                raise ExportError(f"event {name} of development {dev_id} has no import line")
            yield json.dumps(line, ensure_ascii=False, sort_keys=False)


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


def timelinejs(docs: Iterable[dict[str, Any]], title: str, group_by: str = "kind") -> dict[str, Any]:
    """The timeline as TimelineJS 3 reads it: one slide per development (`unique_id` from
    its id, `group` from its kind or first topic), partial dates as year/month/day with
    the date as written in `display_date`, the first source as media, and an era for
    every development that spans a closed range."""
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
                "text": _slide_text(doc),
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


def _slide_text(doc: dict[str, Any]) -> str:
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


def csv_rows(docs: Iterable[dict[str, Any]]) -> Iterator[list[str]]:
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
        yield [row[c] for c in CSV_COLUMNS]

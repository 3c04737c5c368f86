"""Importing many developments (and corrections) from JSON Lines, all or nothing.

Pass 1 streams the file and validates every line, simulating each correction or
retraction on the state it would meet, so that a bad line anywhere rejects the whole file
before anything is written. What it learns goes to a scratch SQLite file and a spool of
normalised operations, not to memory, so a file of a million lines runs in bounded memory
(stdin works the same way: it is read once). Pass 2 replays the spool into the log in
batches of `save(*aggregates)`, the fastest way the library offers to write.
"""

from __future__ import annotations

import json
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast
from uuid import UUID

from events import Development, InvalidInput, Report, read_changes, read_report, resolve_reference
from timeline.app import Timeline
from timeline.errors import TimelineError
from timeline.store import Sql, first_events

CHUNK = 1000
RECENT = 20_000
OPS = ("add", "correct", "retract", "source")


class ImportRejected(TimelineError):
    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}; nothing was imported")


@dataclass(frozen=True)
class ImportResult:
    new: int
    existing: int
    corrections: int
    retractions: int
    sources: int
    lines: int

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


Tick = Callable[[int], None]
Progress = Callable[[str, "int | None"], AbstractContextManager[Tick]]


@contextmanager
def _quiet(label: str, total: int | None) -> Iterator[Tick]:
    yield lambda n: None


def import_lines(
    app: Timeline, lines: Iterable[str], progress: Progress = _quiet, total_lines: int | None = None
) -> ImportResult:
    with tempfile.TemporaryDirectory(prefix="timeline-import-") as tmp:
        scratch = _Scratch(Path(tmp) / "scratch.sqlite")
        spool_path = Path(tmp) / "spool.jsonl"
        try:
            with spool_path.open("w", encoding="utf-8") as spool, progress("Checking", total_lines) as tick:
                counts = _validate(app, lines, scratch, spool, tick)
        finally:
            scratch.close()
        writes = counts.new + counts.corrections + counts.retractions + counts.sources
        with spool_path.open(encoding="utf-8") as spool, progress("Writing", writes) as tick:
            _write(app, spool, tick)
        return counts


# --- pass 1 -----------------------------------------------------------------------------


class _Scratch:
    """What pass 1 knows of each development the file touches, kept on disk.

    Rows are read for a whole chunk in one query and written back in one `executemany`.
    `current` is None while it equals `reported` (a file's own development) or while it
    has not been loaded yet (a development from the log).
    """

    COLUMNS = ("kind", "key", "reported", "current", "retracted", "origin")

    def __init__(self, path: Path) -> None:
        self.sql = Sql.scratch(path)
        with self.sql.transaction(commit=True) as c:
            c.execute(
                "CREATE TABLE dev (id BLOB PRIMARY KEY, kind TEXT, key TEXT, reported TEXT,"
                " current TEXT, retracted INTEGER, origin TEXT) WITHOUT ROWID"
            )

    def close(self) -> None:
        self.sql.close()

    def rows(self, c: Any, ids: Iterable[UUID]) -> dict[UUID, dict[str, Any]]:
        found: dict[UUID, dict[str, Any]] = {}
        wanted = [i.bytes for i in ids]
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            c.execute(f"SELECT * FROM dev WHERE id IN ({','.join('?' * len(part))})", part)
            for row in c.fetchall():
                found[UUID(bytes=row["id"])] = {k: row[k] for k in self.COLUMNS}
        return found

    def save(self, c: Any, rows: dict[UUID, dict[str, Any]]) -> None:
        c.executemany(
            "INSERT OR REPLACE INTO dev (id, kind, key, reported, current, retracted, origin) VALUES (?,?,?,?,?,?,?)",
            [(i.bytes, *(r[k] for k in self.COLUMNS)) for i, r in rows.items()],
        )


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _parse(number: int, line: str) -> tuple[str, Any] | None:
    if not line.strip():
        return None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise ImportRejected(number, f"malformed JSON ({e.msg} at column {e.colno})") from None
    if not isinstance(obj, dict):
        raise ImportRejected(number, "expected a JSON object")
    op = obj.get("op", "add")
    if op not in OPS:
        raise ImportRejected(number, f"unknown op {op!r} (expected one of {', '.join(OPS)})")
    try:
        if op == "add":
            return op, read_report(obj)
        ref = obj.get("id")
        if not isinstance(ref, str) or not ref.strip():
            raise InvalidInput("names the development to change", "id")
        allowed = {"op", "id", "reason", "source"} | ({"set"} if op == "correct" else set())
        unknown = sorted(set(obj) - allowed)
        if unknown:
            raise InvalidInput(f"unknown key for a {op} line", unknown[0])
        return op, {**obj, "target": resolve_reference(ref)}
    except InvalidInput as e:
        raise ImportRejected(number, str(e)) from None


def _chunks(lines: Iterable[str]) -> Iterator[list[tuple[int, str]]]:
    chunk: list[tuple[int, str]] = []
    number = 0
    iterator = iter(lines)
    while True:
        try:
            line = next(iterator)
        except StopIteration:
            break
        except UnicodeDecodeError:
            raise ImportRejected(number + 1, "not UTF-8 text") from None
        number += 1
        chunk.append((number, line))
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


Known = dict[UUID, dict[str, Any]]


def _validate(app: Timeline, lines: Iterable[str], scratch: _Scratch, spool: IO[str], tick: Tick) -> ImportResult:
    n = {"new": 0, "existing": 0, "correct": 0, "retract": 0, "source": 0, "lines": 0}
    for chunk in _chunks(lines):
        parsed = [(number, p) for number, line in chunk if (p := _parse(number, line)) is not None]
        with scratch.sql.transaction(commit=True) as c:
            ids = {item.id if op == "add" else item["target"] for _, (op, item) in parsed}
            known = scratch.rows(c, ids)
            _load_from_store(app, known, [i for i in ids if i not in known])
            dirty: Known = {}
            for number, (op, item) in parsed:
                try:
                    if op == "add":
                        n[_check_add(known, dirty, item, spool)] += 1
                    else:
                        _check_change(app, known, dirty, op, item, spool)
                        n[op] += 1
                except (InvalidInput, TimelineError) as e:
                    raise ImportRejected(number, str(e)) from None
            scratch.save(c, dirty)
        n["lines"] = chunk[-1][0]
        tick(len(chunk))
    return ImportResult(n["new"], n["existing"], n["correct"], n["retract"], n["source"], n["lines"])


def _load_from_store(app: Timeline, known: Known, missing: list[UUID]) -> None:
    """One query for every id in the chunk that neither the file nor the store has shown yet."""
    for dev_id, stored in first_events(app.recorder, missing).items():
        event = cast(Development.Reported, app.mapper.to_domain_event(stored))
        known[dev_id] = {"kind": event.kind, "key": event.key, "reported": _dumps(event.fields),
                         "current": None, "retracted": None, "origin": "store"}  # fmt: skip


def _check_add(known: Known, dirty: Known, report: Report, spool: IO[str]) -> str:
    fields = _dumps(report.fields)
    row = known.get(report.id)
    if row is None:
        row = {"kind": report.kind, "key": report.key, "reported": fields, "current": None, "retracted": 0,
               "origin": "file"}  # fmt: skip
        known[report.id] = dirty[report.id] = row
        # The fields are encoded once: the same text serves the scratch row and the spool.
        spool.write(f'{{"op":"add","kind":{json.dumps(report.kind)},"key":{json.dumps(report.key, ensure_ascii=False)},"fields":{fields}}}\n')
        return "new"
    if row["kind"] == report.kind and row["reported"] == fields:
        return "existing"
    reported = json.loads(row["reported"])
    differ = sorted(k for k in set(reported) | set(report.fields) if reported.get(k) != report.fields.get(k))
    where = "in the log" if row["origin"] == "store" else "earlier in this file"
    raise InvalidInput(
        f"development {report.id} is already recorded {where} with different "
        f"{', '.join(differ) or 'kind'}; use a correct line to change it"
    )


def _check_change(app: Timeline, known: Known, dirty: Known, op: str, item: dict[str, Any], spool: IO[str]) -> None:
    target: UUID = item["target"]
    row = known.get(target)
    if row is None:
        raise InvalidInput(f"no development {item['id']!r} in the log or earlier in this file", "id")
    if row["current"] is None and row["origin"] == "store":  # first change of a stored one: load it
        stored = app._get(str(target))
        row.update(current=_dumps(stored.fields), retracted=int(stored.retraction is not None))
    # Simulate on a throwaway aggregate, so the domain's own rules decide.
    dev = Development.record(Report(row["kind"], row["key"], json.loads(row["current"] or row["reported"])))
    if row["retracted"]:
        dev.retraction = {"reason": "(retracted)", "source": None}
    if op == "correct":
        changes = read_changes(dev.kind, item.get("set") or {})
        dev.correct(changes, item.get("reason"), item.get("source"))
        record = {"op": op, "id": str(target), "changes": changes, "reason": item["reason"], "source": item.get("source")}
    elif op == "retract":
        dev.retract(item.get("reason"), item.get("source"))
        record = {"op": op, "id": str(target), "reason": item["reason"], "source": item.get("source")}
    else:
        if not item.get("source"):
            raise InvalidInput("is required", "source")
        dev.add_source(item["source"])
        record = {"op": op, "id": str(target), "source": item["source"]}
    row.update(current=_dumps(dev.fields), retracted=int(dev.retraction is not None))
    dirty[target] = row
    spool.write(_dumps(record) + "\n")


# --- pass 2 -----------------------------------------------------------------------------


def _write(app: Timeline, spool: IO[str], tick: Tick, batch: int = CHUNK) -> None:
    pending: dict[UUID, Development] = {}
    # Developments saved by recent batches, kept so that a correction soon after does
    # not read them back from the log (bounded: memory stays flat).
    recent: OrderedDict[UUID, Development] = OrderedDict()
    for line in spool:
        tick(1)
        op = json.loads(line)
        if op["op"] == "add":
            dev = Development.record(Report(op["kind"], op["key"], op["fields"]))
            pending[dev.id] = dev
        else:
            dev_id = UUID(op["id"])
            dev = pending.get(dev_id) or recent.pop(dev_id, None) or app._get(op["id"])
            pending[dev_id] = dev
            if op["op"] == "correct":
                dev.correct(op["changes"], op["reason"], op["source"])
            elif op["op"] == "retract":
                dev.retract(op["reason"], op["source"])
            else:
                dev.add_source(op["source"])
        if len(pending) >= batch:
            _save(app, pending, recent)
    _save(app, pending, recent)


def _save(app: Timeline, pending: dict[UUID, Development], recent: OrderedDict[UUID, Development]) -> None:
    """One transaction for a batch. The event store's own put() does what save() does
    for us (no snapshots, no processing), without save()'s runtime Protocol checks,
    which cost a fifth of the import."""
    if pending:
        events = [event for dev in pending.values() for event in dev.collect_events()]
        # Store in the order the events happened, so that log positions follow recorded
        # times (a stable sort keeps each development's versions in order).
        events.sort(key=lambda e: e.timestamp)
        app.events.put(events)
        recent.update(pending)
        while len(recent) > RECENT:
            recent.popitem(last=False)
        pending.clear()

"""Importing many developments (and corrections) from JSON Lines.

Pass 1 streams the file and validates every line, simulating each correction or
retraction on the state it would meet, so that a bad line anywhere rejects the whole file
before anything is written. What it learns goes to a scratch SQLite file, not to memory,
so a file of a million lines runs in bounded memory (stdin works the same way: it is read
once). The events themselves are made by the domain in pass 1, on the throwaway aggregates
that check each line, and wait in a spool file. Pass 2 re-parses and re-validates nothing:
it stamps each event with the time it is stored (so recorded times follow log positions,
however long pass 1 took), encodes it with the application's own mapper and inserts it
through the recorder, `WRITE_BATCH` events per transaction.

All or nothing holds for the file's content: any bad line, and nothing is written. Pass 2
can still stop part way (another writer changed a development this file changes, after
pass 1 checked it; the disk filled up): then the batches committed before stay, and the
error says how many events that was.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast
from uuid import UUID

from eventsourcing.persistence import IntegrityError, PersistenceError, StoredEvent

from events import Development, InvalidInput, Report, differences, read_changes, read_report, resolve_reference
from timeline.app import Timeline, check_package
from timeline.errors import Conflict, TimelineError, disk_full, first_line, store_problem
from timeline.scratch import remove_stale
from timeline.store import Sql, first_events

CHUNK = 1000
# Events per transaction when writing. Every commit rewrites the pages its inserts touched
# in the log's random-keyed index (and syncs): at 1,000 a 1M import spent 60% of its
# writing pass committing. 20,000 spooled events are about 16 MB in memory.
WRITE_BATCH = 20_000
OPS = ("add", "correct", "retract", "source")
STALE_PREFIX = "timeline-import-"
RETRIES = 5  # a batch tried again after leaving out what another writer stored meanwhile
# JSON escapes that decode to text no store can hold: a lone UTF-16 surrogate (half of a
# pair) or NUL (PostgreSQL text refuses it). Looked for in the raw line first, so the
# common line pays for one regex search and nothing else.
_SUSPECT = re.compile(r"\\u(?:[dD][89a-fA-F][0-9a-fA-F]{2}|0000)")


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
    app.prepare_bulk_writes()
    # Earlier versions kept their scratch files in a folder that a killed import left behind.
    remove_stale(STALE_PREFIX)
    # Both scratch files are unlinked as soon as they are open: a kill cannot orphan them.
    with _scratch_space(), tempfile.TemporaryFile(prefix="timeline-import-spool-") as spool:
        scratch = _Scratch()
        try:
            with progress("Checking", total_lines) as tick:
                counts = _validate(app, lines, scratch, _Spool(spool), tick)
        finally:
            scratch.close()
        spool.flush()
        spool.seek(0)
        writes = counts.new + counts.corrections + counts.retractions + counts.sources
        with progress("Writing", writes) as tick:
            there = _write(app, spool, tick, write_batch())
    if there:
        # Stored meanwhile by another writer, exactly as this file has them.
        counts = dataclasses.replace(
            counts,
            new=counts.new - there.get("Reported", 0),
            existing=counts.existing + there.get("Reported", 0),
            corrections=counts.corrections - there.get("Corrected", 0),
            retractions=counts.retractions - there.get("Retracted", 0),
            sources=counts.sources - there.get("SourceAdded", 0),
        )
    return counts


@contextmanager
def _scratch_space() -> Iterator[None]:
    """The checking pass's scratch files live in the temp folder: when it fills up (or
    fails), say so in one line; nothing has been written to the log yet."""
    try:
        yield
    except (sqlite3.Error, OSError) as e:
        if isinstance(e, OSError) and not e.errno:
            raise
        # SQLite's temp files follow SQLITE_TMPDIR or TMPDIR even where Python, finding no
        # room there, fell back to another folder.
        folder = Path(os.environ.get("SQLITE_TMPDIR") or os.environ.get("TMPDIR") or tempfile.gettempdir())
        problem = "it is full" if disk_full(folder) else (getattr(e, "strerror", None) or first_line(e))
        raise TimelineError(
            f"cannot keep the import's scratch files in {folder} ({problem}); nothing was imported;"
            " free some space there or set TMPDIR to a folder with more room"
        ) from None


def write_batch() -> int:
    """Events per transaction: WRITE_BATCH, or TIMELINE_IMPORT_BATCH (tests use small ones
    to stop an import between two of its transactions)."""
    text = os.environ.get("TIMELINE_IMPORT_BATCH", "")
    if text.isdigit() and int(text) > 0:
        return int(text)
    return WRITE_BATCH


# --- pass 1 -----------------------------------------------------------------------------


class _Scratch:
    """What pass 1 knows of each development the file touches, kept on disk.

    Rows are read for a whole chunk in one query and written back in one `executemany`.
    `current` is None while it equals `reported` (a file's own development) or while it
    has not been loaded yet (a development from the log); so is `version`, the version of
    its last event, for a development from the log not loaded yet. `seen` holds its
    corrections and retraction once it has any, to recognise a change line made again.
    """

    COLUMNS = ("kind", "key", "reported", "current", "retracted", "origin", "version", "seen")

    def __init__(self) -> None:
        self.sql = Sql.scratch(None)
        with self.sql.transaction(commit=True) as c:
            c.execute(
                "CREATE TABLE dev (id BLOB PRIMARY KEY, kind TEXT, key TEXT, reported TEXT,"
                " current TEXT, retracted INTEGER, origin TEXT, version INTEGER, seen TEXT) WITHOUT ROWID"
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
            "INSERT OR REPLACE INTO dev (id, kind, key, reported, current, retracted, origin, version, seen)"
            " VALUES (?,?,?,?,?,?,?,?,?)",
            [(i.bytes, *(r[k] for k in self.COLUMNS)) for i, r in rows.items()],
        )


class _Spool:
    """The events pass 1 made, pickled a chunk at a time with the id and version they are
    to be stored under (a throwaway aggregate's own are not the real ones) for pass 2.
    The file is private to this import."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        self.pending: list[tuple[Any, UUID, int]] = []

    def add(self, event: Any, dev_id: UUID, version: int) -> None:
        self.pending.append((event, dev_id, version))

    def flush(self) -> None:
        pickle.dump(self.pending, self.file, protocol=pickle.HIGHEST_PROTOCOL)
        self.pending.clear()


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _parse(number: int, line: str) -> tuple[str, Any] | None:
    if not line.strip():
        return None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise ImportRejected(number, f"malformed JSON ({e.msg} at column {e.colno})") from None
    except RecursionError:
        raise ImportRejected(
            number, "JSON nested too deeply (a development line is at most a few levels deep)"
        ) from None
    if _SUSPECT.search(line):
        _check_text(number, obj)
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


def _check_text(number: int, value: Any) -> None:
    """Refuse a decoded line holding a lone surrogate or NUL in any key or string."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                raise ImportRejected(number, "\\u0000 (NUL) is not allowed in text")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as e:
                code = f"\\u{ord(item[e.start]):04x}"
                raise ImportRejected(number, f"{code} is half of a UTF-16 surrogate pair, not text") from None


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


def _validate(app: Timeline, lines: Iterable[str], scratch: _Scratch, spool: _Spool, tick: Tick) -> ImportResult:
    n = {
        "new": 0,
        "existing": 0,
        "correct": 0,
        "retract": 0,
        "source": 0,
        "lines": 0,
    }  # existing: lines already in the log
    for chunk in _chunks(lines):
        parsed = [(number, p) for number, line in chunk if (p := _parse(number, line)) is not None]
        with scratch.sql.transaction(commit=True) as c:
            ids = {item.id if op == "add" else item["target"] for _, (op, item) in parsed}
            ids |= {r for _, (op, item) in parsed if (r := _package_named(op, item)) is not None}
            known = scratch.rows(c, ids)
            _load_from_store(app, known, [i for i in ids if i not in known])
            dirty: Known = {}
            for number, (op, item) in parsed:
                try:
                    if op == "add":
                        n[_check_add(known, dirty, item, spool)] += 1
                    else:
                        n[_check_change(app, known, dirty, op, item, spool)] += 1
                except (InvalidInput, TimelineError) as e:
                    raise ImportRejected(number, str(e)) from None
            scratch.save(c, dirty)
        spool.flush()
        n["lines"] = chunk[-1][0]
        tick(len(chunk))
    return ImportResult(n["new"], n["existing"], n["correct"], n["retract"], n["source"], n["lines"])


def _load_from_store(app: Timeline, known: Known, missing: list[UUID]) -> None:
    """One query for every id in the chunk that neither the file nor the store has shown yet."""
    for dev_id, stored in first_events(app.recorder, missing).items():
        event = cast(Development.Reported, app.mapper.to_domain_event(stored))
        if not isinstance(event, Development.Reported):
            continue  # an actor's id: no development, as if it were not there
        known[dev_id] = {"kind": event.kind, "key": event.key, "reported": _dumps(event.fields),
                         "current": None, "retracted": None, "origin": "store", "version": None,
                         "seen": None}  # fmt: skip


def _package_named(op: str, item: Any) -> UUID | None:
    """The package a line's `part_of` names, so that its chunk looks it up too."""
    if op == "add":
        named = item.fields.get("part_of")
        return UUID(named) if named else None
    named = (item.get("set") or {}).get("part_of") if isinstance(item.get("set"), dict) else None
    if not isinstance(named, str) or not named.strip():
        return None
    try:
        return resolve_reference(named.strip())
    except (ValueError, TypeError):
        return None


def _check_package(known: Known, package_id: str | None, written: str | None) -> None:
    if package_id:
        row = known.get(UUID(package_id))
        try:
            check_package(row["kind"] if row else None, written or package_id)
        except TimelineError as e:
            raise InvalidInput(f"{e} (in the log or earlier in this file)") from None


def _check_add(known: Known, dirty: Known, report: Report, spool: _Spool) -> str:
    fields = _dumps(report.fields)
    _check_package(known, report.fields.get("part_of"), report.references.get("part_of"))
    row = known.get(report.id)
    if row is None:
        row = {"kind": report.kind, "key": report.key, "reported": fields, "current": None, "retracted": 0,
               "origin": "file", "version": 1, "seen": None}  # fmt: skip
        known[report.id] = dirty[report.id] = row
        (reported,) = Development.record(report).collect_events()
        spool.add(reported, report.id, 1)
        return "new"
    if row["kind"] == report.kind and row["reported"] == fields:
        return "existing"
    # Both sides as stored (JSON), so that only what would be stored differently counts.
    written = Report(report.kind, report.key, json.loads(fields))
    raise Conflict(str(report.id), differences(row["kind"], json.loads(row["reported"]), written))


def _check_change(app: Timeline, known: Known, dirty: Known, op: str, item: dict[str, Any], spool: _Spool) -> str:
    """Check one correct/retract/source line; spool its event. Returns the count it adds
    to: the op's own, or "existing" for a change the development already has."""
    target: UUID = item["target"]
    row = known.get(target)
    if row is None:
        raise InvalidInput(f"no development {item['id']!r} in the log or earlier in this file", "id")
    if row["current"] is None and row["origin"] == "store":  # first change of a stored one: load it
        stored: Development = app.repository.get(target)
        row.update(current=_dumps(stored.fields), retracted=int(stored.retraction is not None), version=stored.version,
                   seen=_dumps(stored.memory))  # fmt: skip
    # A stand-in in the state this line meets, so that the domain's own rules decide and
    # the domain makes the event; the version is the real one's, kept in the row.
    seen = json.loads(row["seen"]) if row["seen"] else {"corrections": [], "retraction": None}
    dev = Development.resumed(Report(row["kind"], row["key"], json.loads(row["current"] or row["reported"])), seen)
    if op == "correct":
        changes = read_changes(dev.kind, item.get("set") or {})
        if dev.repeats(op, item.get("reason"), item.get("source"), changes):
            return "existing"
        _check_package(known, changes.get("part_of"), (item.get("set") or {}).get("part_of"))
        dev.correct(changes, item.get("reason"), item.get("source"))
    elif op == "retract":
        if dev.repeats(op, item.get("reason"), item.get("source")):
            return "existing"
        dev.retract(item.get("reason"), item.get("source"))
    else:
        if not item.get("source"):
            raise InvalidInput("is required", "source")
        if dev.repeats(op, source=item["source"]):
            return "existing"
        dev.add_source(item["source"])
    (change,) = dev.collect_events()
    row.update(current=_dumps(dev.fields), retracted=int(dev.retraction is not None), version=row["version"] + 1,
               seen=_dumps(dev.memory))  # fmt: skip
    dirty[target] = row
    spool.add(change, target, row["version"])
    return op


# --- pass 2 -----------------------------------------------------------------------------


def _write(app: Timeline, spool: IO[bytes], tick: Tick, batch: int = WRITE_BATCH) -> dict[str, int]:
    """Stamp, encode and insert the spooled events in the order pass 1 made them, `batch`
    events per transaction (each one all or nothing). Returns, by event name, how many
    were found already stored by another writer (see `_insert`)."""
    to_stored = app.mapper.to_stored_event
    pending: list[StoredEvent] = []
    written = 0
    there: dict[str, int] = {}
    while True:
        try:
            rows = pickle.load(spool)
        except EOFError:
            rows = None
        for event, dev_id, version in rows or ():
            stored = dataclasses.replace(
                event, originator_id=dev_id, originator_version=version, timestamp=event.create_timestamp()
            )
            pending.append(to_stored(stored))
            if len(pending) >= batch:
                written = _insert(app, pending, written, tick, there)
                pending = []
        if rows is None:
            if pending:
                _insert(app, pending, written, tick, there)
            return there


def _insert(app: Timeline, events: list[StoredEvent], written: int, tick: Tick, there: dict[str, int]) -> int:
    """One transaction; returns how many of the import's events are stored after it.

    When another writer stored some of these events first (the same file imported twice
    at once, an editor adding the same development), the batch fails as a whole; the
    events already stored exactly so (same development, version and content, apart from
    the time) are then left out and the rest tried again, a bounded number of times. An
    event stored differently is a real conflict and stops the import.
    """
    for _ in range(RETRIES):
        try:
            app.recorder.insert_events(events)
        except IntegrityError:
            same, events = _split_stored(app, events)
            if not same:
                raise TimelineError(
                    f"another writer changed a development this file changes while it was being imported;"
                    f" the first {written} of its events were stored, the rest were not: check `timeline log`"
                    " before importing again"
                ) from None
            for event in same:
                name = event.topic.rsplit(".", 1)[-1]
                there[name] = there.get(name, 0) + 1
            if not events:
                break
            continue
        except PersistenceError as e:
            raise TimelineError(
                f"the import stopped while writing ({store_problem(e)}); the first {written} of its events"
                " were stored (a batch may have been stored too), the rest were not: check `timeline log`"
            ) from None
        break
    else:
        raise TimelineError(
            f"other writers kept storing this file's events while it was being imported; the first {written}"
            " of its events were stored: import it again to store the rest"
        )
    tick(len(events))
    return written + len(events)


def _split_stored(app: Timeline, events: list[StoredEvent]) -> tuple[list[StoredEvent], list[StoredEvent]]:
    """(the events already stored with the same content, the events not stored at all);
    an event whose place in the log holds something else makes the first list empty."""
    same: list[StoredEvent] = []
    rest: list[StoredEvent] = []
    for event in events:
        found = app.recorder.select_events(
            event.originator_id, gt=event.originator_version - 1, lte=event.originator_version
        )
        if not found:
            rest.append(event)
        elif _content(app, found[0]) == _content(app, event):
            same.append(event)
        else:
            return [], events
    return same, rest


def _content(app: Timeline, stored: StoredEvent) -> dict[str, Any]:
    event = app.mapper.to_domain_event(stored)
    return {k: v for k, v in vars(event).items() if k != "timestamp"} | {"topic": stored.topic}

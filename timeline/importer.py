"""Importing many developments (and corrections) from JSON Lines.

Pass 1 streams the file once (stdin works the same way) and validates every line,
simulating each correction or retraction on the state it would meet, so that a bad line
anywhere rejects the whole file before anything is written. Each line is parsed,
validated and its event encoded exactly once, a chunk at a time, in worker processes when
the file is large and a CPU is idle (`timeline.import_pool`). The common add line takes a
quick path (orjson, `quick_report`, orjson's encoding: `_quick`); any other line, and
every line refused, the exact one (`_parse`), which words every refusal. This process
checks the chunks in file order
against the log and the lines before them. What it keeps is a packed index of about 120
bytes per development (`_Index`) and the encoded events, in a spool file unlinked as soon
as it is open; a later line that changes a development reads its events back from the
spool and the library applies them, as a repository would. So a million lines run in
bounded memory. Pass 2 re-parses, re-validates and re-encodes nothing: it stamps each
event with the time it is stored (so recorded times follow log positions, however long
pass 1 took) and inserts it through the recorder, `WRITE_BATCH` events per transaction.
The stored bytes are the library's own (tests re-encode every row through its mapper).

All or nothing holds for the file's content: any bad line, and nothing is written. Pass 2
can still stop part way (another writer changed a development this file changes, after
pass 1 checked it; the disk filled up): then the batches committed before stay, and the
error says how many events that was.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import io
import json
import os
import re
import sqlite3
import struct
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, NamedTuple, cast
from uuid import UUID

import orjson
from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder, PersistenceError, StoredEvent
from eventsourcing.utils import get_topic

from events import Development, InvalidInput, Report, differences, read_changes, read_report, resolve_reference
from events.conventions import Conventions, current, reading
from events.development import development_id_bytes, quick_report
from events.kinds import KINDS
from timeline import config
from timeline.app import Timeline, check_package
from timeline.errors import Conflict, TimelineError, disk_full, first_line, store_problem
from timeline.import_pool import ordered_map, workers
from timeline.scratch import remove_stale
from timeline.store import first_events

CHUNK = 1000
# Chunks read in this process before worker processes start (`timeline.import_pool`):
# starting two costs about what reading 7,000 lines does, so a file of up to 10 chunks is
# read sooner and with less work by this process alone.
WORKERS_AFTER = 10
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
        self.reason = message
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
    app: Timeline | Callable[[], Timeline],
    lines: Iterable[str],
    progress: Progress = _quiet,
    total_lines: int | None = None,
) -> ImportResult:
    """Import `lines` into the log of `app`. Where there is no log yet, `app` is the
    function that opens (so creates) it: the lines are checked against an empty log
    first and the log is opened only when every one is good, so that a refused import
    creates nothing."""
    opened = app if isinstance(app, Timeline) else None
    if opened is not None:
        _prepare(opened)
    # Earlier versions kept their scratch files in a folder that a killed import left behind.
    remove_stale(STALE_PREFIX)
    # The spool is unlinked as soon as it is open: a kill cannot orphan it.
    with (
        _fewer_collections(),
        _scratch_space(),
        tempfile.TemporaryFile(prefix="timeline-import-spool-", dir=_scratch_folder()) as file,
    ):
        spool = _Spool(file)
        checked = opened or _empty_log()
        try:
            with progress("Checking", total_lines) as tick:
                counts = _validate(checked, lines, _Index(checked, spool, empty=not checked.event_count()), tick)
        finally:
            if checked is not opened:
                checked.close()
        if opened is None:
            opened = cast(Callable[[], Timeline], app)()
            _prepare(opened)
        app = opened
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


def _prepare(app: Timeline) -> None:
    if app.mapper.cipher or app.mapper.compressor:
        raise TimelineError("import writes the log's events as plain JSON; this log is set to encrypt or compress them")
    app.prepare_bulk_writes()


def _empty_log() -> Timeline:
    """A log with nothing in it, in memory, to check lines against where there is no log
    yet: the same checks as on a new database, which is created only after them."""
    return Timeline(env=config.resolve(":memory:").settings)


# The cyclic garbage collector's first threshold while importing (Python's is 700): every
# line allocates a few dozen objects that live until its chunk is checked or its batch is
# written, so at 700 the collector ran about 7 times a chunk, rescanning what was still in
# use each time: 7% of a 100,000-line import's CPU (0.69 s), 0.15 s at 50,000. Cycles are
# still collected, only less often; memory stays bounded by the chunks and the batch.
GC_THRESHOLD = 50_000


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Collect less often while importing, and leave the objects made before it (the
    modules, the app) out of full collections; as before afterwards."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


@contextmanager
def _scratch_space() -> Iterator[None]:
    """The checking pass's scratch files live in the temp folder: when it fills up (or
    fails), say so in one line; nothing has been written to the log yet."""
    try:
        yield
    except (sqlite3.Error, OSError) as e:
        if isinstance(e, OSError) and not e.errno:
            raise
        folder = _scratch_folder()
        problem = "it is full" if disk_full(folder) else (getattr(e, "strerror", None) or first_line(e))
        raise TimelineError(
            f"cannot keep the import's scratch files in {folder} ({problem}); nothing was imported;"
            " free some space there or set TMPDIR to a folder with more room"
        ) from None


def _scratch_folder() -> Path:
    """The folder TMPDIR names, even when it is full: Python's `gettempdir` would quietly
    fall back to another folder, which the user did not choose."""
    return Path(os.environ.get("TMPDIR") or tempfile.gettempdir())


def write_batch() -> int:
    """Events per transaction: WRITE_BATCH, or TIMELINE_IMPORT_BATCH (tests use small ones
    to stop an import between two of its transactions)."""
    text = os.environ.get("TIMELINE_IMPORT_BATCH", "")
    if text.isdigit() and int(text) > 0:
        return int(text)
    return WRITE_BATCH


# --- pass 1 -----------------------------------------------------------------------------


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


class _Spool:
    """The events pass 1 made, each encoded once, in an unlinked temp file, for pass 2.

    A record is a header (the development's id, the offset of its previous record in this
    file or -1, the event's version and topic, the state's length) and the event's state as
    the library's transcoder encodes it, without its time stamp: pass 2 stamps each event
    as it stores it (so that recorded times follow log positions, however long pass 1
    took) by putting the time first, where the library puts it. The previous-record links
    let pass 1 read a development's own events back when a later line changes it.
    """

    HEAD = struct.Struct("<16sqIBI")
    BUFFER = 1 << 20

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        self.flushed = 0  # bytes in the file; what follows is in `pending`
        self.pending = bytearray()

    def add(self, dev_id: bytes, previous: int, version: int, topic: int, state: bytes) -> int:
        """Append one event; returns its record's offset."""
        offset = self.flushed + len(self.pending)
        self.pending += self.HEAD.pack(dev_id, previous, version, topic, len(state))
        self.pending += state
        if len(self.pending) >= self.BUFFER:
            self.flush()
        return offset

    def flush(self) -> None:
        self.file.write(self.pending)
        self.file.flush()  # for `os.pread` in `_read`
        self.flushed += len(self.pending)
        self.pending.clear()

    def _read(self, offset: int, size: int) -> bytes:
        if offset >= self.flushed:
            start = offset - self.flushed
            return bytes(self.pending[start : start + size])
        return os.pread(self.file.fileno(), size, offset)

    def record(self, offset: int) -> tuple[int, int, int, bytes]:
        """(previous offset, version, topic, state) of the record at `offset`."""
        _, previous, version, topic, size = self.HEAD.unpack(self._read(offset, self.HEAD.size))
        return previous, version, topic, self._read(offset + self.HEAD.size, size)

    def records(self) -> Iterator[tuple[bytes, int, int, bytes]]:
        """Every record in order as (id, version, topic, state); flushes first."""
        self.flush()
        self.file.flush()
        self.file.seek(0)
        reader = io.BufferedReader(io.FileIO(os.dup(self.file.fileno()), "rb"), self.BUFFER)
        with reader:
            while head := reader.read(self.HEAD.size):
                dev_id, _, version, topic, size = self.HEAD.unpack(head)
                yield dev_id, version, topic, reader.read(size)


# The events an import stores, by the code a spool record keeps.
TOPICS = tuple(get_topic(c) for c in (Development.Reported, Development.Corrected, Development.Retracted,
                                      Development.SourceAdded))  # fmt: skip
_KINDS = tuple(KINDS)
# A stand-in time stamp for events decoded in pass 1 (their time plays no part in a check).
_NO_TIME = datetime(1970, 1, 1, tzinfo=UTC)


class _Index:
    """What pass 1 knows of each development the file names, packed into one int per id:
    the offset of its last event in the spool plus one (0: none yet, a development from
    the log this file has not changed), its version (0: from the log, not loaded yet) and
    its kind. At a million developments that is about 120 bytes each; everything else
    (its fields, corrections, retraction) is read back from the spool, or from the log,
    when a later line needs it. Recently changed developments are kept whole, so a run of
    changes to one of them does not read its events back again each time.
    """

    RECENT = 512

    def __init__(self, app: Timeline, spool: _Spool, *, empty: bool = False) -> None:
        self.app = app
        self.spool = spool
        # The log held nothing when checking began (a new database): no line's id is
        # looked up in it. What another writer stores meanwhile is met when writing
        # (`_insert`), as it is after any chunk has been checked.
        self.empty = empty
        self.packed: dict[bytes, int] = {}
        self.recent: OrderedDict[bytes, Development] = OrderedDict()
        transcoder = app.mapper.transcoder
        if type(transcoder) is not JSONTranscoder or set(transcoder.names) != set(_transcoder().names):
            raise TimelineError("import reads the log's events as the library's JSON; this log is set otherwise")
        self.encode = transcoder.encode
        self.decode_prefix = transcoder.encode({"timestamp": _NO_TIME})[:-1] + b","

    @staticmethod
    def pack(offset: int, version: int, kind: str) -> int:
        return (offset + 1) << 24 | version << 3 | _KINDS.index(kind)

    @staticmethod
    def unpack(packed: int) -> tuple[int, int, str]:
        return (packed >> 24) - 1, (packed >> 3) & 0x1F_FFFF, _KINDS[packed & 7]

    def kind(self, dev_id: UUID) -> str | None:
        packed = self.packed.get(dev_id.bytes)
        return None if packed is None else _KINDS[packed & 7]

    def load(self, ids: Iterable[UUID]) -> dict[UUID, Development.Reported]:
        """One query for the ids neither the file nor the log has shown yet; returns the
        first events of those the log has (an actor's id is no development: left out)."""
        missing = [i for i in ids if i.bytes not in self.packed]
        found: dict[UUID, Development.Reported] = {}
        for dev_id, stored in first_events(self.app.recorder, missing).items():
            event = self.app.mapper.to_domain_event(stored)
            if isinstance(event, Development.Reported):
                found[dev_id] = event
                self.packed[dev_id.bytes] = self.pack(-1, 0, event.kind)
        return found

    def encode_event(self, event: Any) -> bytes:
        return _encode_event(self.encode, event)

    def reported(self, dev_id: UUID, found: dict[UUID, Development.Reported]) -> tuple[str, dict[str, Any]] | None:
        """(kind, fields) as first reported, from the spool or the log."""
        offset = self.unpack(self.packed[dev_id.bytes])[0]
        chain = self._chain(offset)
        if not chain or chain[0][1] > 1:  # a development from the log
            event = found.get(dev_id) or self.load_first(dev_id)
            return None if event is None else (event.kind, event.fields)
        state = json.loads(chain[0][3])
        return state["kind"], state["fields"]

    def load_first(self, dev_id: UUID) -> Development.Reported | None:
        stored = first_events(self.app.recorder, [dev_id]).get(dev_id)
        event = self.app.mapper.to_domain_event(stored) if stored else None
        return event if isinstance(event, Development.Reported) else None

    def _chain(self, offset: int) -> list[tuple[int, int, int, bytes]]:
        """A development's records in the spool, oldest first."""
        chain = []
        while offset >= 0:
            record = self.spool.record(offset)
            chain.append(record)
            offset = record[0]
        chain.reverse()
        return chain

    def resume(self, dev_id: UUID) -> Development:
        """The development in the state a line meets: its events in the log, then those this
        file made, decoded and applied by the library as a repository would (so its fields
        are exactly those `timeline correct` would see, key order included)."""
        key = dev_id.bytes
        dev = self.recent.get(key)
        if dev is not None:
            self.recent.move_to_end(key)
            return dev
        chain = self._chain(self.unpack(self.packed[key])[0])
        if not chain:
            return cast(Development, self.app.repository.get(dev_id))
        first_version = chain[0][1]
        aggregate: Any = self.app.repository.get(dev_id, version=first_version - 1) if first_version > 1 else None
        for _, ver, topic, state in chain:
            stored = StoredEvent(dev_id, ver, TOPICS[topic], self.decode_prefix + state[1:])
            aggregate = self.app.mapper.to_domain_event(stored).mutate(aggregate)  # type: ignore[attr-defined]
        return cast(Development, aggregate)

    def add(  # noqa: PLR0913 - one spooled event's columns, and the development it makes
        self, key: bytes, version: int, topic: int, state: bytes, kind: str, dev: Development | None
    ) -> None:
        """Spool one event of a development and note where it is; `dev`: the development
        after it, kept while it is recent."""
        packed = self.packed.get(key)
        previous = -1 if packed is None else self.unpack(packed)[0]
        self.packed[key] = self.pack(self.spool.add(key, previous, version, topic, state), version, kind)
        if dev is not None:
            self.recent[key] = dev
            self.recent.move_to_end(key)
            if len(self.recent) > self.RECENT:
                self.recent.popitem(last=False)


TOPICS_ORIGINATOR = get_topic(Development)


class _Added(NamedTuple):
    """An add line as read: what checking it against the log and the file needs, and the
    state of the event that records it, encoded (see `_added`)."""

    id: bytes
    kind: str
    key: str
    state: bytes
    part_of: str | None  # the package's id
    part_of_written: str | None  # as the line wrote it

    def fields(self) -> dict[str, Any]:
        return cast(dict[str, Any], json.loads(self.state)["fields"])


@functools.cache
def _transcoder() -> JSONTranscoder:
    """The transcoder every Application makes (the one the log's mapper uses, as
    `_Index` checks), for reading lines in any process."""
    transcoder = JSONTranscoder()
    Application.register_transcodings(cast(Application[UUID], None), transcoder)
    return transcoder


_checked: set[str] = set()  # what this process has compared with the library's own encoding


def _added(report: Report) -> _Added:
    """The state of the event `Development.record(report)` makes, without its time, as the
    library's mapper encodes it. Built directly (making the aggregate costs more than the
    rest of a line's work); the first one in each process is compared with the domain's."""
    encode = _transcoder().encode
    state = encode({"originator_topic": TOPICS_ORIGINATOR, "key": report.key, "kind": report.kind,
                    "fields": dict(report.fields), "class_version": Development.Reported.class_version})  # fmt: skip
    if "reported" not in _checked:
        (made,) = Development.record(report).collect_events()
        if _encode_event(encode, made) != state:
            raise AssertionError("the import's encoding of Development.Reported differs from the library's")
        _checked.add("reported")
    part_of = report.fields.get("part_of")
    return _Added(report.id.bytes, report.kind, report.key, state, part_of, report.references.get("part_of"))


def _quick(line: str) -> _Added | None:
    """`_added` of an add line that `quick_report` reads, or None where `_parse` (the exact
    path) must decide: the line is not a JSON object orjson reads, may hold an escape that
    `_check_text` looks at, is another op, or is anything but a common development. Where
    it is not None it is what `_parse` and `_added` make of the line (json.loads and orjson
    decode the text, lists, objects and yes/no values `quick_report` takes the same way)."""
    if _SUSPECT.search(line):
        return None
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if type(obj) is not dict or obj.get("op", "add") != "add":
        return None
    try:
        report = quick_report(obj)
    except Exception:
        return None
    if report is None:
        return None
    # Every value `quick_report` accepts is text, a yes/no, or lists and objects of them,
    # which orjson writes as the library's JSONEncoder does (tests/properties/test_quick_import.py).
    state = orjson.dumps({"originator_topic": TOPICS_ORIGINATOR, "key": report.key, "kind": report.kind,
                          "fields": report.fields, "class_version": Development.Reported.class_version})  # fmt: skip
    if "quick" not in _checked:
        if _added(report).state != state:
            raise AssertionError("the import's quick encoding of Development.Reported differs from the library's")
        _checked.add("quick")
    part_of = report.fields.get("part_of")
    dev_id = development_id_bytes(report.key)
    return _Added(dev_id, report.kind, report.key, state, part_of, report.references.get("part_of"))


def _encode_event(encode: Callable[[Any], bytes], event: Any) -> bytes:
    """`Mapper.to_stored_event`'s state without the time stamp (no cipher, no compressor:
    `import_lines` checks)."""
    state = dict(vars(event))
    for name in ("originator_id", "originator_version", "timestamp"):
        del state[name]
    class_version = getattr(type(event), "class_version", 1)
    if class_version > 1:
        state["class_version"] = class_version
    return encode(state)


Read = tuple[int, int, list[tuple[int, str, Any]], "tuple[int, str] | None"]


def _read_chunk(item: tuple[Conventions, list[tuple[int, str]]]) -> Read:
    """The part of pass 1 that needs neither the log nor other lines, for one chunk (in a
    worker process or not), by the reading conventions of the import (a worker has none of
    its own): (its last line number, its size, its lines read, the first line refused as
    (number, why) or None; reading stops there)."""
    conventions, chunk = item
    with reading(conventions):
        return _read_lines(chunk)


def _read_lines(chunk: list[tuple[int, str]]) -> Read:
    out: list[tuple[int, str, Any]] = []
    for number, line in chunk:
        quick = _quick(line)
        if quick is not None:
            out.append((number, "add", quick))
            continue
        try:
            parsed = _parse(number, line)
        except ImportRejected as e:
            return chunk[-1][0], len(chunk), out, (number, e.reason)
        if parsed is not None:
            op, item = parsed
            out.append((number, op, _added(item) if op == "add" else item))
    return chunk[-1][0], len(chunk), out, None


def _validate(app: Timeline, lines: Iterable[str], index: _Index, tick: Tick) -> ImportResult:
    n = {
        "new": 0,
        "existing": 0,
        "correct": 0,
        "retract": 0,
        "source": 0,
        "lines": 0,
    }  # existing: lines already in the log
    conventions = current()
    chunks = ((conventions, chunk) for chunk in _chunks(lines))
    for last, size, parsed, refused in ordered_map(_read_chunk, chunks, workers(), WORKERS_AFTER):
        if refused:
            raise ImportRejected(*refused)
        found = {} if index.empty else index.load(_named(parsed))
        for number, op, item in parsed:
            try:
                if op == "add":
                    n[_check_add(index, found, item)] += 1
                else:
                    n[_check_change(index, op, item)] += 1
            except (InvalidInput, TimelineError) as e:
                raise ImportRejected(number, str(e)) from None
        n["lines"] = last
        tick(size)
    return ImportResult(n["new"], n["existing"], n["correct"], n["retract"], n["source"], n["lines"])


def _named(parsed: list[tuple[int, str, Any]]) -> set[UUID]:
    """The developments a chunk's lines name: their own and the packages they are part of."""
    ids = {UUID(bytes=item.id) if op == "add" else item["target"] for _, op, item in parsed}
    return ids | {r for _, op, item in parsed if (r := _package_named(op, item)) is not None}


def _package_named(op: str, item: Any) -> UUID | None:
    """The package a line's `part_of` names, so that its chunk looks it up too."""
    if op == "add":
        return UUID(item.part_of) if item.part_of else None
    named = (item.get("set") or {}).get("part_of") if isinstance(item.get("set"), dict) else None
    if not isinstance(named, str) or not named.strip():
        return None
    try:
        return resolve_reference(named.strip())
    except (ValueError, TypeError):
        return None


def _check_package(index: _Index, package_id: str | None, written: str | None) -> None:
    if package_id:
        try:
            check_package(index.kind(UUID(package_id)), written or package_id)
        except TimelineError as e:
            raise InvalidInput(f"{e} (in the log or earlier in this file)") from None


def _check_add(index: _Index, found: dict[UUID, Development.Reported], added: _Added) -> str:
    _check_package(index, added.part_of, added.part_of_written)
    if added.id not in index.packed:
        index.add(added.id, 1, 0, added.state, added.kind, None)
        return "new"
    dev_id = UUID(bytes=added.id)
    known = index.reported(dev_id, found)
    if known is None:  # gone from the log since this import looked: cannot be
        raise TimelineError(f"development {dev_id} is no longer in the log")
    kind, reported = known
    # Both sides as stored (JSON), so that only what would be stored differently counts.
    fields = _dumps(added.fields())
    if kind == added.kind and _dumps(reported) == fields:
        return "existing"
    written = Report(added.kind, added.key, json.loads(fields))
    raise Conflict(str(dev_id), differences(kind, json.loads(_dumps(reported)), written))


def _check_change(index: _Index, op: str, item: dict[str, Any]) -> str:
    """Check one correct/retract/source line on the development in the state this line
    meets, so that the domain's own rules decide and the domain makes the event; spool
    it. Returns the count it adds to: the op's own, or "existing" for a change the
    development already has."""
    target: UUID = item["target"]
    if target.bytes not in index.packed:
        raise InvalidInput(f"no development {item['id']!r} in the log or earlier in this file", "id")
    dev = index.resume(target)
    if op == "correct":
        changes = read_changes(dev.kind, item.get("set") or {})
        if dev.repeats(op, item.get("reason"), item.get("source"), changes):
            return "existing"
        _check_package(index, changes.get("part_of"), (item.get("set") or {}).get("part_of"))
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
    topic = TOPICS.index(get_topic(type(change)))
    index.add(target.bytes, change.originator_version, topic, index.encode_event(change), dev.kind, dev)
    return op


# --- pass 2 -----------------------------------------------------------------------------


def _write(app: Timeline, spool: _Spool, tick: Tick, batch: int = WRITE_BATCH) -> dict[str, int]:
    """Stamp and insert the spooled events in the order pass 1 made them, `batch` events per
    transaction (each one all or nothing). Returns, by event name, how many were found
    already stored by another writer (see `_insert`)."""
    stamp = _Stamp(app)
    pending: list[StoredEvent] = []
    written = 0
    there: dict[str, int] = {}
    for dev_id, version, topic, state in spool.records():
        stamped = stamp() + state[1:]
        pending.append(StoredEvent(UUID(bytes=dev_id), version, TOPICS[topic], stamped))
        if len(pending) >= batch:
            written = _insert(app, pending, written, tick, there)
            pending = []
    if pending:
        _insert(app, pending, written, tick, there)
    return there


class _Stamp:
    """The start of a state stamped now, `{"timestamp":{...},`: the time as the library's
    transcoder encodes a datetime, written out (encoding it through the transcoder was a
    tenth of an import); the first stamp of each import is compared with the transcoder's."""

    HEAD = b'{"timestamp":{"_type_":"datetime_iso","_data_":"'

    def __init__(self, app: Timeline) -> None:
        self.now = Development.Reported.create_timestamp
        when = self.now()
        if self.HEAD + when.isoformat().encode() + b'"}}' != app.mapper.transcoder.encode({"timestamp": when}):
            raise AssertionError("the import's encoding of a time stamp differs from the library's")

    def __call__(self) -> bytes:
        return self.HEAD + self.now().isoformat().encode() + b'"},'


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

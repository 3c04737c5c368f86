"""The timeline application: records developments and changes to them in the log.

Callers get plain values (dicts, small dataclasses), never aggregates, and the project's
own errors, never the library's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from events import Development, Report, differences, read_changes, read_report
from events.frozen import Frozen
from events.patterns import Lazy
from timeline import config
from timeline.errors import (
    AmbiguousReference,
    Conflict,
    DevelopmentNotFound,
    MissingReference,
    StoreUnavailable,
    TimelineError,
    store_problem,
)
from timeline.references import reference_id
from timeline.store import BULK_CACHE_KIB, Sql

MIN_PREFIX = 6  # hex digits of an id that name it, when no other id starts so
_HEX = Lazy("[0-9a-f]+")  # compiled when a short id is first resolved


class Recorded(Frozen):
    """What recording a development did. (What a frozen dataclass of these two fields
    was; `events.frozen` says why it is written out.)"""

    _fields = ("id", "status")
    id: str
    status: str  # "new" or "existing"

    def __init__(self, id: str, status: str) -> None:
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "status", status)


class Timeline(Application[UUID]):
    name = "timeline"
    # Set by `open`: the target it opened, and notes a command shows (`timeline.readonly`).
    target: config.Target
    notes: list[str]

    @classmethod
    def open(cls, target: config.Target) -> Timeline:
        """Open the log at a --db target, turning every way that fails into one error.

        A PostgreSQL server is asked once, directly, before the library's pool is made: the
        pool retries for seconds and then says only that it got no connection, while the
        first refusal names the cause. A read-only SQLite file is opened read-only; when its
        views are behind the log they are brought up to date in a scratch copy (see
        `timeline.readonly`), and `app.notes` says so.
        """
        if target.is_postgres:
            from timeline.pgprobe import probe

            probe(target)
        elif target.read_only:
            from timeline.readonly import open_read_only

            return open_read_only(cls, target)
        return cls._open(target)

    @classmethod
    def _open(cls, target: config.Target, display: str | None = None) -> Timeline:
        try:
            app = cls(env=target.settings)
            app.recorder.max_notification_id()  # touch the store now, not mid-command
        except Exception as e:
            path = None if target.is_postgres else target.path
            problem = store_problem(e, path)
            raise StoreUnavailable(f"cannot open database {display or target.display}: {problem}") from None
        app.target = target
        app.notes = list(getattr(app.recorder, "notes", ()))  # a migration's
        return app

    def close(self) -> None:
        super().close()
        close_scratch = getattr(self, "close_scratch", None)
        if close_scratch:
            close_scratch()

    # --- appending -------------------------------------------------------------------

    def read_report(self, raw: Mapping[str, Any]) -> Report:
        """`read_report` for one development given on the command line, where `part_of`
        may also be a short id (import files name packages by key or full id: a prefix
        unique today may not be once more is recorded)."""
        if isinstance(raw.get("part_of"), str) and raw["part_of"].strip():
            raw = {**raw, "part_of": self._expand(raw["part_of"])}
        return read_report(raw)

    def _expand(self, ref: str) -> str:
        """A short id as the full id; anything else as written, for the domain to read."""
        try:
            return str(self.resolve(ref))
        except DevelopmentNotFound:
            return ref

    def record(self, report: Report) -> Recorded:
        self._check_package(report.fields.get("part_of"), report.references.get("part_of"))
        existing = self._find(report.id)
        if existing is not None:
            return Recorded(str(report.id), self._compare(existing, report))
        try:
            self.save(Development.record(report))
        except IntegrityError:
            # Another writer recorded the same id between our look and our save.
            return self.record(report)
        return Recorded(str(report.id), "new")

    def _check_package(self, package_id: str | None, written: str | None) -> None:
        """A part names a package pledge that is recorded."""
        if not package_id:
            return
        package = self._find(UUID(package_id))
        check_package(package.kind if package else None, written or package_id)

    def _compare(self, existing: Development, report: Report) -> str:
        differ = differences(existing.kind, existing.reported, report)
        if differ:
            raise Conflict(str(report.id), differ)
        return "existing"

    def correct(self, ref: str, raw_changes: Mapping[str, Any], reason: str, source: Any = None) -> dict[str, Any]:
        dev = self._get(ref)
        if isinstance(raw_changes.get("part_of"), str) and raw_changes["part_of"].strip():
            raw_changes = {**raw_changes, "part_of": self._expand(raw_changes["part_of"])}
        changes = read_changes(dev.kind, raw_changes)
        if changes.get("part_of"):
            self._check_package(changes["part_of"], str(raw_changes.get("part_of")))
        dev.correct(changes, reason, source)
        self.save(dev)
        return self._plain(dev)

    def retract(self, ref: str, reason: str, source: Any = None) -> dict[str, Any]:
        dev = self._get(ref)
        dev.retract(reason, source)
        self.save(dev)
        return self._plain(dev)

    def add_source(self, ref: str, source: Any) -> dict[str, Any]:
        dev = self._get(ref)
        dev.add_source(source)
        self.save(dev)
        return self._plain(dev)

    def development(self, ref: str) -> dict[str, Any]:
        return self._plain(self._get(ref))

    def prepare_bulk_writes(self) -> None:
        """A larger SQLite page cache on the log's connection, for an import: inserts into
        the log's random-keyed primary key slow down sharply once it outgrows the default
        2 MB. Not set for every command, because a long read (a replay) would then fill it
        and memory would grow with the log."""
        sql = self.sql()
        if not sql.postgres:
            # A connection's setting, not a write: no write lock is taken for it.
            with sql.transaction(commit=False) as c:
                c.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")

    def event_count(self) -> int:
        return int(self.recorder.max_notification_id() or 0)

    # --- helpers ---------------------------------------------------------------------

    def _find(self, dev_id: UUID) -> Development | None:
        try:
            found: Any = self.repository.get(dev_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, Development) else None  # an actor's id is no development

    def resolve(self, ref: str) -> UUID:
        """The id a reference names: a full id, the natural key, or a unique prefix of at
        least 6 hex digits of an id (what `show` prints is 8). A reference that could be a
        key and a prefix, or a prefix of several ids, is refused with the candidates."""
        named = reference_id(ref)  # the full id, or the id of the key
        ref = ref.strip()
        try:
            return UUID(ref)
        except ValueError:
            pass
        candidates: list[UUID] = []
        if self._find(named) is not None:
            candidates.append(named)
        digits = ref.replace("-", "").lower()
        if len(digits) >= MIN_PREFIX and _HEX.fullmatch(digits):
            candidates += [i for i in self._ids_with_prefix(digits) if i not in candidates]
        if not candidates:
            raise DevelopmentNotFound(ref)
        if len(candidates) > 1:
            raise AmbiguousReference(ref, [(str(i), self._title(i)) for i in candidates])
        return candidates[0]

    def _ids_with_prefix(self, digits: str, limit: int = 10) -> list[UUID]:
        """Ids of developments starting with `digits`: a range on the log's primary key."""
        low, high = UUID(digits.ljust(32, "0")), UUID(digits.ljust(32, "f"))
        sql = self.sql()
        table = sql.table(self.recorder.events_table_name)  # type: ignore[attr-defined]
        statement = (
            f"SELECT originator_id FROM {table} WHERE originator_id >= ? AND originator_id <= ?"
            " AND originator_version = 1 ORDER BY originator_id LIMIT ?"
        )
        params: list[Any] = [low, high] if sql.postgres else [low.hex, high.hex]
        with sql.transaction(commit=False) as c:
            rows = sql.rows(c, statement, [*params, limit])
        return [r["originator_id"] if isinstance(r["originator_id"], UUID) else UUID(r["originator_id"]) for r in rows]

    def _title(self, dev_id: UUID) -> str:
        dev = self._find(dev_id)
        return str(dev.fields.get("title", "")) if dev is not None else ""

    def _get(self, ref: str) -> Development:
        dev = self._find(self.resolve(ref))
        if dev is None:
            raise DevelopmentNotFound(ref)
        return dev

    @staticmethod
    def _plain(dev: Development) -> dict[str, Any]:
        return {
            "id": str(dev.id),
            "key": dev.key,
            "kind": dev.kind,
            "version": dev.version,
            "fields": dict(dev.fields),
            "retracted": dev.retraction,
        }

    def sql(self) -> Sql:
        return Sql.for_recorder(self.recorder)


def check_package(kind: str | None, written: str) -> None:
    """`part_of` must name a recorded pledge; `kind` is what it names (None: nothing)."""
    if kind is None:
        raise MissingReference(f"part_of: no package {written!r} is recorded; record the package pledge first")
    if kind != "pledge":
        raise MissingReference(f"part_of: {written!r} is a {kind}, not a package pledge")


__all__ = ["Timeline", "Recorded", "TimelineError", "check_package"]

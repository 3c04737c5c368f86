"""The timeline application: records developments and changes to them in the log.

Callers get plain values (dicts, small dataclasses), never aggregates, and the project's
own errors, never the library's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from events import Development, Report, read_changes, resolve_reference
from timeline import config
from timeline.errors import Conflict, DevelopmentNotFound, StoreUnavailable, TimelineError, first_line
from timeline.store import Sql


@dataclass(frozen=True)
class Recorded:
    id: str
    status: str  # "new" or "existing"


class Timeline(Application[UUID]):
    name = "timeline"

    @classmethod
    def open(cls, target: config.Target) -> Timeline:
        """Open the log at a --db target, turning every way that fails into one error."""
        try:
            app = cls(env=target.settings)
            app.recorder.max_notification_id()  # touch the store now, not mid-command
        except Exception as e:
            raise StoreUnavailable(f"cannot open database {target.display}: {first_line(e)}") from None
        app.target = target  # type: ignore[attr-defined]
        return app

    # --- appending -------------------------------------------------------------------

    def record(self, report: Report) -> Recorded:
        existing = self._find(report.id)
        if existing is not None:
            return Recorded(str(report.id), self._compare(existing, report))
        try:
            self.save(Development.record(report))
        except IntegrityError:
            # Another writer recorded the same id between our look and our save.
            return self.record(report)
        return Recorded(str(report.id), "new")

    def _compare(self, existing: Development, report: Report) -> str:
        if existing.same_as(report):
            return "existing"
        fields = sorted(
            k for k in set(existing.reported) | set(report.fields) if existing.reported.get(k) != report.fields.get(k)
        )
        raise Conflict(str(report.id), (["kind"] if existing.kind != report.kind else []) + fields)

    def correct(self, ref: str, raw_changes: Mapping[str, Any], reason: str, source: Any = None) -> dict[str, Any]:
        dev = self._get(ref)
        dev.correct(read_changes(dev.kind, raw_changes), reason, source)
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
            from timeline.views.runner import CACHE_KIB

            with sql.transaction(commit=True) as c:
                c.execute(f"PRAGMA cache_size = -{CACHE_KIB}")

    def event_count(self) -> int:
        return int(self.recorder.max_notification_id() or 0)

    # --- helpers ---------------------------------------------------------------------

    def _find(self, dev_id: UUID) -> Development | None:
        try:
            return self.repository.get(dev_id)
        except AggregateNotFoundError:
            return None

    def _get(self, ref: str) -> Development:
        try:
            dev_id = resolve_reference(ref)
        except (ValueError, TypeError):
            raise DevelopmentNotFound(ref) from None
        dev = self._find(dev_id)
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


__all__ = ["Timeline", "Recorded", "TimelineError"]

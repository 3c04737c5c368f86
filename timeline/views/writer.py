"""Applies a batch of events to the read models inside one transaction.

The caller commits the batch together with its tracking position, so a crash can neither
skip an event nor apply one twice. Reads per batch: one query for the documents the batch
touches; never the whole log. (The log's hash structure is not here: it is the Merkle
tree the recorder extends inside each append, `timeline.proof.tree`.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import Notification

from timeline.store import Sql, in_parts
from timeline.views import registry
from timeline.views.project import Facet, dumps, dumps_plain, facets, period, plain_event, project, read_row, sort_key
from timeline.views.registry import RegistryWriter
from timeline.views.search import SearchWriter
from timeline.views.tables import SCHEMA_VERSION, TABLES, VERSION_TABLE, create_statements

STORY_FEED = "story"
REGISTRY_CHUNK = 2000  # developments a registry event re-resolves at a time

Track = Callable[[Any, int], None]
_MADE = re.compile(r"IF NOT EXISTS (\w+)")  # the table or index a statement makes
Key = tuple[str, str]  # (facet, slug)


def feed_name(facet: str, slug: str) -> str:
    return f"{facet}/{slug}"


class ViewWriter:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql
        self.registry = RegistryWriter(sql)
        self.search = SearchWriter(sql)
        self.create = create_statements(postgres=sql.postgres)
        self._members: dict[Key, int] = {}  # names' ids, read in this batch
        self._seen: dict[Key, int] = {}  # where the segment first names each topic or actor
        self._feed_names: dict[Key, str] = {}  # feed_name of each (facet, slug) met

    def statements(self, *, tables: bool = True, indexes: bool = True) -> list[str]:
        """What makes the views of this schema: their tables (`tables`), their indexes
        (`indexes`), each index after its table."""
        own = [s for s in self.create if (indexes if s.startswith("CREATE INDEX") else tables)]
        return [*own, *self.registry.statements(tables=tables, indexes=indexes),
                *self.search.statements(tables=tables, indexes=indexes)]  # fmt: skip

    def create_tables(self, c: Any, *, indexes: bool = True) -> None:
        """The views' tables (and indexes), of this schema, marked with its version."""
        for statement in self.statements(indexes=indexes):
            self.sql.execute(c, statement)
        if self.sql.scalar(c, f"SELECT COUNT(*) FROM {VERSION_TABLE}") == 0:
            self.sql.execute(c, f"INSERT INTO {VERSION_TABLE} (version) VALUES (?)", [SCHEMA_VERSION])

    def complete(self, c: Any) -> bool:
        """Whether the views are of this schema with every table and index made: then
        opening them writes nothing (`create_tables` would create nothing)."""
        if self.schema_version(c) != SCHEMA_VERSION:
            return False
        names = sorted({m.group(1) for s in self.statements() if (m := _MADE.search(s))})
        if self.sql.postgres:
            found = self.sql.scalar(c, "SELECT COUNT(*) FROM unnest(?::text[]) AS n WHERE to_regclass(n) IS NOT NULL",
                                    [names])  # fmt: skip
        else:
            marks = ", ".join("?" * len(names))
            found = self.sql.scalar(c, f"SELECT COUNT(*) FROM sqlite_master WHERE name IN ({marks})", names)
        return bool(found == len(names))

    def schema_version(self, c: Any) -> int | None:
        """The schema version the views were made with; None when there are none."""
        if self._exists(c, VERSION_TABLE):
            found = self.sql.scalar(c, f"SELECT MAX(version) FROM {VERSION_TABLE}")
            if found is not None:
                return int(found)
        return 1 if self._exists(c, "timeline_developments") else None

    def _exists(self, c: Any, table: str) -> bool:
        if self.sql.postgres:
            return self.sql.scalar(c, "SELECT to_regclass(?) IS NOT NULL", [table]) is True
        return bool(self.sql.scalar(c, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", [table]))

    @staticmethod
    def table_names() -> list[str]:
        """Every table the views keep (the benchmark reads and writes them all)."""
        from timeline.views.search import TABLE as SEARCH

        return [*TABLES, *registry.TABLES, SEARCH]

    def create_indexes(self, c: Any) -> None:
        """A rebuild loads the tables first and indexes them afterwards, which both
        SQLite and PostgreSQL do much faster than index maintenance row by row."""
        for statement in self.statements(tables=False):
            self.sql.execute(c, statement)

    def drop_tables(self, c: Any) -> None:
        for table in TABLES:
            self.sql.execute(c, f"DROP TABLE IF EXISTS {table}")
        self.registry.drop_tables(c)
        self.search.drop_tables(c)

    def apply(self, c: Any, batch: Sequence[tuple[Notification, Any]]) -> None:
        self.registry.forget()  # read again: another process may have applied events
        self._members.clear()
        for part in registry.segments(batch):
            if registry.is_registry_event(part[0][1]):
                self._apply_registry(c, *part[0])
            else:
                self._apply(c, part)

    def _apply_registry(self, c: Any, n: Notification, event: Any) -> None:
        """One registry event: re-resolve the developments naming a key it changes, a
        bounded chunk at a time. Feeds whose members it moves are cut again (`recut`);
        every feed showing one of them is touched, so its entries' actors follow."""
        before_reg, reg, keys, touched_actors = self.registry.apply(c, n, event)
        self._seen = {}  # all named at this event
        positions = self.registry.mentioning(c, keys)
        touched: dict[str, int] = {}
        moved: dict[str, int] = {}
        for start in range(0, len(positions), REGISTRY_CHUNK):
            part = positions[start : start + REGISTRY_CHUNK]
            marks = ",".join("?" * len(part))
            statement = (
                f"SELECT doc, id, kind, first_position FROM timeline_developments WHERE first_position IN ({marks})"
            )
            rows = self.sql.rows(c, statement, part)
            old_docs = {r["id"]: read_row(r) for r in rows}
            new_docs = {i: dict(d) for i, d in old_docs.items()}  # the same, re-resolved
            found = {id(d): facets(d, before_reg) for d in old_docs.values()}
            found |= {id(d): facets(d, reg) for d in new_docs.values()}
            for key in old_docs:
                old, new = found[id(old_docs[key])], found[id(new_docs[key])]
                moved |= {feed_name(f, s): n.id for f, s, _ in old ^ new}
                touched |= {feed_name(f, s): n.id for f, s, _ in old | new}
                touched[STORY_FEED] = n.id

            def facets_of(d: dict[str, Any] | None, found: dict[int, set[Facet]] = found) -> set[Facet]:
                return found[id(d)] if d is not None else set()

            self._write(c, dict(old_docs), dict(new_docs), {}, facets_of)
        for aid in sorted(touched_actors):
            for row in (r for r in (reg.actors.get(aid), before_reg.actors.get(aid)) if r is not None):
                moved[feed_name("actor", row.slug)] = n.id  # its name, Wikidata id or merge note
        touched.update(moved)
        self.registry.recut(c, moved)
        self._write(c, {}, {}, touched)

    def _apply(self, c: Any, batch: Sequence[tuple[Notification, Any]]) -> None:
        if not batch:
            return
        sql = self.sql
        reg = self.registry.current(c)
        keys = [str(n.originator_id) for n, _ in batch]  # once: UUID's str() is not cheap
        ids = list(dict.fromkeys(keys))
        # A development whose first event here is its first of all has no document yet: only
        # the others are read (in a rebuild, most of a page is new developments).
        firsts: dict[str, int] = {}
        for key, (n, _) in zip(keys, batch, strict=True):
            firsts.setdefault(key, n.originator_version)
        known = [i for i in ids if firsts[i] != 1]
        docs: dict[str, dict[str, Any] | None] = {}
        # Documents made here from `plain_event` events only are written by orjson
        # (`dumps_plain`); those read back (`known`) and these keys' are not.
        slow: set[str] = set(known)
        for start in range(0, len(known), 500):
            part = known[start : start + 500]
            marks = ",".join("?" * len(part))
            for row in sql.rows(
                c, f"SELECT doc, id, kind, first_position FROM timeline_developments WHERE id IN ({marks})", part
            ):
                docs[row["id"]] = read_row(row)
        before = {i: docs.get(i) for i in ids}
        touched_feeds: dict[str, int] = {}
        seen = self._seen = {}
        spelled: dict[Key, str] = {}
        entry = self._facets_once(reg)

        def facets_of(doc: dict[str, Any] | None) -> set[Facet]:
            return entry(doc)[1]

        for key, (notification, event) in zip(keys, batch, strict=True):
            position = notification.id
            old = docs.get(key)
            new = project(old, event, position)
            docs[key] = new
            _, new_facets, new_feeds = entry(new)
            if old is not None:
                for name in entry(old)[2]:
                    touched_feeds[name] = position
            for name in new_feeds:
                touched_feeds[name] = position
            for facet, slug, name in new_facets:
                k = (facet, slug)
                if k not in seen:
                    seen[k] = position
                # Every name a document had on the way, not only at the batch's end: one
                # event at a time names (and numbers) a topic that a later event drops.
                was = spelled.get(k)
                if was is None or name < was:
                    spelled[k] = name
            touched_feeds[STORY_FEED] = position
            if not plain_event(event):
                slow.add(key)
        self._write(c, before, docs, touched_feeds, facets_of, spelled, slow)
        changed = [(before[k], d) for k, d in docs.items() if d is not None]
        self.registry.write_mentions(c, changed)
        self.search.write(c, changed)

    def _facets_once(self, reg: Any) -> Callable[[dict[str, Any] | None], tuple[Any, set[Facet], tuple[str, ...]]]:
        """(document, its facets, their feeds' names) of each document version, computed
        once per batch (the entry keeps the document alive, so its id() is not reused)."""
        memo: dict[int, tuple[Any, set[Facet], tuple[str, ...]]] = {}
        feed_names = self._feed_names
        # A registry with no aliases resolves no name (`Registry.resolve`): facets without it
        # are the same, and skip each document's period and a call per actor.
        reg = reg if getattr(reg, "aliases", True) else None

        def entry(doc: dict[str, Any] | None) -> tuple[Any, set[Facet], tuple[str, ...]]:
            found = memo.get(id(doc))
            if found is None:
                doc_facets = facets(doc, reg)
                names = []
                for facet, slug, _ in doc_facets:
                    name = feed_names.get((facet, slug))
                    if name is None:
                        name = feed_names[(facet, slug)] = feed_name(facet, slug)
                    names.append(name)
                found = memo[id(doc)] = (doc, doc_facets, tuple(names))
            return found

        return entry

    def _write(  # noqa: PLR0913 - the batch's parts, each made once by its caller
        self,
        c: Any,
        before: dict[str, dict[str, Any] | None],
        docs: dict[str, dict[str, Any] | None],
        touched_feeds: dict[str, int],
        facets_of: Any = facets,
        spelled: dict[Key, str] | None = None,
        slow: set[str] | None = None,
    ) -> None:
        """Write the batch's documents, names, memberships and feeds. With `spelled`
        (every name the batch's documents had on the way, their final ones included) the
        names are those; with `slow` (the keys of documents not made from `plain_event`
        events alone), every other document is written by `dumps_plain`."""
        sql = self.sql
        rows: list[tuple[Any, ...]] = []
        members: list[tuple[str, str, int, str]] = []
        stale: list[tuple[str, str, int]] = []
        names: dict[Key, str] = dict(spelled or {})
        quick = slow is not None
        for key, old in before.items():
            doc = docs[key]
            if doc is None:
                continue
            start, end = period(doc)
            text = dumps_plain(doc) if quick and key not in slow else dumps(doc)  # type: ignore[operator]
            at, order = doc["first_position"], sort_key(doc)
            rows.append(
                (key, doc["kind"], order, at, doc["last_position"], start, end, int(doc["retracted"] is not None), text)
            )  # fmt: skip
            new_facets = facets_of(doc)
            if spelled is None:
                for facet, slug, name in new_facets:
                    # The smallest spelling wins, in a batch as across batches, so a
                    # rebuild names every actor as the incremental views do.
                    names[(facet, slug)] = min(name, names.get((facet, slug), name))
            if old is None:  # a new development: every facet is a new membership
                members += [(facet, slug, at, order) for facet, slug, _ in new_facets]
                continue
            old_facets = facets_of(old)
            sort_changed = old["occurred"] != doc["occurred"]
            for facet, slug, _ in old_facets - new_facets if not sort_changed else old_facets:
                stale.append((facet, slug, at))
            for facet, slug, _ in new_facets - old_facets if not sort_changed else new_facets:
                members.append((facet, slug, at, order))
        rows.sort(key=lambda r: r[3])  # by first position: the table's key, written in its order
        sql.insert_rows(
            c,
            "INSERT INTO timeline_developments (id, kind, sort_key, first_position, last_position,"
            " start_day, end_day, retracted, doc) VALUES (?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT (first_position) DO UPDATE SET kind = excluded.kind, sort_key = excluded.sort_key,"
            " last_position = excluded.last_position, start_day = excluded.start_day,"
            " end_day = excluded.end_day, retracted = excluded.retracted, doc = excluded.doc",
            rows,
            ("text", "text", "text", "bigint", "bigint", "text", "text", "integer", "text"),
        )
        ids = self._member_ids(c, names, self._seen)
        ids |= self._member_ids(c, {(f, s) for f, s, _ in stale}, None)
        # Rows by id: new names append to the table.
        named = sorted((ids[k], *k, n) for k, n in names.items())
        sql.insert_rows(
            c,
            "INSERT INTO timeline_names (id, facet, slug, name) VALUES (?,?,?,?) ON CONFLICT (id)"
            " DO UPDATE SET name = excluded.name WHERE excluded.name < timeline_names.name",
            named,
            ("bigint", "text", "text", "text"),
        )
        gone = [(ids[(f, s)], p) for f, s, p in stale if (f, s) in ids]
        sql.executemany(c, "DELETE FROM timeline_memberships WHERE member = ? AND first_position = ?", gone)
        sql.insert_rows(
            c,
            "INSERT INTO timeline_memberships (first_position, member, sort_key) VALUES (?,?,?)",
            sorted((p, ids[(f, s)], k) for f, s, p, k in members),  # appended in key order
            ("bigint", "bigint", "text"),
        )
        sql.insert_rows(
            c,
            "INSERT INTO timeline_feeds (feed, last_position) VALUES (?,?)"
            " ON CONFLICT (feed) DO UPDATE SET last_position = excluded.last_position",
            sorted(touched_feeds.items()),
            ("text", "bigint"),
        )

    def _member_ids(self, c: Any, keys: Any, seen: dict[Key, int] | None) -> dict[Key, int]:
        """The names' ids of `keys`. Those not in the table yet get the next ids (with
        `seen`; None looks up only), in the order the log first names them (`seen`, ties
        by facet and slug): a batch of any size gives the ids one event at a time would."""
        missing = sorted(set(keys) - self._members.keys())
        for facet in sorted({f for f, _ in missing}):
            slugs = [s for f, s in missing if f == facet]
            for part, marks in in_parts(slugs):
                statement = f"SELECT id, slug FROM timeline_names WHERE facet = ? AND slug IN ({marks})"
                for r in self.sql.rows(c, statement, [facet, *part]):
                    self._members[(facet, r["slug"])] = int(r["id"])
        new = [k for k in missing if k not in self._members]
        if new and seen is not None:
            first = int(self.sql.scalar(c, "SELECT COALESCE(MAX(id), 0) FROM timeline_names")) + 1
            for i, k in enumerate(sorted(new, key=lambda k: (seen.get(k, 0), k))):
                self._members[k] = first + i
        return {k: self._members[k] for k in keys if k in self._members}

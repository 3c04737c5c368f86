"""The actor registry as a read model, and how it resolves the names developments report.

actors    one row per registered actor: name, slug, kind, Wikidata id, merged into whom.
aliases   every name that means an actor (its own name first), by name key; a role alias
          ("Japan's foreign minister") means it only for its term (start_day..end_day).
mentions  which name keys each development (by first position) reports, so a registry
          event finds the developments whose actors it changes without reading the log.

A name resolves to a registered actor when its key is a plain alias of exactly one actor,
or else a role whose term holds the development's whole occurred period for exactly one
actor; then to the actor that one is merged into, if any. Anything else (no alias, two
candidates, a period that straddles two terms) stays the name as reported: nothing is
guessed. A registry event re-resolves only the developments naming a key it changes, and
each segment of the log is applied with the registry as it stood at that point, so a
rebuild gives exactly the incremental result.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from eventsourcing.persistence import Notification

from events.actors import Actor, name_key, role_term
from events.dates import EARLIEST, LATEST
from events.slugs import slugify
from timeline.store import Sql

TABLES = ("timeline_actors", "timeline_aliases", "timeline_mentions", "timeline_recuts", "timeline_registry_events")
CREATE = [
    "CREATE TABLE IF NOT EXISTS timeline_actors ("
    " id TEXT PRIMARY KEY, name TEXT NOT NULL, slug TEXT NOT NULL, kind TEXT, wikidata TEXT,"
    " merged_into TEXT, merge_reason TEXT, position BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS timeline_aliases ("
    " name_key TEXT NOT NULL, actor_id TEXT NOT NULL, alias TEXT NOT NULL, role INTEGER NOT NULL,"
    " start_day TEXT NOT NULL, end_day TEXT NOT NULL, term_start TEXT, term_end TEXT,"
    " PRIMARY KEY (name_key, actor_id, start_day))",
    # By first position, not by the random development id: a rebuild appends to each name's
    # range instead of writing all over the table, and a key is 8 bytes, not 36.
    "CREATE TABLE IF NOT EXISTS timeline_mentions ("
    " name_key TEXT NOT NULL, first_position BIGINT NOT NULL, PRIMARY KEY (name_key, first_position)){lean}",
    # Feeds whose members a registry event changed, and at which position: a feed build
    # cuts them again from their first page (their members' own positions did not move).
    "CREATE TABLE IF NOT EXISTS timeline_recuts (feed TEXT PRIMARY KEY, position BIGINT NOT NULL)",
    # When each registry event was recorded: a feed it changed last is modified then.
    "CREATE TABLE IF NOT EXISTS timeline_registry_events (position BIGINT PRIMARY KEY, recorded TEXT NOT NULL)",
]
INDEXES: list[str] = []  # mentions are read and deleted by their key only


def is_registry_event(event: Any) -> bool:
    return isinstance(event, Actor.Event)


def segments(batch: Sequence[tuple[Notification, Any]]) -> Iterator[Sequence[tuple[Notification, Any]]]:
    """The batch in log order as runs of development events and single registry events,
    so each run is resolved with the registry as it stood at that point of the log."""
    start = 0
    for i, (_, event) in enumerate(batch):
        if is_registry_event(event):
            if i > start:
                yield batch[start:i]
            yield batch[i : i + 1]
            start = i + 1
    if start < len(batch):
        yield batch[start:]


@dataclass(frozen=True)
class Alias:
    key: str
    actor_id: str
    alias: str
    role: bool
    start_day: str = EARLIEST
    end_day: str = LATEST
    term_start: str | None = None  # the role's term as given (EDTF)
    term_end: str | None = None


@dataclass(frozen=True)
class ActorRow:
    id: str
    name: str
    slug: str
    kind: str | None
    wikidata: str | None
    merged_into: str | None
    merge_reason: str | None
    position: int


@dataclass
class Registry:
    actors: dict[str, ActorRow] = field(default_factory=dict)
    aliases: dict[str, list[Alias]] = field(default_factory=dict)
    # Resolutions made of this registry as it stands; a registry event makes a new one.
    _resolved: dict[tuple[str, str, str], ActorRow | None] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def load(cls, sql: Sql, c: Any) -> Registry:
        reg = cls()
        for r in sql.rows(c, "SELECT * FROM timeline_actors"):
            reg.actors[r["id"]] = ActorRow(
                r["id"], r["name"], r["slug"], r["kind"], r["wikidata"], r["merged_into"], r["merge_reason"],
                int(r["position"]),
            )  # fmt: skip
        for r in sql.rows(c, "SELECT * FROM timeline_aliases ORDER BY name_key, actor_id, start_day"):
            reg.aliases.setdefault(r["name_key"], []).append(
                Alias(
                    r["name_key"],
                    r["actor_id"],
                    r["alias"],
                    bool(r["role"]),
                    r["start_day"],
                    r["end_day"],
                    r["term_start"],
                    r["term_end"],
                )
            )
        return reg

    def root(self, actor_id: str) -> ActorRow | None:
        seen: set[str] = set()
        row = self.actors.get(actor_id)
        while row is not None and row.merged_into is not None and row.id not in seen:
            seen.add(row.id)
            row = self.actors.get(row.merged_into)
        return row

    def candidates(self, key: str, start_day: str, end_day: str) -> set[str]:
        rows = self.aliases.get(key, ())
        plain = {a.actor_id for a in rows if not a.role}
        if plain:
            return plain
        return {a.actor_id for a in rows if a.role and a.start_day <= start_day and end_day <= a.end_day}

    def resolve(self, name: str, start_day: str = EARLIEST, end_day: str = LATEST) -> ActorRow | None:
        if not self.aliases:
            return None  # nothing registered: every name stays as reported
        key = (name, start_day, end_day)
        if key not in self._resolved:
            found = self.candidates(name_key(name), start_day, end_day)
            roots = {r.id: r for r in (self.root(a) for a in found) if r}
            self._resolved[key] = next(iter(roots.values())) if len(roots) == 1 else None
        return self._resolved[key]

    def signature(self, key: str) -> tuple[Any, ...]:
        """Everything a key's resolution depends on: its alias rows and their roots."""
        out = []
        for a in self.aliases.get(key, ()):
            r = self.root(a.actor_id)
            out.append((a.actor_id, a.role, a.start_day, a.end_day, r and (r.id, r.slug, r.name)))
        return tuple(sorted(out, key=repr))

    def copy(self) -> Registry:
        return Registry(dict(self.actors), {k: list(v) for k, v in self.aliases.items()})


def with_event(reg: Registry, event: Any, position: int) -> tuple[Registry, set[str]]:
    """The registry after one registry event, and the ids of the actors it changed."""
    new = reg.copy()
    aid = str(event.originator_id)
    touched = {aid}
    if isinstance(event, Actor.Added):
        new.actors[aid] = ActorRow(
            aid, event.name, slugify(event.name), event.kind, event.wikidata, None, None, position
        )
        _add_alias(new, Alias(name_key(event.name), aid, event.name, False))
    elif aid not in new.actors:
        raise ValueError(f"event at position {position} changes unknown actor {aid}")
    elif isinstance(event, Actor.Aliased):
        _add_alias(new, Alias(name_key(event.alias), aid, event.alias, False))
    elif isinstance(event, Actor.RoleAssigned):
        lo, hi = role_term(event.start, event.end)
        _add_alias(new, Alias(name_key(event.role), aid, event.role, True, lo, hi, event.start, event.end))
    elif isinstance(event, Actor.Merged):
        new.actors[aid] = replace(new.actors[aid], merged_into=event.into, merge_reason=event.reason)
        touched.add(event.into)
    elif isinstance(event, Actor.Split):
        new.actors[aid] = replace(new.actors[aid], merged_into=None, merge_reason=None)
        touched.add(event.from_actor)
    return new, touched


def _add_alias(reg: Registry, alias: Alias) -> None:
    rows = [a for a in reg.aliases.get(alias.key, []) if (a.actor_id, a.start_day) != (alias.actor_id, alias.start_day)]
    reg.aliases[alias.key] = sorted([*rows, alias], key=lambda a: (a.actor_id, a.start_day))


class RegistryWriter:
    """Keeps the registry tables; the `ViewWriter` calls it for every segment."""

    def __init__(self, sql: Sql) -> None:
        self.sql = sql
        self._current: Registry | None = None

    def statements(self, *, tables: bool = True, indexes: bool = True) -> list[str]:
        """What makes the registry's tables (`tables`) and their indexes (`indexes`)."""
        # SQLite: a table that is its key alone is one B-tree WITHOUT ROWID, not two.
        lean = "" if self.sql.postgres else " WITHOUT ROWID"
        return [s.replace("{lean}", lean) for s in (CREATE if tables else []) + (INDEXES if indexes else [])]

    def drop_tables(self, c: Any) -> None:
        self._current = None
        for table in TABLES:
            self.sql.execute(c, f"DROP TABLE IF EXISTS {table}")

    def current(self, c: Any) -> Registry:
        # Loaded once per batch: a catch-up in another process may have changed it.
        if self._current is None:
            self._current = Registry.load(self.sql, c)
        return self._current

    def forget(self) -> None:
        self._current = None

    def apply(self, c: Any, notification: Notification, event: Any) -> tuple[Registry, Registry, set[str], set[str]]:
        """Apply one registry event: (registry before, after, name keys whose resolution
        changed, actor ids touched)."""
        from timeline.views.project import iso

        before = self.current(c)
        after, touched = with_event(before, event, notification.id)
        sql = self.sql
        sql.execute(
            c, "INSERT INTO timeline_registry_events (position, recorded) VALUES (?,?)",
            [notification.id, iso(event.timestamp)],
        )  # fmt: skip
        for aid in sorted(touched & set(after.actors)):
            a = after.actors[aid]
            sql.execute(c, "DELETE FROM timeline_actors WHERE id = ?", [aid])
            sql.execute(
                c,
                "INSERT INTO timeline_actors (id, name, slug, kind, wikidata, merged_into, merge_reason, position)"
                " VALUES (?,?,?,?,?,?,?,?)",
                [a.id, a.name, a.slug, a.kind, a.wikidata, a.merged_into, a.merge_reason, a.position],
            )
        keys = {k for k in set(before.aliases) | set(after.aliases) if before.signature(k) != after.signature(k)}
        for key in sorted(keys):
            sql.execute(c, "DELETE FROM timeline_aliases WHERE name_key = ?", [key])
            sql.executemany(
                c,
                "INSERT INTO timeline_aliases (name_key, actor_id, alias, role, start_day, end_day, term_start, term_end)"
                " VALUES (?,?,?,?,?,?,?,?)",
                [(a.key, a.actor_id, a.alias, int(a.role), a.start_day, a.end_day, a.term_start, a.term_end)
                 for a in after.aliases.get(key, [])],
            )  # fmt: skip
        self._current = after
        return before, after, keys, touched

    def recut(self, c: Any, feeds: dict[str, int]) -> None:
        self.sql.executemany(
            c,
            "INSERT INTO timeline_recuts (feed, position) VALUES (?,?)"
            " ON CONFLICT (feed) DO UPDATE SET position = excluded.position",
            sorted(feeds.items()),
        )

    def mentioning(self, c: Any, keys: Iterable[str]) -> list[int]:
        """First positions of the developments naming any of `keys`, in recording order."""
        keys = sorted(keys)
        found: set[int] = set()
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            marks = ",".join("?" * len(part))
            rows = self.sql.rows(c, f"SELECT first_position FROM timeline_mentions WHERE name_key IN ({marks})", part)
            found |= {int(r["first_position"]) for r in rows}
        return sorted(found)

    def write_mentions(self, c: Any, changed: Iterable[tuple[dict[str, Any] | None, dict[str, Any]]]) -> None:
        """Mentions after development documents changed: (before, after)."""
        stale: list[tuple[str, int]] = []
        new: list[tuple[str, int]] = []
        key = _name_key
        for old, doc in changed:
            at = doc["first_position"]
            new_keys = {key(a) for a in doc["actors"]}
            if not old:  # a new development: every name it gives is a new mention
                new += [(k, at) for k in new_keys]
                continue
            old_keys = {key(a) for a in old["actors"]}
            stale += [(k, at) for k in old_keys - new_keys]
            new += [(k, at) for k in new_keys - old_keys]
        # In the table's key order, so each statement walks its B-tree forward.
        self.sql.executemany(c, "DELETE FROM timeline_mentions WHERE name_key = ? AND first_position = ?",
                             sorted(stale))  # fmt: skip
        statement = "INSERT INTO timeline_mentions (name_key, first_position) VALUES (?,?)"
        self.sql.insert_rows(c, statement, sorted(new), ("text", "bigint"))


# A story names its actors often, across batches too (`name_key` is a pure function).
_name_key = functools.lru_cache(maxsize=65536)(name_key)


def registry_change(notification: Notification, event: Any) -> dict[str, Any]:
    """One registry event as plain data: position, event, actor id and what it says."""
    data = {
        k: v
        for k, v in event.__dict__.items()
        if k not in ("originator_id", "originator_version", "originator_topic", "timestamp")
    }
    return {"position": notification.id, "event": type(event).__name__, "actor": str(event.originator_id),
            **{k: data[k] for k in sorted(data)}}  # fmt: skip


# --- queries --------------------------------------------------------------------------------


def load(sql: Sql) -> Registry:
    with sql.transaction(commit=False) as c:
        return Registry.load(sql, c)


def actor_slug(sql: Sql, name: str, reg: Registry | None = None) -> str:
    """The feed slug a name given to --actor means: its registered actor's (by a plain
    alias, the actor it is merged into), else the name's own slug. `reg`: the registry,
    when the caller read it already (a feeds build reads it once)."""
    reg = load(sql) if reg is None else reg
    actor = reg.resolve(name) if name else None
    if actor is None and name:
        # A role alone names whoever held it, when only one actor ever did.
        holders = {r.id: r for a in reg.aliases.get(name_key(name), []) if a.role and (r := reg.root(a.actor_id))}
        if len(holders) > 1:
            from timeline.errors import TimelineError

            who = ", ".join(sorted(h.name for h in holders.values()))
            raise TimelineError(f"{name!r} is a role several actors held ({who}): name the actor")
        actor = next(iter(holders.values()), None)
    return actor.slug if actor is not None else slugify(name)


def listing(sql: Sql) -> list[dict[str, Any]]:
    """Every actor developments name: registered ones with their aliases, roles and merges
    first (by slug), then names the registry does not resolve, with their counts."""
    from timeline.views.queries import facet_counts

    reg = load(sql)
    counts = {r["slug"]: r for r in facet_counts(sql, "actor")}
    out: list[dict[str, Any]] = []
    registered = set()
    for a in sorted(reg.actors.values(), key=lambda a: a.slug):
        registered.add(a.slug)
        root = reg.root(a.id)
        names = [x for rows in reg.aliases.values() for x in rows if x.actor_id == a.id]
        merged = root.name if root is not None and root.id != a.id else None
        row = counts.get(a.slug) if merged is None else None
        out.append(
            {
                "slug": a.slug, "name": a.name, "registered": True, "id": a.id, "kind": a.kind,
                "wikidata": a.wikidata,
                "aliases": sorted(x.alias for x in names if not x.role and x.alias != a.name),
                "roles": sorted(({"role": x.alias, "from": x.term_start, "to": x.term_end} for x in names if x.role),
                                key=lambda r: (r["from"] or "", r["role"])),
                "merged_into": merged,
                "merged_into_slug": root.slug if merged and root else None,
                "merge_reason": a.merge_reason,
                "developments": int(row["developments"]) if row else 0,
                "retracted": int(row["retracted"]) if row else 0,
            }
        )  # fmt: skip
    for slug, r in sorted(counts.items()):
        if slug not in registered:
            out.append({"slug": slug, "name": r["name"], "registered": False,
                        "developments": int(r["developments"]), "retracted": int(r["retracted"])})  # fmt: skip
    return out


def merged_note(sql: Sql, slug: str, reg: Registry | None = None) -> dict[str, str] | None:
    """Where a merged actor's developments went, for its feed: {"name", "slug", "reason"}."""
    reg = reg or load(sql)
    for a in reg.actors.values():
        if a.slug == slug and a.merged_into is not None:
            root = reg.root(a.id)
            if root is not None and root.id != a.id:
                return {"name": root.name, "slug": root.slug, "reason": a.merge_reason or ""}
    return None


def recorded_at(sql: Sql, position: int) -> str | None:
    """When the registry event at `position` was recorded, if one is there."""
    with sql.transaction(commit=False) as c:
        found = sql.scalar(c, "SELECT recorded FROM timeline_registry_events WHERE position = ?", [position])
    return str(found) if found is not None else None


def recut_since(sql: Sql, position: int) -> set[str]:
    with sql.transaction(commit=False) as c:
        return {r["feed"] for r in sql.rows(c, "SELECT feed FROM timeline_recuts WHERE position > ?", [position])}


def wikidata_of(reg: Registry, doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(Wikidata id, actor name) of each registered actor the development names."""
    from timeline.views.project import period

    span = period(doc)
    found = {}
    for name in doc["actors"]:
        actor = reg.resolve(name, *span)
        if actor is not None and actor.wikidata:
            found[actor.wikidata] = actor.name
    return sorted(found.items())

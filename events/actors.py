"""The actor registry: who a name in a development stands for, kept in the log.

A development keeps the names as reported ("Kamikawa Yoko", "上川陽子", "Japan's foreign
minister"); the registry says which actor each name means, so a correction of the registry
never rewrites a development. Each actor is one aggregate with past-tense events:

- `Added`: its name (also its first alias), kind and Wikidata id;
- `Aliased`: another name that always means it;
- `RoleAssigned`: a role ("Japan's foreign minister") that means it for a term of dates;
- `Merged`: it is the same actor as another (its developments become the other's);
- `Split`: a merge undone. Both are events, so a replay before a merge shows them apart.

Ids are uuid5 of the actor's name key (case, width and spacing do not matter), so adding
the same actor again finds it. Dates and names are read in public methods; event bodies
only assign.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from events.actor_kinds import ACTOR_KINDS
from events.dates import LATEST, OccurredDate
from events.errors import InvalidInput
from events.fields import text as read_text

__all__ = ["Actor", "ActorStateError", "ACTOR_KINDS", "actor_id", "name_key", "read_wikidata", "read_name", "role_term"]

# Fixed namespace for actor ids: changing it would change every id.
NAMESPACE = UUID("0c8f5a52-4f3b-5d7e-8a61-2f9e4b7c1a33")
_WIKIDATA = re.compile(r"^Q[1-9][0-9]{0,11}$")


class ActorStateError(InvalidInput):
    """Not a bad value: what the actor's history allows (merging a merged actor, splitting
    one that is not merged)."""


@functools.lru_cache(maxsize=65536)
def name_key(name: str) -> str:
    """How two spellings of one name compare: NFKC (full-width letters are letters),
    case-folded, spacing collapsed. Nothing else is guessed: "Kamikawa Yoko" and
    "Yoko Kamikawa" are different names until the registry says otherwise."""
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()


def actor_id(name: str) -> UUID:
    return uuid5(NAMESPACE, name_key(name))


def read_name(value: Any, field: str = "name") -> str:
    try:
        name = " ".join(read_text(value).split())
    except InvalidInput as e:
        raise InvalidInput(e.message, field) from None
    if not name:
        raise InvalidInput("is required", field)
    return name


def read_wikidata(value: Any) -> str:
    qid = value.strip().upper() if isinstance(value, str) else value
    if not isinstance(qid, str) or not _WIKIDATA.match(qid):
        raise InvalidInput(f"{value!r} is not a Wikidata item id (Q followed by digits, e.g. Q11488370)", "wikidata")
    return qid


def role_term(start: str, end: str | None) -> tuple[str, str]:
    """The first and last day a role's term covers: 'September 2023' to 'October 2024'
    covers 2023-09-01 to 2024-10-31; no end means it still holds."""
    lo = OccurredDate.from_canonical(start).first_day.isoformat()
    hi = OccurredDate.from_canonical(end).last_day.isoformat() if end else LATEST
    return lo, hi


def _read_date(value: Any, field: str) -> str:
    try:
        d = OccurredDate.parse(value)
    except InvalidInput as e:
        raise InvalidInput(e.message, field) from None
    if d.is_interval:
        raise InvalidInput("is one date (a day, month or year), not a range", field)
    return str(d)


class Actor(Aggregate):
    # Declared on the aggregate's own `Event`, each with its `apply`, as `Development`'s are
    # (see there): the library then builds no further classes of them at every start.
    class Event(Aggregate.Event):
        pass

    class Added(Event, Aggregate.Created):
        class_version = 1
        name: str
        kind: str | None
        wikidata: str | None

    class Aliased(Event):
        class_version = 1
        alias: str

        def apply(self, aggregate: Any) -> None:
            aggregate.aliases = [*aggregate.aliases, self.alias]

    class RoleAssigned(Event):
        class_version = 1
        role: str
        start: str  # EDTF, as --from was read
        end: str | None  # None: the term has not ended

        def apply(self, aggregate: Any) -> None:
            aggregate.roles = [*aggregate.roles, {"role": self.role, "start": self.start, "end": self.end}]

    class Merged(Event):
        class_version = 1
        into: str  # the id of the actor this one is the same as
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.merged_into = self.into

    class Split(Event):
        class_version = 1
        from_actor: str  # the id it was merged into
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.merged_into = None

    @staticmethod
    def create_id(name: str) -> UUID:
        return actor_id(name)

    def __init__(self, name: str, kind: str | None, wikidata: str | None) -> None:
        """What `Added` makes (the library calls it with the event's fields)."""
        self.name = name
        self.kind = kind
        self.wikidata = wikidata
        self.aliases: list[str] = [name]
        self.roles: list[dict[str, Any]] = []
        self.merged_into: str | None = None

    @classmethod
    def add(cls, name: Any, kind: Any = None, wikidata: Any = None) -> Actor:
        name = read_name(name)
        if kind is not None and kind not in ACTOR_KINDS:
            raise InvalidInput(f"{kind!r} is not one of {', '.join(ACTOR_KINDS)}", "kind")
        return cls(name=name, kind=kind, wikidata=read_wikidata(wikidata) if wikidata else None)

    def alias(self, alias: Any) -> None:
        alias = read_name(alias, "alias")
        if any(name_key(a) == name_key(alias) for a in self.aliases):
            return  # already one of its names: nothing to record
        self.trigger_event(self.Aliased, alias=alias)

    def assign_role(self, role: Any, start: Any, end: Any = None) -> None:
        role = read_name(role, "role")
        if start is None or start == "":
            raise InvalidInput("is required with --role: when the term began", "from")
        lo = _read_date(start, "from")
        hi = _read_date(end, "to") if end else None
        if hi is not None and role_term(lo, hi)[0] > role_term(lo, hi)[1]:
            raise InvalidInput(f"{end!r} is before --from {start!r}", "to")
        if any(r["role"] == role and r["start"] == lo and r["end"] == hi for r in self.roles):
            return
        self.trigger_event(self.RoleAssigned, role=role, start=lo, end=hi)

    def merge_into(self, other: UUID, reason: Any) -> None:
        if self.merged_into is not None:
            raise ActorStateError(f"{self.name} is already merged into another actor; split it first")
        if other == self.id:
            raise ActorStateError("an actor cannot be merged into itself")
        self.trigger_event(self.Merged, into=str(other), reason=read_name(reason, "reason"))

    def split(self, reason: Any) -> None:
        if self.merged_into is None:
            raise ActorStateError(f"{self.name} is not merged into another actor")
        self.trigger_event(self.Split, from_actor=self.merged_into, reason=read_name(reason, "reason"))

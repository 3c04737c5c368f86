"""What every kind of development shares, and the shape of a kind."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from events import fields as f

__all__ = ["COMMON_FIELDS", "Kind"]

COMMON_FIELDS: tuple[f.Field, ...] = (
    f.Field("title", f.text, "Headline of the development.", required=True),
    f.Field("summary", f.text, "A sentence or two on what happened."),
    f.Field("occurred", f.date, "When it happened: '6 July 2024', '2024-07', 'since 1994'.", required=True),
    f.Field("place", f.text, "Where it happened."),
    f.Field("topics", f.topic, "Topic slug (repeatable): aid, mine-action, ...", many=True),
    f.Field("actors", f.text, "Person, government or body taking part (repeatable).", many=True, actor_role=True),
    f.Field("sources", f.source, "Source URL (repeatable; at least one).", many=True, required=True),
)  # fmt: skip


@dataclass(frozen=True)
class Kind:
    name: str
    fields: tuple[f.Field, ...]
    verb: str  # how a summary line says it: "pledged", "visited", ...
    check: Callable[[Mapping[str, Any]], None] = lambda details: None
    describe: Callable[[Mapping[str, Any]], list[str]] = lambda details: []
    field_index: dict[str, f.Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "field_index", {x.name: x for x in self.fields})

    def actors_in(self, details: Mapping[str, Any]) -> list[str]:
        names: list[str] = []
        for fld in self.fields:
            if fld.actor_role and fld.name in details:
                value = details[fld.name]
                names.extend(value if isinstance(value, list) else [value])
        return names

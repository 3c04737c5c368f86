"""What every kind of development shares, and the shape of a kind."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from events import fields as f
from events.errors import InvalidInput
from events.frozen import Frozen

__all__ = ["COMMON_FIELDS", "Kind"]

COMMON_FIELDS: tuple[f.Field, ...] = (
    f.Field("title", f.line, "Headline of the development.", required=True),
    f.Field("summary", f.text, "A sentence or two on what happened."),
    f.Field("occurred", f.date, "When it happened: '6 July 2024', '2024-07', 'since 1994'.", required=True),
    f.Field("refers_to", f.date, "A second date it refers to ('towards TICAD 9 in 2025'); shown, never used for ordering."),
    f.Field("place", f.line, "Where it happened."),
    f.Field("topics", f.topic, "Topic slug (repeatable): aid, mine-action, ...", many=True),
    f.Field("actors", f.line, "Person, government or body taking part (repeatable).", many=True, actor_role=True),
    f.Field("sources", f.source, "Source URL (repeatable; at least one).", many=True, required=True),
)  # fmt: skip


def _common_lines(d: Mapping[str, Any]) -> list[str]:
    if not d.get("refers_to"):
        return []
    from events.dates import OccurredDate  # here: recording a development needs no date's shape

    try:
        when = OccurredDate.from_canonical(d["refers_to"]).humane()
    except InvalidInput:
        when = str(d["refers_to"])
    return [f"Refers to: {when}"]


def _no_rules(details: Mapping[str, Any]) -> None:
    return None


def _no_details(details: Mapping[str, Any]) -> list[str]:
    return []


class Kind(Frozen):
    """A kind of development: its own fields and rules. (What a frozen dataclass of these
    fields was, `field_index` neither shown nor compared; `events.frozen` says why.)"""

    _fields = ("name", "fields", "one_of", "rules", "details", "field_index")
    _shown = _compared = __match_args__ = ("name", "fields", "one_of", "rules", "details")
    name: str
    fields: tuple[f.Field, ...]
    # Groups of fields of which at least one must be given: (("quote", "paraphrase"),).
    one_of: tuple[tuple[str, ...], ...]
    rules: Callable[[Mapping[str, Any]], None]
    details: Callable[[Mapping[str, Any]], list[str]]
    field_index: dict[str, f.Field]

    def __init__(
        self, name: str, fields: tuple[f.Field, ...], one_of: tuple[tuple[str, ...], ...] = (),
        rules: Callable[[Mapping[str, Any]], None] = _no_rules,
        details: Callable[[Mapping[str, Any]], list[str]] = _no_details,
    ) -> None:  # fmt: skip
        self._assign(name, fields, one_of, rules, details, {x.name: x for x in fields})

    @property
    def article(self) -> str:
        return "an" if self.name[0] in "aeiou" else "a"

    def missing(self, details: Mapping[str, Any]) -> list[str]:
        """Every required field (common or the kind's own) that `details` lacks, and each
        one-of group none of whose fields it has: all of them, so one line can say it."""
        absent = [x.name for x in (*COMMON_FIELDS, *self.fields) if x.required and not details.get(x.name)]
        absent += [" or ".join(group) for group in self.one_of if not any(details.get(n) for n in group)]
        return absent

    def check(self, details: Mapping[str, Any]) -> None:
        """The kind's rules over a whole set of fields (after a report or a correction)."""
        missing = [" or ".join(g) for g in self.one_of if not any(details.get(n) for n in g)]
        if missing:
            raise InvalidInput(f"{self.article} {self.name} needs {'; '.join(_either(m) for m in missing)}")
        self.rules(details)

    def describe(self, details: Mapping[str, Any]) -> list[str]:
        """Readable lines of the kind's own fields and the common ones not shown elsewhere."""
        return [*self.details(details), *_common_lines(details)]

    def actors_in(self, details: Mapping[str, Any]) -> list[str]:
        names: list[str] = []
        for fld in self.fields:
            if fld.actor_role and fld.name in details:
                value = details[fld.name]
                names.extend(value if isinstance(value, list) else [value])
        return names


def _either(group: str) -> str:
    """'quote or paraphrase' -> 'a quote or a paraphrase'; plurals take no article."""
    return " or ".join(n if n.endswith("s") else f"{'an' if n[0] in 'aeiou' else 'a'} {n}" for n in group.split(" or "))

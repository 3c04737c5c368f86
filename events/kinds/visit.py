"""A visit or a meeting: who went where or met whom, hosted by whom, and why.

`format` says what kind of encounter it was: a visit (the default), a meeting, a summit
of many participants, or a call (which has no place). A summit lists its `participants`;
a visit its `visitors` and `hosts`; one of visitors or participants is needed.
"""

from collections.abc import Mapping
from typing import Any

from events import fields as f
from events.errors import InvalidInput
from events.kinds.base import Kind

FORMATS = ("visit", "meeting", "summit", "call")


def _rules(d: Mapping[str, Any]) -> None:
    if d.get("format") == "call" and d.get("place"):
        raise InvalidInput("a call has no place; leave place out (name the places in the summary)", "place")


def _details(d: Mapping[str, Any]) -> list[str]:
    lines = [f"Format: {d['format']}"] if d.get("format") not in (None, "visit") else []
    for name, label in (("visitors", "Visitors"), ("participants", "Participants"), ("hosts", "Hosts")):
        if d.get(name):
            lines.append(f"{label}: {', '.join(d[name])}")
    if d.get("duration"):
        lines.append(f"Duration: {d['duration']}")
    if d.get("purpose"):
        lines.append(f"Purpose: {d['purpose']}")
    return lines


KIND = Kind(
    name="visit",
    fields=(
        f.Field("format", f.choice(*FORMATS), f"One of: {', '.join(FORMATS)} (default visit; a call has no place)."),
        f.Field("visitors", f.line, "Who visited (repeatable).", many=True, actor_role=True),
        f.Field("participants", f.line, "Who took part in a meeting, summit or call (repeatable).", many=True, actor_role=True),
        f.Field("hosts", f.line, "Who hosted (repeatable).", many=True, actor_role=True),
        f.Field("duration", f.line, "How long it lasted, as reported: 'two days', '45 minutes'."),
        f.Field("purpose", f.line, "Why the visit took place."),
    ),
    one_of=(("visitors", "participants"),),
    rules=_rules,
    details=_details,
)  # fmt: skip

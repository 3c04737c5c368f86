"""A pledge: a donor promises an amount to a recipient, as reported.

`equivalents` keeps conversions exactly as the report gave them (8.3bn yen reported as
about $51.5M); nothing here invents an exchange rate. `part_of` links a part to the
package pledge it belongs to, so a ledger can compare a package with its parts.
"""

from collections.abc import Mapping
from typing import Any

from events import fields as f
from events.kinds.base import Kind

INSTRUMENTS = ("grant", "loan", "oda", "technical-assistance", "package", "other")


def _describe(d: Mapping[str, Any]) -> list[str]:
    from events.money import Money  # on first use, as `events.fields.money` imports it

    amount = Money.from_primitive(d["amount"]).humane()
    lines = [f"{d['donor']} pledged {amount} to {d['recipient']} ({d.get('instrument', 'other')})"]
    if d.get("equivalents"):
        eq = ", ".join(Money.from_primitive(e).humane() for e in d["equivalents"])
        lines.append(f"Reported as equivalent to {eq}")
    if d.get("purpose"):
        lines.append(f"Purpose: {d['purpose']}")
    return lines


KIND = Kind(
    name="pledge",
    fields=(
        f.Field("donor", f.line, "Who pledges.", required=True, actor_role=True),
        f.Field("recipient", f.line, "Who receives.", required=True, actor_role=True),
        f.Field("amount", f.money, "Amount as reported: '8.3bn yen', '$51.5 million'.", required=True),
        f.Field("instrument", f.choice(*INSTRUMENTS), f"One of: {', '.join(INSTRUMENTS)}."),
        f.Field("purpose", f.line, "Purpose or project."),
        f.Field("equivalents", f.money, "Equivalent as reported (repeatable): 'about $51.5 million'.", many=True),
        f.Field("part_of", f.reference, "Id or key of the package pledge this is part of."),
    ),
    details=_describe,
)  # fmt: skip

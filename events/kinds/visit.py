"""A visit: who went where, hosted by whom, and why."""

from events import fields as f
from events.kinds.base import Kind

KIND = Kind(
    name="visit",
    verb="visited",
    fields=(
        f.Field("visitors", f.text, "Who visited (repeatable).", required=True, many=True, actor_role=True),
        f.Field("hosts", f.text, "Who hosted (repeatable).", many=True, actor_role=True),
        f.Field("purpose", f.text, "Why the visit took place."),
    ),
    describe=lambda d: [
        f"Visitors: {', '.join(d['visitors'])}",
        *([f"Hosts: {', '.join(d['hosts'])}"] if d.get("hosts") else []),
        *([f"Purpose: {d['purpose']}"] if d.get("purpose") else []),
    ],
)  # fmt: skip

"""An agreement between parties: a joint statement, an MoU, a loan agreement..."""

from events import fields as f
from events.kinds.base import Kind

TYPES = ("joint-statement", "mou", "loan-agreement", "partnership-upgrade", "other")

KIND = Kind(
    name="agreement",
    fields=(
        f.Field("parties", f.line, "Party to the agreement (repeatable).", required=True, many=True, actor_role=True),
        f.Field("subject", f.line, "What was agreed.", required=True),
        f.Field("agreement_type", f.choice(*TYPES), f"One of: {', '.join(TYPES)}."),
    ),
    details=lambda d: [
        f"Parties: {', '.join(d['parties'])}",
        f"Agreed: {d['subject']}",
        *([f"Type: {d['agreement_type']}"] if d.get("agreement_type") else []),
    ],
)  # fmt: skip

"""A statement: what someone said, verbatim and/or paraphrased."""

from collections.abc import Mapping
from typing import Any

from events import fields as f
from events.errors import InvalidInput
from events.kinds.base import Kind


def _check(d: Mapping[str, Any]) -> None:
    if not d.get("quote") and not d.get("paraphrase"):
        raise InvalidInput("a statement needs a quote or a paraphrase", "quote")


def _describe(d: Mapping[str, Any]) -> list[str]:
    who = d["speaker"] + (f", {d['role']}" if d.get("role") else "")
    lines = [f"Speaker: {who}"]
    if d.get("quote"):
        lines.append(f"“{d['quote']}”")
    if d.get("paraphrase"):
        lines.append(d["paraphrase"])
    return lines


KIND = Kind(
    name="statement",
    verb="said",
    fields=(
        f.Field("speaker", f.text, "Who spoke.", required=True, actor_role=True),
        f.Field("role", f.text, "The speaker's role."),
        f.Field("quote", f.text, "Verbatim quote."),
        f.Field("paraphrase", f.text, "What was said, in the reporter's words."),
    ),
    check=_check,
    describe=_describe,
)  # fmt: skip

"""A statement: what someone said, verbatim and/or paraphrased, in which language.

A quote may be a translation: `language` is the language the quote is recorded in,
`translated` says it is a translation, `translator` who made it (an outlet, "the
reporter") and `original` the words as spoken, in `original_language`, when known.
"""

from collections.abc import Mapping
from typing import Any

from events import fields as f
from events.errors import InvalidInput
from events.kinds.base import Kind

_OF_THE_QUOTE = ("language", "translated")
_OF_A_TRANSLATION = ("translator", "original", "original_language")


def _rules(d: Mapping[str, Any]) -> None:
    for name in (*_OF_THE_QUOTE, *_OF_A_TRANSLATION):
        if d.get(name) and not d.get("quote"):
            raise InvalidInput("describes the quote, and there is none: give a quote too", name)
    for name in _OF_A_TRANSLATION:
        if d.get(name) and not d.get("translated"):
            raise InvalidInput("only for a quote that is a translation: set translated too", name)


def _details(d: Mapping[str, Any]) -> list[str]:
    who = d["speaker"] + (f", {d['role']}" if d.get("role") else "")
    lines = [f"Speaker: {who}"]
    if d.get("quote"):
        lines.append(f"“{d['quote']}”")
        about = [d["language"]] if d.get("language") else []
        if d.get("translated"):
            about.append(
                "translated"
                + (f" from {d['original_language']}" if d.get("original_language") else "")
                + (f" by {d['translator']}" if d.get("translator") else "")
            )
        if about:
            lines.append(f"({', '.join(about)})")
        if d.get("original"):
            lines.append(f"Original: “{d['original']}”")
    if d.get("paraphrase"):
        lines.append(d["paraphrase"])
    return lines


KIND = Kind(
    name="statement",
    fields=(
        f.Field("speaker", f.line, "Who spoke.", required=True, actor_role=True),
        f.Field("role", f.line, "The speaker's role."),
        f.Field("quote", f.text, "Verbatim quote (as recorded; see --translated)."),
        f.Field("paraphrase", f.text, "What was said, in the reporter's words."),
        f.Field("language", f.language, "Language the quote is recorded in: en, ja, sw, pt-BR, or a name."),
        f.Field("translated", f.flag, "The quote is a translation (yes/no)."),
        f.Field("translator", f.line, "Who translated the quote (an outlet, 'the reporter')."),
        f.Field("original", f.text, "The quote as spoken, when known."),
        f.Field("original_language", f.language, "Language the quote was spoken in."),
    ),
    one_of=(("quote", "paraphrase"),),
    rules=_rules,
    details=_details,
)  # fmt: skip

"""Stored values as people read them: the one function every text output uses.

`history`, `diff`, `show`, `state` and the feeds all print a field's value through
`value_text`, so an amount reads "USD 103 million" and a date "4–5 June 2024" wherever it
appears; `--json` keeps the stored form (exact decimal strings, EDTF dates).
"""

from __future__ import annotations

from typing import Any

from events.dates import OccurredDate
from events.errors import InvalidInput

__all__ = ["value_text", "DATE_FIELDS"]

DATE_FIELDS = frozenset({"occurred", "refers_to", "published"})


def value_text(name: str, value: Any, quoted: bool = True, publisher: bool = False) -> str:
    """`quoted`: text in quotation marks (where a value sits in a sentence, as in a
    correction notice; a page sets it apart by markup instead). `publisher`: a source
    with its publisher in parentheses."""
    if value is None or value == [] or value == "":
        return "(none)"
    if isinstance(value, list):
        return ", ".join(value_text(name, v, quoted, publisher) for v in value)
    if isinstance(value, dict):
        if "currency" in value and "amount" in value:
            from events.money import Money  # on first use, as `events.fields.money` imports it

            try:
                return Money.from_primitive(value).humane()
            except (InvalidInput, KeyError, ValueError, ArithmeticError):
                return str(value)  # a value this version cannot read is shown as stored
        if "url" in value:
            return str(value["url"]) + (f" ({value['publisher']})" if publisher and value.get("publisher") else "")
        return ", ".join(f"{k}: {value_text(k, v, quoted, publisher)}" for k, v in sorted(value.items()))
    if name in DATE_FIELDS and isinstance(value, str):
        try:
            return OccurredDate.from_canonical(value).humane()
        except InvalidInput:
            return value
    return f"“{value}”" if isinstance(value, str) and quoted else str(value)

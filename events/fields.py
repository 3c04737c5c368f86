"""Typed fields of a development and how each is read from what people write.

Every parser takes the raw value (a string from the command line, or a JSON value from
an import file) and returns the primitive JSON form that events store. Events hold only
JSON primitives, so the stored log is plain, hashable and readable without this code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from events.dates import OccurredDate
from events.errors import InvalidInput
from events.money import Money
from events.slugs import check_topic

__all__ = [
    "Field", "text", "date", "money", "choice", "topic", "source", "reference",
    "MAX_TEXT",
]  # fmt: skip

MAX_TEXT = 20_000
# Characters XML 1.0 cannot carry at all. Stored text never holds them, so every feed
# built from it stays well-formed; tab, newline and carriage return are fine.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Field:
    name: str
    parse: Callable[[Any], Any]
    help: str
    required: bool = False
    many: bool = False
    actor_role: bool = False  # its values are actors taking part

    def read(self, raw: Any) -> Any:
        """Parse one field's raw value; lists for `many` fields."""
        try:
            if self.many:
                values = _as_list(raw)
                parsed = [self.parse(v) for v in values]
                # Keep the order given, drop repeats.
                out: list[Any] = []
                for p in parsed:
                    if p not in out:
                        out.append(p)
                if self.required and not out:
                    raise InvalidInput("at least one is required")
                return out
            return self.parse(raw)
        except InvalidInput as e:
            raise InvalidInput(e.message, self.name) from None


def _as_list(raw: Any) -> list[Any]:
    if raw is None:
        return []
    if isinstance(raw, (list, tuple)):
        return list(raw)
    if isinstance(raw, str):
        s = raw.strip()
        if s.startswith("["):
            try:
                value = json.loads(s)
            except json.JSONDecodeError:
                raise InvalidInput(f"cannot read {raw!r} as a JSON list") from None
            if isinstance(value, list):
                return value
        # On the command line a list is written "a, b, c".
        return [part for part in (p.strip() for p in s.split(",")) if part]
    return [raw]


def text(raw: Any) -> str:
    if not isinstance(raw, str):
        raise InvalidInput(f"expected text, got {type(raw).__name__}")
    value = _XML_FORBIDDEN.sub("", raw).strip()
    if not value:
        raise InvalidInput("must not be empty")
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"longer than {MAX_TEXT} characters")
    return value


def date(raw: Any) -> str:
    if not isinstance(raw, str):
        raise InvalidInput(f"expected a date as text, got {type(raw).__name__}")
    return str(OccurredDate.parse(raw))


def money(raw: Any) -> dict[str, Any]:
    return Money.parse(raw).to_primitive()


def choice(*options: str) -> Callable[[Any], str]:
    aliases = {o.replace("-", " "): o for o in options}

    def parse(raw: Any) -> str:
        if not isinstance(raw, str):
            raise InvalidInput(f"expected one of {', '.join(options)}")
        value = raw.strip().lower().replace("_", " ").replace("-", " ")
        if value in aliases:
            return aliases[value]
        raise InvalidInput(f"{raw!r} is not one of {', '.join(options)}")

    return parse


def topic(raw: Any) -> str:
    if not isinstance(raw, str):
        raise InvalidInput("a topic is text")
    return check_topic(raw)


def url(raw: Any) -> str:
    value = text(raw)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
        raise InvalidInput(f"{raw!r} is not an absolute http(s) URL")
    return value


def source(raw: Any) -> dict[str, Any]:
    """A source: a URL, or {"url", "publisher", "published"}."""
    if isinstance(raw, str):
        raw = {"url": raw}
    if not isinstance(raw, dict):
        raise InvalidInput("a source is a URL or an object with a url")
    unknown = set(raw) - {"url", "publisher", "published"}
    if unknown:
        raise InvalidInput(f"unknown source key {sorted(unknown)[0]!r}")
    out: dict[str, Any] = {"url": url(raw.get("url"))}
    if raw.get("publisher"):
        out["publisher"] = text(raw["publisher"])
    if raw.get("published"):
        out["published"] = date(raw["published"])
    return out


def reference(raw: Any) -> str:
    """A reference to another development: its id or its natural key, kept as given
    and resolved to an id by the aggregate module."""
    return text(raw)

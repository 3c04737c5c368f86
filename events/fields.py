"""Typed fields of a development and how each is read from what people write.

Every parser takes the raw value (a string from the command line, or a JSON value from
an import file) and returns the primitive JSON form that events store. Events hold only
JSON primitives, so the stored log is plain, hashable and readable without this code.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from events.conventions import current
from events.errors import InvalidInput
from events.frozen import Frozen
from events.patterns import Lazy
from events.plain_days import plain_day
from events.slugs import check_topic

__all__ = [
    "Field", "text", "line", "flag", "language", "date", "money", "choice", "topic", "source", "reference",
    "source_text", "MAX_TEXT", "xml_safe",
]  # fmt: skip

MAX_TEXT = 20_000
_CACHED_LENGTH = 200  # texts at most this long are kept in the readers' caches
# Characters XML 1.0 cannot carry at all (outside its `Char` production: C0 controls but
# tab, LF and CR; lone surrogates; U+FFFE and U+FFFF). Stored text never holds them, so
# every feed and page built from it stays well-formed; the feeds strip the same set from
# anything else they write (`xml_safe`).
# Written as the forbidden set, not as the negation of the allowed one: the same code points
# (checked over all of them), and compiling it costs a tenth as much. Still ~4.5M
# instructions: compiled on first use (printable ASCII, as most text is, never needs it).
_XML_FORBIDDEN = Lazy("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(value: str) -> str:
    """`value` without the characters XML 1.0 cannot carry."""
    if type(value) is str and value.isascii() and value.isprintable():  # no control character: none of them
        return value
    return _XML_FORBIDDEN.compiled.sub("", value)


class Field(Frozen):
    """A field of a development: its name, its parser and its help. (What a frozen
    dataclass of these six fields was; `events.frozen` says why it is written out.)"""

    _fields = ("name", "parse", "help", "required", "many", "actor_role")
    name: str
    parse: Callable[[Any], Any]
    help: str
    required: bool
    many: bool
    actor_role: bool  # its values are actors taking part

    def __init__(  # noqa: PLR0913 - the six fields, as the dataclass took them
        self, name: str, parse: Callable[[Any], Any], help: str, required: bool = False, many: bool = False,
        actor_role: bool = False,
    ) -> None:  # fmt: skip
        self._assign(name, parse, help, required, many, actor_role)

    def absent(self, value: Any) -> bool:
        """Nothing said: no value, empty text, an empty list (or `no` for a yes/no field)."""
        if type(value) is str:  # most values: only the empty text is absent
            return not value
        return value is None or value == "" or value == [] or value == () or (value is False and self.parse is flag)

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
    """The one rule for list fields, on every path (add, correct, import): each text is
    one item, commas and all ("Korea, Republic of" is one name); a text that is a JSON
    array is its items. Lists come from repeating an option, from a JSON array on the
    command line, or from a JSON array in an import line."""
    if raw is None:
        return []
    items = list(raw) if isinstance(raw, (list, tuple)) else [raw]
    for item in items:  # a loop, not any(genexpr): every list field of every line passes here
        if isinstance(item, str) and item[:1] in "[ \t\n":
            break
    else:
        return items
    out: list[Any] = []
    for item in items:
        if isinstance(item, str) and item.strip().startswith("["):
            try:
                value = json.loads(item)
            except json.JSONDecodeError:
                value = None
            if not isinstance(value, list):
                raise InvalidInput(f'cannot read {item!r} as a JSON array such as ["A", "B"]') from None
            out.extend(value)
        else:
            out.append(item)
    return out


def text(raw: Any) -> str:
    """Text that may hold paragraphs (a summary, a quote): line breaks are kept, written
    as newlines whatever the input used."""
    if type(raw) is str and raw.isascii() and raw.isprintable():  # most texts: no control character to remove
        return _bounded(raw.strip())
    return _text(raw)


def _text(raw: Any) -> str:
    if not isinstance(raw, str):
        raise InvalidInput(f"expected text, got {type(raw).__name__}")
    value = xml_safe(raw)
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _bounded(value.strip())


def _bounded(value: str) -> str:
    if not value:
        raise InvalidInput("must not be empty")
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"longer than {MAX_TEXT} characters")
    return value


def line(raw: Any) -> str:
    """One-line text (a title, a name, a place): every run of whitespace, line breaks
    included, is one space, so one-line listings stay one line."""
    # Names, places and publishers repeat line after line in a story: each distinct text
    # is read once. Only short exact `str`s are cached (a bounded cache of long texts could
    # still hold hundreds of MB); errors are never cached.
    return _line_cached(raw) if type(raw) is str and len(raw) <= _CACHED_LENGTH else _line(raw)


def _line(raw: Any) -> str:
    value = text(raw)
    # Every whitespace character but the space is unprintable: a quick test first.
    return " ".join(value.split()) if "  " in value or not value.isprintable() else value


_line_cached = functools.lru_cache(maxsize=16384)(_line)


def flag(raw: Any) -> bool:
    """Yes or no: JSON true/false, or yes/no/true/false as text."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        value = raw.strip().lower()
        if value in ("yes", "true"):
            return True
        if value in ("no", "false"):
            return False
    raise InvalidInput(f"{raw!r} is not yes or no")


def language(raw: Any) -> str:
    """A language as a BCP 47 tag ('en', 'ja', 'pt-BR', 'zh-Hant'), from the tag or its
    English name ('Japanese'), checked against CLDR through babel."""
    from babel import Locale, UnknownLocaleError

    value = line(raw)
    names = _language_names()
    code = names.get(value.casefold(), value.replace("-", "_"))
    try:
        loc = Locale.parse(code)
    except (ValueError, TypeError, UnknownLocaleError):
        raise InvalidInput(
            f"{raw!r} is not a language: write a tag such as en, ja, sw, pt-BR, or a name such as Japanese"
        ) from None
    return "-".join(p for p in (loc.language, loc.script, loc.territory) if p)


@functools.cache
def _language_names() -> dict[str, str]:
    from babel import Locale

    return {name.casefold(): code for code, name in Locale("en").languages.items() if "_" not in code}


def date(raw: Any) -> str:
    if not isinstance(raw, str):
        raise InvalidInput(f"expected a date as text, got {type(raw).__name__}")
    if type(raw) is str and len(raw) <= _CACHED_LENGTH:  # a story repeats its dates; the date order is in the key
        return _date_cached(raw, current().date_order)
    return _date(raw)


def _date(raw: str) -> str:
    found = plain_day(raw)
    if found is not None:
        return found
    # Any other form: the date reader and `events.dates`, loaded with the first such date
    # (a development dated "6 July 2024" is recorded without either).
    from events.dates import OccurredDate

    return str(OccurredDate.parse(raw))


@functools.lru_cache(maxsize=16384)
def _date_cached(raw: str, order: str | None) -> str:
    return _date(raw)  # `order` is read again by the date reader: it only keys the cache


def money(raw: Any) -> dict[str, Any]:
    from events.money import Money  # here: only pledges have amounts, and it costs every start

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
    return _topic_cached(raw) if type(raw) is str and len(raw) <= _CACHED_LENGTH else check_topic(raw)


_topic_cached = functools.lru_cache(maxsize=4096)(check_topic)


# The form nearly every source URL takes: http(s), a plain host (and port), then printable
# ASCII without spaces. `urlsplit` gives each of these that scheme and a non-empty netloc,
# so they are accepted as they are; anything else is read by `urlsplit` in full.
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:[/?#][!-~]*)?\Z")


def url(raw: Any) -> str:
    value = text(raw)
    if _PLAIN_URL.match(value):
        return value
    return _split_url(raw, value)


def _split_url(raw: Any, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
        raise InvalidInput(f"{raw!r} is not an absolute http(s) URL")
    return value


SOURCE_KEYS = ("url", "publisher", "published", "language", "via")
_SOURCE_KEY_SET = frozenset(SOURCE_KEYS)
_SOURCE_READERS: dict[str, Callable[[Any], Any]] = {"url": url, "publisher": line, "published": date,
                                                     "language": language, "via": line}  # fmt: skip


def source(raw: Any) -> dict[str, Any]:
    """A source: a URL, or {"url", "publisher", "published", "language", "via"}.

    `language` is the language the source is written in; `via` the outlet or agency it
    cites for the report ("Anadolu Agency" for a paper citing it)."""
    if isinstance(raw, str):
        raw = {"url": raw}
    if not isinstance(raw, dict):
        raise InvalidInput("a source is a URL or an object with a url")
    unknown = raw.keys() - _SOURCE_KEY_SET
    if unknown:
        raise InvalidInput(f"unknown source key {sorted(unknown)[0]!r} (known: {', '.join(SOURCE_KEYS)})")
    readers = _SOURCE_READERS
    out: dict[str, Any] = {}
    for key in SOURCE_KEYS:
        if key == "url" or raw.get(key):
            try:
                out[key] = readers[key](raw.get(key))
            except InvalidInput as e:
                raise InvalidInput(e.message if key == "url" else f"{key}: {e.message}") from None
    return out


def source_text(src: Any) -> str:
    """A source as people read it: 'Daily Sabah (tr) citing Anadolu Agency, https://...'."""
    if not isinstance(src, dict) or not isinstance(src.get("url"), str):
        return str(src)  # a value this version cannot read is shown as stored
    who = src.get("publisher") or ""
    if src.get("language"):
        who = f"{who} ({src['language']})".strip()
    if src.get("via"):
        who = f"{who} citing {src['via']}".strip()
    return f"{who}, {src['url']}" if who else src["url"]


def reference(raw: Any) -> str:
    """A reference to another development: its id or its natural key, kept as given
    and resolved to an id by the aggregate module."""
    return line(raw)

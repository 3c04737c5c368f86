"""Reading occurred dates as people write them, exactly or not at all.

Read here, without guessing: ISO and EDTF text (``2024-06-04``, ``2024-06-04/05``,
``2024-06?``), dates in words in either order ("6 July 2024", "July 6, 2024",
"Tuesday, 4 June 2024"), ranges ("4-5 June 2024", "June 4-5, 2024", "4 to 5 June 2024",
"30 June – 2 July 2024", "May–June 2024", "2022-2024", "between 2022 and 2024"), open
ends ("since 1994", "before July 2024"), qualifiers ("circa 2024", "2024?"), and a time
of day with its zone ("24 Aug 2024, 17:05 JST", "2024-06-04 10:00").

Numeric day-month orders are read only when they cannot be misread: "13/04/2024" is
13 April, "03/04/2024" is refused unless a date order is set (`events.conventions`).
A two-digit year is refused. Other free text goes to dateutil, and is refused when
dateutil's reading depends on the day-first choice and no date order is set.
"""

from __future__ import annotations

import functools
import re
import warnings
from dataclasses import dataclass, replace
from datetime import date, datetime

from events.conventions import current
from events.dates import OccurredDate, Time
from events.errors import InvalidInput
from events.patterns import Lazy
from events.plain_days import MONTHS as _MONTHS
from events.plain_days import plain_day
from events.time_zones import offset_of

__all__ = ["read_date", "plain_day"]

_WEEKDAYS = {
    name: i
    for i, day in enumerate("monday tuesday wednesday thursday friday saturday sunday".split())
    for name in (day, day[:3], day[:4] if day in ("tuesday", "thursday") else day[:3])
}

# Each compiled on first use (`events.patterns`): most texts need two or three of them.
_CANONICAL_POINT = r"\d{4}(?:-\d{2}(?:-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:\d{2})?)?)?)?[?~%]?"
# A point, "../" and a point, or a point, "/" and ".." or a point (the point written twice, not
# three times: the same texts, a quarter less to compile).
_CANONICAL = Lazy(rf"^(?:\.\./{_CANONICAL_POINT}|{_CANONICAL_POINT}(?:/(?:\.\.|{_CANONICAL_POINT}))?)$")
_ISO_SLASH = Lazy(
    r"^(\d{4}(?:-\d{2}){0,2}[?~%]?)\s*/\s*((?:\d{4}-)?(?:\d{2}-)?\d{2}[?~%]?|\d{4}(?:-\d{2}){0,2}[?~%]?)$"
)

_OPEN_AFTER = Lazy(r"^(since|from|after|starting|starting from|on or after)\s+", re.IGNORECASE)
_OPEN_BEFORE = Lazy(r"^(before|until|till|by)\s+", re.IGNORECASE)
_CIRCA = Lazy(r"^(circa|c\.|ca\.|approximately|approx\.|around|about)\s*", re.IGNORECASE)
_UNCERTAIN = Lazy(r"\s*(\?|\(uncertain\))$", re.IGNORECASE)

_NAMED_ENDS = Lazy(r"^(from|between)\s", re.IGNORECASE)
_BETWEEN = Lazy(r"^(?:between)\s+(.+?)\s+and\s+(.+)$", re.IGNORECASE)
_FROM_TO = Lazy(r"^(?:from\s+)?(.+?)\s+(?:to|until|till|through|thru)\s+(.+)$", re.IGNORECASE)
_DASH = Lazy(r"\s*[–—‒]\s*|\s+-\s+")
_DAY_DASH_DAY = Lazy(r"(?<![\d-])(\d{1,2})-(\d{1,2})(?![\d-])")
_MONTH_DASH_MONTH = Lazy(r"\b([A-Za-z]{3,}\.?)-([A-Za-z]{3,})\b")
_YEAR_DASH_YEAR = Lazy(r"^(\d{4})-(\d{4})$")

_TIME = Lazy(
    r"^(?P<date>.*?)(?:\s*,\s*|\s+at\s+|\s+|T)"
    r"(?P<h>\d{1,2})(?:(?::(?P<m>\d{2})(?::(?P<s>\d{2}))?(?:\s*(?P<ap1>[ap]\.?m\.?))?)|\s*(?P<ap2>[ap]\.?m\.?))"
    r"(?:\s*(?P<zone>Z|[A-Za-z]+/[A-Za-z_/+-]+|(?:UTC|GMT)\s*[+-]\s*\d{1,2}(?::?\d{2})?|[+-]\d{2}:?\d{2}|\(?[A-Za-z]{1,6}\)?))?$",
    re.IGNORECASE,
)
_ISO_DATE = Lazy(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_YMD = Lazy(r"^(\d{4})([/.])(\d{1,2})\2(\d{1,2})$")
_NUMERIC = Lazy(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{2,4})$")
_DAY_MONTH_YEAR = Lazy(r"^(\d{1,2}) ([A-Za-z]+)\.?,? (\d{4})$")
_MONTH_DAY_YEAR = Lazy(r"^([A-Za-z]+)\.? (\d{1,2}),? (\d{4})$")
_MONTH_YEAR = Lazy(r"^([A-Za-z]+)\.?,? (\d{4})$")
_ORDINAL = Lazy(r"^(\d{1,2})(?:st|nd|rd|th)?$", re.IGNORECASE)

# Two different defaults reveal which parts dateutil actually found in the text.
_DEFAULT_A = datetime(1, 1, 1, 0, 0, 0)
_DEFAULT_B = datetime(2, 2, 2, 1, 1, 1)


@dataclass(frozen=True)
class _Part:
    """A date as far as one side of a range gives it."""

    year: int | None = None
    month: int | None = None
    day: int | None = None
    time: Time | None = None
    qualifier: str = ""
    weekday: int | None = None

    def build(self, text: str, open_: str | None = None) -> OccurredDate:
        if self.year is None:
            raise InvalidInput(f"{text!r} has no year; write it in full, like '6 July 2024'")
        if self.day is not None and self.month is None:
            raise InvalidInput(f"{text!r} has a day but no month; write it like '6 July 2024'")
        try:
            d = OccurredDate(self.year, self.month, self.day, open_, self.time, self.qualifier)
        except InvalidInput as e:
            raise InvalidInput(f"cannot read {text!r} as a date: {e}") from None
        if self.weekday is not None and d.day is not None and d.first_day.weekday() != self.weekday:
            raise InvalidInput(f"{d.humane()} was a {d.first_day:%A}, not as {text!r} says")
        return d


def read_date(text: str) -> OccurredDate:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("a date is required")
    return _cached(text, current().date_order)


@functools.lru_cache(maxsize=4096)
def _cached(text: str, order: str | None) -> OccurredDate:
    # dateutil costs ~250 µs a call and a story repeats its dates: imports read each
    # distinct text once per date order. Values are frozen, so sharing them is safe.
    found = _read(text, order)
    for part in (found, found.end):
        # A month or day of 0 ("0 May 2000", 2000-00-05) is no date. Refused here, where
        # text is read, not where a stored date is decoded: a log written before this
        # check stays readable.
        if part is not None and 0 in (part.month, part.day):
            raise InvalidInput(
                f"cannot read {text!r} as a date: there is no day or month 0; write it like '6 July 2024'"
            )
    return found


def _read(text: str, order: str | None) -> OccurredDate:
    raw = " ".join(text.split())
    if (iso := _iso(raw, text)) is not None:  # looked at first: an exception per date is costly
        return iso
    if ".." in raw:
        raise InvalidInput(
            f"cannot read {text!r} as a date; an interval is written 2024-06-04/2024-06-05, 1994/.. or ../2024-07"
        )
    if common := _common(raw):  # most reports: no range to look for, no tokens to weigh
        return common.build(text)
    # "circa 4-5 June 2024" and "4-5 June 2024?" qualify the whole range: both its ends.
    # ("from circa 1999 to 2000" qualifies one end: "from" and "between" name each end.)
    whole, qualifier = raw, ""
    if not _NAMED_ENDS.match(whole):
        if m := _CIRCA.match(whole):
            whole, qualifier = whole[m.end() :], "~"
        if m := _UNCERTAIN.search(whole):
            whole, qualifier = whole[: m.start()], ("%" if qualifier else "?")
    if sides := _split_range(whole):
        left, right = (_part(side, order, text) for side in sides)
        if qualifier:
            left, right = (replace(p, qualifier=_combine(p.qualifier, qualifier)) for p in (left, right))
        return _interval(left, right, text)
    open_: str | None = None
    if m := _OPEN_AFTER.match(raw):
        open_, raw = "after", raw[m.end() :]
    elif m := _OPEN_BEFORE.match(raw):
        open_, raw = "before", raw[m.end() :]
    return _part(raw, order, text, whole=True).build(text, open_)


def _iso(raw: str, text: str) -> OccurredDate | None:
    """`raw` as canonical text or an ISO interval, or None. Both start with four digits
    (`\\d` is a kind of `isdigit`) or "../": "6 July 2024" is not matched against them, and
    they are compiled only for a text that may be one."""
    if not (raw[:4].isdigit() or raw.startswith("../")):
        return None
    if _CANONICAL.match(raw):
        try:
            return OccurredDate.from_canonical(raw)
        except InvalidInput as e:
            raise InvalidInput(f"cannot read {text!r} as a date: {e}") from None
    if m := _ISO_SLASH.match(raw):
        return _interval(_iso_part(m.group(1)), _reduced_end(m.group(1), m.group(2)), text)
    return None


def _combine(a: str, b: str) -> str:
    return "%" if "%" in (a, b) or {a, b} == {"?", "~"} else (a or b)


def _split_range(raw: str) -> tuple[str, str] | None:
    if m := _BETWEEN.match(raw):
        return m.group(1), m.group(2)
    if m := _YEAR_DASH_YEAR.match(raw):
        return m.group(1), m.group(2)
    pieces = _DASH.split(raw)
    if len(pieces) > 2:
        raise InvalidInput(
            f"cannot read {raw!r} as a date: more than one range separator; write one range, like '4-5 June 2024'"
        )
    if len(pieces) == 2:
        return pieces[0], pieces[1]
    if m := _FROM_TO.match(raw):
        return m.group(1), m.group(2)
    if any(c.isalpha() for c in raw):
        if m := _DAY_DASH_DAY.search(raw):
            return raw[: m.end(1)], raw[m.start(2) :]
        m = _MONTH_DASH_MONTH.search(raw)
        if m and m.group(1).rstrip(".").lower() in _MONTHS and m.group(2).lower() in _MONTHS:
            return raw[: m.end(1)], raw[m.start(2) :]
    return None


def _interval(left: _Part, right: _Part, text: str) -> OccurredDate:
    """A closed interval, each side taking what it leaves out from the other:
    "4-5 June 2024" (the 4th takes June 2024), "June 4-5, 2024" (the 5th takes June)."""
    if left.year is None:
        left = replace(left, year=right.year)
    if right.year is None:
        right = replace(right, year=left.year)
    if left.month is None and left.day is not None:
        left = replace(left, month=right.month)
    if right.month is None and right.day is not None:
        right = replace(right, month=left.month)
    start, end = left.build(text), right.build(text)
    try:
        return OccurredDate(start.year, start.month, start.day, None, start.time, start.qualifier, end)
    except InvalidInput as e:
        raise InvalidInput(f"cannot read {text!r} as a date range: {e}") from None


def _iso_part(text: str) -> _Part:
    qualifier = text[-1] if text[-1] in "?~%" else ""
    digits = text.rstrip("?~%").split("-")
    numbers = [int(x) for x in digits] + [None, None]
    return _Part(numbers[0], numbers[1], numbers[2], qualifier=qualifier)


def _reduced_end(start: str, end: str) -> _Part:
    """ISO 8601 lets an interval's end leave out what it shares with the start:
    2024-06-04/05 is 4 to 5 June, 2024-06/07 June to July."""
    qualifier = end[-1] if end[-1] in "?~%" else ""
    body = end.rstrip("?~%")
    if re.match(r"^\d{4}", body):
        return replace(_iso_part(body), qualifier=qualifier)
    head = start.rstrip("?~%").split("-")
    tail = body.split("-")
    if len(tail) >= len(head):
        raise InvalidInput(
            f"cannot read the end {end!r} of the interval after {start!r}; write it like 2024-06-04/2024-06-05"
        )
    return replace(_iso_part("-".join(head[: len(head) - len(tail)] + tail)), qualifier=qualifier)


def _part(text: str, order: str | None, whole_text: str, whole: bool = False) -> _Part:
    raw = text.strip().strip(",").strip()
    qualifier = ""
    if m := _CIRCA.match(raw):
        qualifier, raw = "~", raw[m.end() :]
    if m := _UNCERTAIN.search(raw):
        qualifier, raw = ("%" if qualifier else "?"), raw[: m.start()]
    if not raw:
        raise InvalidInput(
            f"cannot read {whole_text!r} as a date; write it like '6 July 2024', 'July 2024' or 2024-07-06"
        )
    time_text = None
    if (m := _TIME.match(raw)) and m.group("date"):
        raw, time_text = m.group("date").strip().rstrip(","), m
    part = _date_part(raw, order, whole_text, whole)
    if time_text is not None:
        if part.day is None or part.year is None:
            raise InvalidInput(f"{whole_text!r}: a time of day needs a full date, like '24 Aug 2024, 17:05'")
        part = replace(part, time=_time(time_text, part, whole_text))
    if qualifier:
        part = replace(part, qualifier=qualifier)
    return part


def _time(m: re.Match[str], part: _Part, text: str) -> Time:
    hour, minute, second = int(m.group("h")), int(m.group("m") or 0), int(m.group("s") or 0)
    ampm = (m.group("ap1") or m.group("ap2") or "").replace(".", "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            raise InvalidInput(f"{text!r}: {hour} {ampm} is not a time of day; write it like 17:05 or 5:05 pm")
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise InvalidInput(f"{text!r}: no such time of day; write it like 17:05")
    offset = None
    if m.group("zone"):
        local = datetime(part.year or 1, part.month or 1, part.day or 1, hour, minute, second)
        offset = offset_of(m.group("zone"), local)
    return Time(hour, minute, second, offset)


def _date_part(raw: str, order: str | None, text: str, whole: bool) -> _Part:
    if m := _ISO_DATE.match(raw):
        return _Part(int(m.group(1)), int(m.group(2)) if m.group(2) else None, int(m.group(3)) if m.group(3) else None)
    if m := _YMD.match(raw):
        return _Part(int(m.group(1)), int(m.group(3)), int(m.group(4)))
    if m := _NUMERIC.match(raw):
        return _numeric(int(m.group(1)), int(m.group(3)), m.group(4), order, text)
    if (words := _words(raw)) is not None:
        return words
    if not whole:
        raise InvalidInput(
            f"cannot read {raw!r} in {text!r} as a date; write ranges like '4-5 June 2024' or 'May-June 2024'"
        )
    return _dateutil(raw, order, text)


def _numeric(first: int, second: int, year: str, order: str | None, text: str) -> _Part:
    if len(year) != 4:
        raise InvalidInput(f"{text!r} has a two-digit year; write the year in full")
    readings = {r for r in ("dmy", "mdy") if 1 <= (first if r == "mdy" else second) <= 12}
    readings = {r for r in readings if 1 <= (second if r == "mdy" else first) <= 31}
    if not readings:
        raise InvalidInput(f"cannot read {text!r} as a date; write it like '6 July 2024' or 2024-07-06")
    if first == second:
        readings = {"dmy"}
    if order is not None:
        if order not in readings:
            raise InvalidInput(f"{text!r} cannot be read in the date order {order}; write it like 2024-04-13")
        readings = {order}
    if len(readings) > 1:
        raise InvalidInput(
            f"{text!r} is ambiguous (day/month or month/day); write 2024-04-03 or '3 April 2024', or set a date order (--date-order dmy|mdy, or timeline config set date-order)"
        )
    reading = readings.pop()
    day, month = (first, second) if reading == "dmy" else (second, first)
    return _Part(int(year), month, day)


def _common(raw: str) -> _Part | None:
    """'6 July 2024', 'July 6, 2024', 'July 2024' by regular expression alone."""
    if m := _DAY_MONTH_YEAR.match(raw):
        day, month, year = m.group(1), m.group(2), m.group(3)
    elif m := _MONTH_DAY_YEAR.match(raw):
        month, day, year = m.group(1), m.group(2), m.group(3)
    elif m := _MONTH_YEAR.match(raw):
        month, day, year = m.group(1), None, m.group(2)
    else:
        return None
    number = _MONTHS.get(month.lower())
    return _Part(int(year), number, int(day) if day else None) if number else None


def _words(raw: str) -> _Part | None:
    """'6 July 2024', 'July 6, 2024', 'Tuesday, 4 June', '5', 'June 2024', '2024 June 4'."""
    tokens = [t for t in re.split(r"[\s,]+", raw) if t and t.lower() not in ("of", "the")]
    weekday = None
    if tokens and tokens[0].lower().rstrip(".") in _WEEKDAYS:
        weekday = _WEEKDAYS[tokens.pop(0).lower().rstrip(".")]
    shape, values = "", list[int]()
    for t in tokens:
        word = t.lower().rstrip(".")
        if word in _MONTHS:
            shape, values = shape + "M", [*values, _MONTHS[word]]
        elif re.fullmatch(r"\d{4}", t):
            shape, values = shape + "Y", [*values, int(t)]
        elif m := _ORDINAL.match(t):
            shape, values = shape + "D", [*values, int(m.group(1))]
        else:
            return None
    if shape not in ("DMY", "MDY", "YMD", "DM", "MD", "MY", "YM", "DY", "M", "D", "Y"):
        return None
    found = dict(zip(shape, values, strict=True))
    return _Part(found.get("Y"), found.get("M"), found.get("D"), weekday=weekday)


def _dateutil(raw: str, order: str | None, text: str) -> _Part:
    # dateutil reads nearly anything, guessing; it is trusted only where a month is named
    # and every number written is one it used (nothing dropped).
    if "/" in raw:
        raise InvalidInput(
            f"cannot read {text!r} as a date; an interval is written 2024-06-04/2024-06-05, 1994/.. or ../2024-07"
        )
    if not any(w.lower().rstrip(".") in _MONTHS for w in re.findall(r"[A-Za-z]+\.?", raw)):
        raise InvalidInput(f"cannot read {text!r} as a date; write it like '6 July 2024', 'July 2024' or 2024-07-06")
    a, b = _dateutil_readings(raw, order, text)
    return _checked_part(a, b, raw, text)


def _dateutil_readings(raw: str, order: str | None, text: str) -> tuple[datetime, datetime]:
    """`raw` read twice with two different defaults, so that what the text does not say
    shows as a difference; day/month order only by `order` when the two orders differ."""
    from dateutil import parser as dateparser  # only for the forms read above not being enough

    def run(dayfirst: bool) -> tuple[datetime, datetime]:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # an unknown zone name is a warning there: refuse it
            a = dateparser.parse(raw, default=_DEFAULT_A, dayfirst=dayfirst)
            b = dateparser.parse(raw, default=_DEFAULT_B, dayfirst=dayfirst)
        return a, b

    try:
        readings = {False: run(False), True: run(True)}
    except (ValueError, OverflowError, Warning):
        raise InvalidInput(
            f"cannot read {text!r} as a date; write it like '6 July 2024', 'July 2024' or 2024-07-06"
        ) from None
    if readings[False] != readings[True]:
        if order is None:
            raise InvalidInput(
                f"{text!r} is ambiguous (day/month or month/day); write it as 2024-07-06, or set a date order (--date-order dmy|mdy, or timeline config set date-order)"
            )
        return readings[order == "dmy"]
    return readings[False]


def _checked_part(a: datetime, b: datetime, raw: str, text: str) -> _Part:
    """What both readings agree on, refused where dateutil guessed or dropped a number."""
    if a.year != b.year:
        raise InvalidInput(f"{text!r} has no year; write it in full, like '6 July 2024'")
    if a.tzinfo is not None or b.tzinfo is not None:
        raise InvalidInput(f"cannot read the time zone in {text!r}; write it like '24 Aug 2024, 17:05 UTC+09:00'")
    month = a.month if a.month == b.month else None
    day = a.day if a.day == b.day else None
    time = None
    if (a.hour, a.minute) == (b.hour, b.minute):
        if day is None:
            raise InvalidInput(f"{text!r}: a time of day needs a full date, like '24 Aug 2024, 17:05'")
        time = Time(a.hour, a.minute, a.second if a.second == b.second else 0)
    elif a.hour == b.hour or a.minute == b.minute:
        raise InvalidInput(f"cannot read the time of day in {text!r}; write it like 17:05")
    if day is not None and month is None:
        raise InvalidInput(f"{text!r} has a day but no month; write it like '6 July 2024'")
    used = {a.year, month, day, *((a.hour % 12 or 12, a.hour, a.minute, a.second) if time else ())}
    numbers = [int(n) for n in re.findall(r"\d+", raw)]
    if str(a.year) not in re.findall(r"\d{4}", raw) or any(n not in used for n in numbers if n != 0):
        raise InvalidInput(f"cannot read {text!r} as a date; write it like '6 July 2024', 'July 2024' or 2024-07-06")
    try:
        date(a.year, month or 1, day or 1)
    except ValueError:  # pragma: no cover - dateutil validates already
        raise InvalidInput(f"cannot read {text!r} as a date; write it like '6 July 2024' or 2024-07-06") from None
    return _Part(a.year, month, day, time)

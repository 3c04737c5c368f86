"""When a development occurred, with the precision it was reported at.

Reports say "6 July 2024", "July 2024", "1994", "since 1994", "4-5 June 2024",
"circa 2024" or "24 Aug 2024, 17:05 JST". An occurred date keeps exactly that: "2024-07"
never becomes 1 July, a time of day is kept when one was given and never invented when
not. The canonical text is EDTF (ISO 8601-2, levels 0 and 1): ``2024``, ``2024-07``,
``2024-07-06``, ``2024-08-24T17:05:00+09:00``, qualified ``2024-06?`` (uncertain),
``2024~`` (approximate), ``2024%`` (both), closed intervals ``2024-06-04/2024-06-05`` and
open ones ``1994/..`` (since 1994) and ``../2024-07`` (before July 2024). The `edtf`
package (Library of Congress) checks that form in the tests; it is not used at run time,
where it would cost ~90 ms to import and ~4 ms a date.

Ordering and overlap are stated once, here. A date sorts at the start of its period, a
coarser date before a finer one starting at the same moment ("2024" < "2024-07" <
"2024-07-01" < "2024-07-06" < "2024-07-06T10:00:00"), a closed interval by its start
(as a date of the start's precision would, then by its end), an open interval with its
known end. Times sort as written (local time where it happened). A date's `span` is the
first and last calendar day it may cover; a filter range meets it when neither lies
wholly before the other.

Free text is read in `events.date_reading`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace
from datetime import date
from enum import Enum

from events.errors import InvalidInput
from events.plain_days import MONTH_NAMES

__all__ = ["OccurredDate", "Precision", "Time", "EARLIEST", "LATEST"]

# Ends of the span of an open interval: text that sorts before and after every day.
EARLIEST = "0000-01-01"
LATEST = "9999-12-31"


class Precision(str, Enum):
    YEAR = "year"
    MONTH = "month"
    DAY = "day"
    TIME = "time"


QUALIFIERS = {"": "", "?": "uncertain", "~": "approximate", "%": "uncertain and approximate"}

_POINT = r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(Z|[+-]\d{2}:\d{2})?)?)?)?([?~%])?"
_POINT_RE = re.compile(f"^{_POINT}$")
_INTERVAL_RE = re.compile(r"^([^/]+)/([^/]+)$")


@dataclass(frozen=True)
class Time:
    """A time of day as reported; `offset` in minutes east of UTC, None when no zone was given."""

    hour: int
    minute: int
    second: int = 0
    offset: int | None = None

    def __post_init__(self) -> None:
        if not (0 <= self.hour <= 23 and 0 <= self.minute <= 59 and 0 <= self.second <= 59):
            raise InvalidInput(f"no such time of day: {self.hour:02d}:{self.minute:02d}:{self.second:02d}")
        if self.offset is not None and not -14 * 60 <= self.offset <= 14 * 60:
            raise InvalidInput("a UTC offset lies between -14:00 and +14:00")

    def __str__(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d}:{self.second:02d}{self.zone}"

    @property
    def zone(self) -> str:
        if self.offset is None:
            return ""
        if self.offset == 0:
            return "Z"
        sign = "+" if self.offset > 0 else "-"
        return f"{sign}{abs(self.offset) // 60:02d}:{abs(self.offset) % 60:02d}"

    def humane(self) -> str:
        text = f"{self.hour:02d}:{self.minute:02d}" + (f":{self.second:02d}" if self.second else "")
        if self.offset is None:
            return text
        return f"{text} UTC" + ("" if self.offset == 0 else self.zone)


@dataclass(frozen=True, order=False)
class OccurredDate:
    """A point (year, month, day, time, qualifier) or an interval.

    `open` makes the point one end of an open interval: "after" (since the point) or
    "before" (before it). `end` makes the point the start of a closed interval."""

    year: int
    month: int | None = None
    day: int | None = None
    open: str | None = None  # None, "after" (since ...) or "before" (before ...)
    time: Time | None = None
    qualifier: str = ""  # "", "?", "~" or "%" (EDTF)
    end: OccurredDate | None = None

    def __post_init__(self) -> None:
        if self.day is not None and self.month is None:
            raise InvalidInput("a day needs a month")
        if not 1 <= self.year <= 9999:
            raise InvalidInput("a year has four digits, 0001 to 9999")
        try:
            date(self.year, self.month or 1, self.day or 1)
        except ValueError as e:
            raise InvalidInput(f"no such date: {e}") from None
        if self.open not in (None, "after", "before"):
            raise InvalidInput(f"unknown open end {self.open!r}")
        if self.time is not None and self.day is None:
            raise InvalidInput("a time of day needs a day")
        if self.qualifier not in QUALIFIERS:
            raise InvalidInput(f"unknown qualifier {self.qualifier!r}")
        if self.qualifier and self.time is not None:
            raise InvalidInput("a date with a time of day cannot also be uncertain or approximate")
        if (self.open is not None or self.end is not None) and (self.time or (self.end and self.end.time)):
            # EDTF intervals are made of dates; a time is kept on a single date only.
            raise InvalidInput("an interval is made of dates; a time of day is kept only on a single date")
        if self.end is not None:
            if self.open is not None or self.end.open is not None or self.end.end is not None:
                raise InvalidInput("an interval has one start and one end")
            if not (self._lower() < self.end._lower() and self._upper() < self.end._upper()):
                raise InvalidInput(
                    f"the end of an interval ({self.end.point}) must come after its start ({self.point})"
                )

    # --- the point's parts --------------------------------------------------------

    @property
    def precision(self) -> Precision:
        if self.time is not None:
            return Precision.TIME
        if self.day is not None:
            return Precision.DAY
        if self.month is not None:
            return Precision.MONTH
        return Precision.YEAR

    @property
    def point(self) -> str:
        """The known date alone (the start of a closed interval), ISO at its own precision."""
        text = f"{self.year:04d}"
        if self.month is not None:
            text += f"-{self.month:02d}"
        if self.day is not None:
            text += f"-{self.day:02d}"
        if self.time is not None:
            text += f"T{self.time}"
        return text

    @property
    def is_interval(self) -> bool:
        return self.open is not None or self.end is not None

    def __str__(self) -> str:
        text = self.point + self.qualifier
        if self.end is not None:
            return f"{text}/{self.end}"
        if self.open == "after":
            return f"{text}/.."
        if self.open == "before":
            return f"../{text}"
        return text

    # --- order and overlap: the one rule --------------------------------------------

    @property
    def sort_key(self) -> str:
        if self.end is None:
            return self.point
        # A range starting in June 2024 sorts after "2024-06" and before "2024-06-01", as
        # a coarser date does: "-00" keeps that whether or not a collation skips punctuation.
        return f"{self.point}{'-00' if self.day is None else ''}/{self.end.point}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month or 1, self.day or 1)

    @property
    def last_day(self) -> date:
        return self.end._own_last_day if self.end is not None else self._own_last_day

    @property
    def _own_last_day(self) -> date:
        if self.day is not None:
            return self.first_day
        if self.month is not None:
            nxt = date(self.year + (self.month == 12), self.month % 12 + 1, 1)
            return date.fromordinal(nxt.toordinal() - 1)
        return date(self.year, 12, 31)

    def span(self) -> tuple[str, str]:
        """First and last day (ISO) the date may cover; EARLIEST/LATEST for an open end."""
        start = EARLIEST if self.open == "before" else self.first_day.isoformat()
        end = LATEST if self.open == "after" else self.last_day.isoformat()
        return start, end

    def overlaps(self, start: date | None, end: date | None) -> bool:
        """Whether this date's span meets the closed range [start, end] (None: unbounded).
        The views' SQL filter asks the same of the stored `span`."""
        first, last = self.span()
        return (start is None or last >= start.isoformat()) and (end is None or first <= end.isoformat())

    def _lower(self) -> tuple[str, str]:
        return self.first_day.isoformat(), str(self.time or "")

    def _upper(self) -> tuple[str, str]:
        return self._own_last_day.isoformat(), str(self.time or "~")

    # --- display ------------------------------------------------------------------

    def humane(self) -> str:
        """Readable text that shows the precision and reads back to the same date:
        '6 July 2024', 'July 2024', 'since 1994', '4–5 June 2024', 'circa 2024'."""
        if self.end is not None:
            return _humane_interval(self, self.end)
        text = self._humane_point()
        if self.open == "after":
            # "since 1994" reads well; "since 6 July 2024" does not for a remark made
            # some time after that day.
            return f"on or after {text}" if self.day is not None else f"since {text}"
        if self.open == "before":
            return f"before {text}"
        return text

    def _humane_point(self, year: bool = True, month: bool = True) -> str:
        parts = []
        if self.day is not None:
            parts.append(str(self.day))
        if self.month is not None and month:
            parts.append(MONTH_NAMES[self.month - 1])
        if year:
            parts.append(str(self.year))
        text = " ".join(parts)
        if self.time is not None:
            text += f", {self.time.humane()}"
        return _qualified(text, self.qualifier)

    # --- canonical text -------------------------------------------------------------

    @classmethod
    def from_canonical(cls, text: str) -> OccurredDate:
        return _canonical_cached(text)

    @classmethod
    def _from_canonical(cls, text: str) -> OccurredDate:
        if not isinstance(text, str):
            raise InvalidInput(f"not a canonical date: {text!r}")
        if m := _INTERVAL_RE.match(text):
            left, right = m.group(1), m.group(2)
            if left == ".." and right != "..":
                return _point(right, text, "before")
            if right == ".." and left != "..":
                return _point(left, text, "after")
            start, end = _point(left, text), _point(right, text)
            return cls(start.year, start.month, start.day, None, start.time, start.qualifier, end)
        return _point(text, text)

    @classmethod
    def parse(cls, text: str) -> OccurredDate:
        """Parse what people write, keeping its precision; raise InvalidInput otherwise."""
        from events.date_reading import read_date

        return read_date(text)


def _point(text: str, whole: str, open_: str | None = None) -> OccurredDate:
    m = _POINT_RE.match(text)
    if not m:
        raise InvalidInput(f"not a canonical date: {whole!r}")
    year, month, day, hh, mm, ss, zone, qualifier = m.groups()
    time = None
    if hh is not None:
        offset = None
        if zone == "Z":
            offset = 0
        elif zone:
            sign = -1 if zone[0] == "-" else 1
            offset = sign * (int(zone[1:3]) * 60 + int(zone[4:6]))
        time = Time(int(hh), int(mm), int(ss), offset)
    return OccurredDate(
        int(year), int(month) if month else None, int(day) if day else None, open_, time, qualifier or ""
    )


def _qualified(text: str, qualifier: str) -> str:
    if qualifier == "~":
        return f"circa {text}"
    if qualifier == "?":
        return f"{text} (uncertain)"
    if qualifier == "%":
        return f"circa {text} (uncertain)"
    return text


def _humane_interval(a: OccurredDate, b: OccurredDate) -> str:
    """'4–5 June 2024', 'circa 2022–2024' (both ends approximate), 'from circa 2022 to 2024'."""
    if a.qualifier != b.qualifier:
        return f"from {a._humane_point()} to {b._humane_point()}"
    if a.qualifier:
        bare = _humane_interval(replace(a, qualifier="", end=None), replace(b, qualifier=""))
        return _qualified(bare, a.qualifier)
    plain = not (a.time or b.time)
    if plain and a.precision is b.precision:
        if a.precision is Precision.YEAR:
            return f"{a.year}–{b.year}"
        same_year = a.year == b.year
        if a.precision is Precision.MONTH and same_year:
            return f"{MONTH_NAMES[(a.month or 1) - 1]}–{b._humane_point()}"
        if a.precision is Precision.DAY and same_year and a.month == b.month:
            return f"{a.day}–{b._humane_point()}"
        if a.precision is Precision.DAY and same_year:
            return f"{a._humane_point(year=False)} – {b._humane_point()}"
    return f"{a._humane_point()} – {b._humane_point()}"


@functools.lru_cache(maxsize=65536)
def _canonical_cached(text: str) -> OccurredDate:
    # Projections read the same stored dates over and over (sort key, span, display).
    return OccurredDate._from_canonical(text)

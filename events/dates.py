"""When a development occurred, with the precision it was reported at.

Reports say "6 July 2024", "July 2024", "1994" or "since 1994". An occurred date keeps
exactly that precision: "2024-07" never becomes 1 July. The canonical text follows
ISO 8601 / EDTF: ``2024``, ``2024-07``, ``2024-07-06``, and open intervals ``1994/..``
(since 1994) and ``../2024-07`` (before July 2024).

Ordering is precision-aware and stated once, here: a date sorts at the start of its
period, and a coarser date sorts before a finer one that starts at the same moment
("2024" < "2024-07" < "2024-07-01" < "2024-07-06"). An open interval sorts with its
known end. Plain ISO text with its precision already sorts this way, so the sort key
is simply that text.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from events.errors import InvalidInput

__all__ = ["OccurredDate", "Precision"]


class Precision(str, Enum):
    YEAR = "year"
    MONTH = "month"
    DAY = "day"


_OPEN_AFTER = re.compile(r"^\s*(since|from|after|starting|on or after)\s+", re.IGNORECASE)
_OPEN_BEFORE = re.compile(r"^\s*(before|until|till|by)\s+", re.IGNORECASE)
_CANONICAL = re.compile(r"^(\.\./)?(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(/\.\.)?$")
_MONTHS = {
    name: i
    for i, month in enumerate("january february march april may june july august september october november december".split(), 1)
    for name in (month, month[:3], month[:4] if month == "september" else month[:3])
}
# The forms reports use most, read without dateutil (which costs ~250 µs a call);
# anything else goes to dateutil.
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})\s+([A-Za-z]+)\.?,?\s+(\d{4})$")
_MONTH_DAY_YEAR = re.compile(r"^([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})$")
_MONTH_YEAR = re.compile(r"^([A-Za-z]+)\.?,?\s+(\d{4})$")


def _quick(raw: str) -> tuple[int, int | None, int | None] | None:
    if m := _DAY_MONTH_YEAR.match(raw):
        day, month, year = m.group(1), m.group(2), m.group(3)
    elif m := _MONTH_DAY_YEAR.match(raw):
        month, day, year = m.group(1), m.group(2), m.group(3)
    elif m := _MONTH_YEAR.match(raw):
        month, day, year = m.group(1), None, m.group(2)
    else:
        return None
    number = _MONTHS.get(month.lower())
    if number is None:
        return None
    return int(year), number, int(day) if day else None


# Two different defaults reveal which parts dateutil actually found in the text.
_DEFAULT_A = datetime(1, 1, 1)
_DEFAULT_B = datetime(2, 2, 2)


@dataclass(frozen=True, order=False)
class OccurredDate:
    year: int
    month: int | None = None
    day: int | None = None
    open: str | None = None  # None, "after" (since ...) or "before" (before ...)

    def __post_init__(self) -> None:
        if self.day is not None and self.month is None:
            raise InvalidInput("a day needs a month")
        try:
            date(self.year, self.month or 1, self.day or 1)
        except ValueError as e:
            raise InvalidInput(f"no such date: {e}") from None
        if self.open not in (None, "after", "before"):
            raise InvalidInput(f"unknown open end {self.open!r}")

    @property
    def precision(self) -> Precision:
        if self.day is not None:
            return Precision.DAY
        if self.month is not None:
            return Precision.MONTH
        return Precision.YEAR

    @property
    def point(self) -> str:
        """The known date alone, in ISO form at its own precision."""
        text = f"{self.year:04d}"
        if self.month is not None:
            text += f"-{self.month:02d}"
        if self.day is not None:
            text += f"-{self.day:02d}"
        return text

    def __str__(self) -> str:
        if self.open == "after":
            return f"{self.point}/.."
        if self.open == "before":
            return f"../{self.point}"
        return self.point

    @property
    def sort_key(self) -> str:
        return self.point

    @property
    def first_day(self) -> date:
        return date(self.year, self.month or 1, self.day or 1)

    @property
    def last_day(self) -> date:
        if self.day is not None:
            return self.first_day
        if self.month is not None:
            nxt = date(self.year + (self.month == 12), self.month % 12 + 1, 1)
            return date.fromordinal(nxt.toordinal() - 1)
        return date(self.year, 12, 31)

    def humane(self) -> str:
        """Readable text that shows the precision: '6 July 2024', 'July 2024', 'since 1994'."""
        d = self.first_day
        if self.precision is Precision.DAY:
            text = f"{d.day} {d:%B %Y}"
        elif self.precision is Precision.MONTH:
            text = f"{d:%B %Y}"
        else:
            text = f"{self.year}"
        if self.open == "after":
            # "since 1994" reads well; "since 6 July 2024" does not for a remark made
            # some time after that day.
            return f"on or after {text}" if self.precision is Precision.DAY else f"since {text}"
        if self.open == "before":
            return f"before {text}"
        return text

    @classmethod
    def from_canonical(cls, text: str) -> OccurredDate:
        return _canonical_cached(text)

    @classmethod
    def _from_canonical(cls, text: str) -> OccurredDate:
        m = _CANONICAL.match(text)
        if not m or (m.group(1) and m.group(5)):
            raise InvalidInput(f"not a canonical date: {text!r}")
        open_ = "before" if m.group(1) else "after" if m.group(5) else None
        return cls(
            int(m.group(2)),
            int(m.group(3)) if m.group(3) else None,
            int(m.group(4)) if m.group(4) else None,
            open_,
        )

    @classmethod
    def parse(cls, text: str) -> OccurredDate:
        """Parse what people write, keeping its precision; raise InvalidInput otherwise."""
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput("a date is required")
        return _parse_cached(text)

    @classmethod
    def _parse(cls, text: str) -> OccurredDate:
        raw = text.strip()
        if _CANONICAL.match(raw):  # looked at first: an exception per date is costly
            try:
                return cls.from_canonical(raw)
            except InvalidInput:
                raise InvalidInput(f"cannot read {text!r} as a date") from None
        if ".." in raw:  # interval notation that is not a valid canonical form
            raise InvalidInput(f"cannot read {text!r} as a date")
        open_: str | None = None
        if m := _OPEN_AFTER.match(raw):
            open_, raw = "after", raw[m.end() :]
        elif m := _OPEN_BEFORE.match(raw):
            open_, raw = "before", raw[m.end() :]
        if quick := _quick(raw):
            return cls(*quick, open_)
        from dateutil import parser as dateparser  # only for the forms _quick does not read

        try:
            a = dateparser.parse(raw, default=_DEFAULT_A)
            b = dateparser.parse(raw, default=_DEFAULT_B)
        except (ValueError, OverflowError):
            raise InvalidInput(f"cannot read {text!r} as a date") from None
        if a.year != b.year:
            raise InvalidInput(f"{text!r} has no year")
        # An occurred date is a calendar date: a time of day, if given, is not kept.
        month = a.month if a.month == b.month else None
        day = a.day if a.day == b.day else None
        if day is not None and month is None:
            raise InvalidInput(f"{text!r} has a day but no month")
        return cls(a.year, month, day, open_)

    def overlaps(self, start: date | None, end: date | None) -> bool:
        """Whether this date's period meets the closed range [start, end]."""
        lo = None if self.open == "before" else self.first_day
        hi = None if self.open == "after" else self.last_day
        before_start = start is not None and hi is not None and hi < start
        after_end = end is not None and lo is not None and lo > end
        return not (before_start or after_end)


@functools.lru_cache(maxsize=4096)
def _parse_cached(text: str) -> OccurredDate:
    # dateutil costs ~250 µs a call and a story repeats its dates: imports parse each
    # distinct text once. Values are frozen, so sharing them is safe.
    return OccurredDate._parse(text)


@functools.lru_cache(maxsize=65536)
def _canonical_cached(text: str) -> OccurredDate:
    # Projections read the same stored dates over and over (sort key, period, display).
    return OccurredDate._from_canonical(text)

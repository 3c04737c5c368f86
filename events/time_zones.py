"""Time zones as reports write them: UTC offsets, IANA names and abbreviations.

An abbreviation is read only when the tz database (through `zoneinfo`) gives it one
offset in the year in question: "JST" is +09:00, while "IST" is +05:30 in India, +01:00
in Ireland and +02:00 in Israel, and "CST" is both -06:00 and +08:00; those are refused.
No hand-kept table: abbreviations the tz database does not use ("ICT") are refused too.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime, timedelta

from events.errors import InvalidInput

__all__ = ["offset_of", "ACCEPTED"]

ACCEPTED = (
    "write a UTC offset (UTC+09:00, +0900), an IANA name (Asia/Tokyo) or an unambiguous abbreviation (JST, CET, EST)"
)

_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
_ABBREVIATION = re.compile(r"^[A-Z]{2,6}$")


def offset_of(zone: str, local: datetime) -> int:
    """Minutes east of UTC that `zone` means at the local date and time `local`."""
    name = zone.strip().strip("()")
    if name.upper() in ("Z", "UTC", "GMT"):
        return 0
    if m := _OFFSET.match(name):
        sign = -1 if m.group(1) == "-" else 1
        hours, minutes = int(m.group(2)), int(m.group(3) or 0)
        if hours > 14 or minutes > 59:
            raise InvalidInput(f"time zone {zone!r} is not a UTC offset; {ACCEPTED}")
        return sign * (hours * 60 + minutes)
    if "/" in name:
        return _iana_offset(name, local, zone)
    if _ABBREVIATION.match(name):
        offsets = _abbreviations(local.year).get(name, set())
        if len(offsets) == 1:
            return next(iter(offsets))
        if offsets:
            listed = ", ".join(_offset_text(o) for o in sorted(offsets))
            raise InvalidInput(f"time zone {zone!r} is ambiguous ({listed}); {ACCEPTED}")
    raise InvalidInput(f"unknown time zone {zone!r}; {ACCEPTED}")


def _offset_text(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _iana_offset(name: str, local: datetime, zone: str) -> int:
    import zoneinfo  # here, not at import: it reads the platform's paths, and most dates name no zone

    try:
        tz = zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {zone!r}; {ACCEPTED}") from None
    offsets = {_minutes(local.replace(tzinfo=tz, fold=fold).utcoffset()) for fold in (0, 1)}
    if len(offsets) > 1:  # a clock change repeats or skips this local time
        listed = " or ".join(_offset_text(o) for o in sorted(offsets))
        raise InvalidInput(f"{local:%H:%M} in {name} on that day is {listed}; write the UTC offset")
    return offsets.pop()


def _minutes(delta: timedelta | None) -> int:
    return int((delta or timedelta(0)).total_seconds() // 60)


@functools.lru_cache(maxsize=64)
def _abbreviations(year: int) -> dict[str, set[int]]:
    """Each abbreviation the tz database uses in `year`, with the offsets it stands for."""
    import zoneinfo

    found: dict[str, set[int]] = {}
    year = min(max(year, 1900), 2100)
    for key in zoneinfo.available_timezones():
        try:
            tz = zoneinfo.ZoneInfo(key)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # pragma: no cover - broken install
            continue
        for month in (1, 4, 7, 10):
            moment = datetime(year, month, 1, 12, tzinfo=tz)
            abbreviation = moment.tzname()
            if abbreviation and _ABBREVIATION.match(abbreviation):
                found.setdefault(abbreviation, set()).add(_minutes(moment.utcoffset()))
    return found

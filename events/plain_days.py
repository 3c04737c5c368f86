"""The one form most reports write a date in, "6 July 2024", read on its own.

`events.date_reading` reads every form; this module reads only the plainest, with no
import beyond `re` and `datetime`, so that recording a development dated so loads neither
the reader nor `events.dates` (issue 16's row "one `add`"). The date reader uses it too:
one month table, one reading of that form.
"""

from __future__ import annotations

import re
from datetime import date

__all__ = ["MONTH_NAMES", "MONTHS", "plain_day"]

MONTH_NAMES = "January February March April May June July August September October November December".split()
# A month's name, its three letters and "sept", lower-cased: its number.
MONTHS = {name.lower(): i for i, name in enumerate(MONTH_NAMES, 1)}
MONTHS.update({name[:3].lower(): i for i, name in enumerate(MONTH_NAMES, 1)})
MONTHS["sept"] = 9

# "6 July 2024" written exactly so (ASCII digits, one space between): most reports' form.
_PLAIN_DAY_MONTH_YEAR = re.compile(r"([0-9]{1,2}) ([A-Za-z]+) ([0-9]{4})")


def plain_day(text: str) -> str | None:
    """`str(read_date(text))` of a date written like "6 July 2024" (ASCII digits, single
    spaces, a month name or its three letters) that exists, read without the reader's
    layers (an import reads a date a line, and a story seldom repeats one); None for
    anything else, which `read_date` reads or refuses in its own words."""
    m = _PLAIN_DAY_MONTH_YEAR.fullmatch(text)
    if m is None:
        return None
    month = MONTHS.get(m.group(2).lower())
    year, day = int(m.group(3)), int(m.group(1))
    if month is None or year == 0:
        return None
    try:
        date(year, month, day)
    except ValueError:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"

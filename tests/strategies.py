"""Hypothesis strategies shared by the tests of dates (unit) and of the views' filter."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import strategies as st

from events import InvalidInput, OccurredDate
from events.dates import Precision, Time


@st.composite
def points(
    draw: st.DrawFn, timed: bool = True, near: date | None = None, like: Precision | None = None
) -> OccurredDate:
    """A single date; with `near`, one that often shares its year and month (as ranges do)."""
    d = draw(st.dates(min_value=date(1000, 1, 1), max_value=date(2999, 12, 31)))
    if near is not None and draw(st.booleans()):
        d = min(near + timedelta(days=draw(st.integers(0, 70))), date(2999, 12, 31))
    precision = draw(st.sampled_from(list(Precision) if timed else [Precision.YEAR, Precision.MONTH, Precision.DAY]))
    if like is not None and draw(st.booleans()):
        precision = like
    month = d.month if precision is not Precision.YEAR else None
    day = d.day if precision in (Precision.DAY, Precision.TIME) else None
    time = None
    qualifier = draw(st.sampled_from(["", "", "", "?", "~", "%"]))
    if precision is Precision.TIME:
        offset = draw(st.none() | st.integers(-12 * 4, 14 * 4).map(lambda q: q * 15))
        time = Time(draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 59)), offset)
        qualifier = ""
    return OccurredDate(d.year, month, day, None, time, qualifier)


@st.composite
def occurred_dates(draw: st.DrawFn) -> OccurredDate:
    shape = draw(st.sampled_from(["point", "after", "before", "closed"]))
    start = draw(points(timed=shape == "point"))
    if shape == "point":
        return start
    if shape in ("after", "before"):
        return OccurredDate(start.year, start.month, start.day, shape, start.time, start.qualifier)
    end = draw(points(timed=False, near=start.first_day, like=start.precision))
    try:
        return OccurredDate(start.year, start.month, start.day, None, start.time, start.qualifier, end)
    except InvalidInput:
        return start

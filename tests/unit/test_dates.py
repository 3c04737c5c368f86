"""OccurredDate: reading what people write, keeping its precision, ordering and ranges."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events import InvalidInput, OccurredDate, Precision


@pytest.mark.parametrize("text", ["July 6, 2024", "6 Jul 2024", "2024-07-06", "6 July 2024", " 2024-07-06 "])
def test_day_precision(text: str) -> None:
    d = OccurredDate.parse(text)
    assert str(d) == "2024-07-06"
    assert d.precision is Precision.DAY
    assert (d.year, d.month, d.day, d.open) == (2024, 7, 6, None)


@pytest.mark.parametrize("text", ["2024-07", "July 2024", "Jul 2024"])
def test_month_precision_never_gains_a_day(text: str) -> None:
    d = OccurredDate.parse(text)
    assert str(d) == "2024-07"
    assert d.precision is Precision.MONTH
    assert d.day is None
    # Not quietly turned into the first of the month.
    assert str(d) != "2024-07-01"
    assert d != OccurredDate(2024, 7, 1)


def test_year_precision() -> None:
    d = OccurredDate.parse("1994")
    assert str(d) == "1994"
    assert d.precision is Precision.YEAR
    assert (d.month, d.day, d.open) == (None, None, None)


def test_since_is_open_after() -> None:
    d = OccurredDate.parse("since 1994")
    assert str(d) == "1994/.."
    assert d.open == "after"
    assert d.precision is Precision.YEAR
    assert d.point == "1994"


def test_before_is_open_before() -> None:
    d = OccurredDate.parse("before July 2024")
    assert str(d) == "../2024-07"
    assert d.open == "before"
    assert d.precision is Precision.MONTH
    assert d.point == "2024-07"


@pytest.mark.parametrize(
    "canonical", ["2024", "2024-07", "2024-07-06", "1994/..", "../2024-07", "2024-07-06/..", "../1994"]
)
def test_canonical_round_trip(canonical: str) -> None:
    d = OccurredDate.from_canonical(canonical)
    assert str(d) == canonical
    assert OccurredDate.parse(canonical) == d
    assert OccurredDate.parse(str(d)) == d


@pytest.mark.parametrize("text", ["6 July 2024", "July 2024", "1994", "since 1994", "before July 2024"])
def test_parse_of_canonical_text_is_stable(text: str) -> None:
    d = OccurredDate.parse(text)
    assert OccurredDate.parse(str(d)) == d
    assert OccurredDate.from_canonical(str(d)) == d


def test_sort_key_orders_coarser_first() -> None:
    texts = ["2024-07-06", "2024-07-01", "2024", "2024-07"]
    ordered = sorted((OccurredDate.parse(t) for t in texts), key=lambda d: d.sort_key)
    assert [str(d) for d in ordered] == ["2024", "2024-07", "2024-07-01", "2024-07-06"]
    keys = [d.sort_key for d in ordered]
    assert keys == sorted(keys)
    assert len(set(keys)) == 4


def test_sort_key_across_years_and_open_intervals() -> None:
    texts = ["2024-07-06", "since 1994", "2023-12-31", "before July 2024", "2025"]
    ordered = sorted((OccurredDate.parse(t) for t in texts), key=lambda d: d.sort_key)
    # An open interval sorts with its known end.
    assert [str(d) for d in ordered] == ["1994/..", "2023-12-31", "../2024-07", "2024-07-06", "2025"]


@pytest.mark.parametrize(
    ("text", "humane"),
    [
        ("2024-07-06", "6 July 2024"),
        ("2024-07", "July 2024"),
        ("1994", "1994"),
        ("since 1994", "since 1994"),
        ("since July 2024", "since July 2024"),
        ("before July 2024", "before July 2024"),
        ("before 6 July 2024", "before 6 July 2024"),
        ("since 6 July 2024", "on or after 6 July 2024"),
    ],
)
def test_humane(text: str, humane: str) -> None:
    assert OccurredDate.parse(text).humane() == humane


@pytest.mark.parametrize("text", ["2024-07-06", "2024-07", "1994", "since 1994", "before July 2024"])
def test_humane_text_reads_back_to_the_same_date(text: str) -> None:
    d = OccurredDate.parse(text)
    assert OccurredDate.parse(d.humane()) == d


def test_first_and_last_day() -> None:
    assert OccurredDate.parse("2024-02").first_day == date(2024, 2, 1)
    assert OccurredDate.parse("2024-02").last_day == date(2024, 2, 29)
    assert OccurredDate.parse("2024-12").last_day == date(2024, 12, 31)
    assert OccurredDate.parse("2023").last_day == date(2023, 12, 31)
    assert OccurredDate.parse("2024-07-06").last_day == date(2024, 7, 6)


def test_overlaps_day() -> None:
    d = OccurredDate.parse("2024-07-06")
    assert d.overlaps(date(2024, 7, 6), date(2024, 7, 6))
    assert d.overlaps(date(2024, 7, 1), date(2024, 7, 31))
    assert not d.overlaps(date(2024, 7, 7), None)
    assert not d.overlaps(None, date(2024, 7, 5))
    assert d.overlaps(None, None)


def test_overlaps_month_covers_the_whole_month() -> None:
    d = OccurredDate.parse("July 2024")
    assert d.overlaps(date(2024, 7, 31), date(2024, 8, 5))  # meets the last day
    assert d.overlaps(date(2024, 6, 1), date(2024, 7, 1))  # meets the first day
    assert not d.overlaps(date(2024, 8, 1), None)
    assert not d.overlaps(None, date(2024, 6, 30))


def test_overlaps_year() -> None:
    d = OccurredDate.parse("1994")
    assert d.overlaps(date(1994, 12, 31), None)
    assert not d.overlaps(date(1995, 1, 1), None)


def test_overlaps_open_intervals() -> None:
    since = OccurredDate.parse("since 1994")
    assert since.overlaps(date(2020, 1, 1), date(2020, 12, 31))
    assert since.overlaps(date(1994, 6, 1), date(1994, 6, 1))
    assert not since.overlaps(None, date(1993, 12, 31))

    before = OccurredDate.parse("before July 2024")
    assert before.overlaps(date(1900, 1, 1), date(1900, 1, 2))
    assert before.overlaps(date(2024, 7, 31), None)
    assert not before.overlaps(date(2024, 8, 1), None)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "tomorrowish", "July 6", "2024-13", "2024-02-30", "29 February 2023", "since", "../2024/.."],
)
def test_bad_input_raises(text: str) -> None:
    with pytest.raises(InvalidInput):
        OccurredDate.parse(text)


def test_non_text_raises() -> None:
    with pytest.raises(InvalidInput):
        OccurredDate.parse(None)  # type: ignore[arg-type]


def test_invalid_input_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        OccurredDate.parse("tomorrowish")


@pytest.mark.parametrize("text", ["2024-13", "2024-02-30", "../2024/..", "2024/07/06", "24-07"])
def test_from_canonical_rejects(text: str) -> None:
    with pytest.raises(InvalidInput):
        OccurredDate.from_canonical(text)


def test_constructor_validates() -> None:
    with pytest.raises(InvalidInput):
        OccurredDate(2024, None, 6)
    with pytest.raises(InvalidInput):
        OccurredDate(2024, 2, 30)
    with pytest.raises(InvalidInput):
        OccurredDate(2024, 7, 6, "sideways")


@st.composite
def occurred_dates(draw: st.DrawFn) -> OccurredDate:
    d = draw(st.dates(min_value=date(1000, 1, 1), max_value=date(2999, 12, 31)))
    precision = draw(st.sampled_from(list(Precision)))
    open_ = draw(st.sampled_from([None, "after", "before"]))
    month = d.month if precision is not Precision.YEAR else None
    day = d.day if precision is Precision.DAY else None
    return OccurredDate(d.year, month, day, open_)


@settings(database=None, max_examples=300, deadline=None)
@given(occurred_dates())
def test_canonical_text_round_trips_with_precision(d: OccurredDate) -> None:
    again = OccurredDate.parse(str(d))
    assert str(again) == str(d)
    assert again == d
    assert again.precision is d.precision

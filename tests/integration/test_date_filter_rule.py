"""One rule for order and overlap: the views' SQL filter and sort agree with the domain's
`OccurredDate.overlaps` and `sort_key` for any dates and any --from/--to range."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events import OccurredDate
from tests.strategies import occurred_dates
from timeline.store import Sql
from timeline.views.project import period, sort_key
from timeline.views.queries import Filter, timeline
from timeline.views.tables import CREATE


@pytest.fixture(scope="module")
def sql() -> Iterator[Sql]:
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Sql.scratch(Path(tmp) / "views.sqlite")
        with scratch.transaction(commit=True) as c:
            for statement in CREATE:
                scratch.execute(c, statement)
        yield scratch
        scratch.close()


_days = st.none() | st.dates(min_value=date(990, 1, 1), max_value=date(3010, 12, 31))


@settings(database=None, max_examples=150, deadline=None)
@given(dates=st.lists(occurred_dates(), min_size=1, max_size=8), start=_days, end=_days)
def test_the_sql_filter_and_order_agree_with_the_domain_rule(
    sql: Sql, dates: list[OccurredDate], start: date | None, end: date | None
) -> None:
    with sql.transaction(commit=True) as c:
        sql.execute(c, "DELETE FROM timeline_developments")
        for i, d in enumerate(dates):
            doc = {"id": str(i), "occurred": str(d)}
            first, last = period(doc)
            stored = {"id": str(i), "key": str(i), "kind": "visit", "recorded": "", "first_position": i,
                      "corrections": [], "retracted": None, "fields": {"title": str(i), "occurred": str(d)}}  # fmt: skip
            sql.execute(
                c,
                "INSERT INTO timeline_developments (id, kind, sort_key, first_position, last_position,"
                " start_day, end_day, retracted, doc) VALUES (?,?,?,?,?,?,?,?,?)",
                [str(i), "visit", sort_key(doc), i, i, first, last, 0, json.dumps(stored)],
            )
    found = [doc["id"] for doc in timeline(sql, Filter(start=start, end=end))]
    expected = sorted(
        (str(i) for i, d in enumerate(dates) if d.overlaps(start, end)),
        key=lambda i: (dates[int(i)].sort_key, int(i)),
    )
    assert found == expected

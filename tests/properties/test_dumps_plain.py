"""The views' quick document encoding (`project.dumps_plain`, orjson) writes exactly what
the exact one (`project.dumps`, the standard library's encoder) writes, for every value
`project.plain` lets through; `plain` refuses every float (Python and orjson spell some
differently); and a document made from an event holding a float is stored by the exact
encoder, in a catch-up as in a rebuild."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from timeline.views import project as p
from timeline.views.writer import ViewWriter

LEAVES = st.one_of(st.text(), st.booleans(), st.none(), st.integers(-(2**70), 2**70))
VALUES = st.recursive(LEAVES, lambda inner: st.one_of(st.lists(inner), st.dictionaries(st.text(), inner)),
                      max_leaves=20)  # fmt: skip


def document(fields: dict[str, Any], **more: Any) -> dict[str, Any]:
    event = SimpleNamespace(originator_id=uuid.uuid4(), timestamp=datetime(2024, 7, 7, tzinfo=UTC),
                            originator_version=1, key="k", kind="visit", fields=fields)  # fmt: skip
    doc = p._reported(event, None, 1)  # type: ignore[arg-type]
    doc.update(more)
    return doc


@given(VALUES, VALUES)
@example("\ud800", None)  # a lone surrogate: orjson refuses it, the exact way writes it
@example(2**64, {"a": -(2**63) - 1})  # whole numbers orjson refuses
@example('\x00\x1f\x7f\u2028\u2029"\\/é上', [])
def test_dumps_plain_is_dumps_for_plain_values(value: Any, other: Any) -> None:
    doc = document({"title": "t", "occurred": "2024-07-07", "extra": value}, more=other)
    assert p.plain(value) and p.plain(other)
    assert p.dumps_plain(doc) == p.dumps(doc)


@given(VALUES, st.floats(allow_nan=True, allow_infinity=True))
@example([], 1e16)
@example([], math.nan)
def test_a_float_anywhere_is_not_plain(value: Any, number: float) -> None:
    for holding in ([value, number], {"a": value, "b": number}, [{"x": [number]}]):
        assert not p.plain(holding)
    event = SimpleNamespace(originator_id=uuid.uuid4(), timestamp=datetime(2024, 7, 7, tzinfo=UTC),
                            originator_version=1, fields={"n": [value, number]})  # fmt: skip
    assert not p.plain_event(event)
    assert p.plain_event(SimpleNamespace(**{**vars(event), "fields": {"n": value}}))


def test_objects_are_not_plain() -> None:
    for value in (uuid.uuid4(), datetime(2024, 1, 1), (1, 2), {1, 2}, b"x", 1.0):
        assert not p.plain(value) and not p.plain({"a": [value]})


class _Sql:
    """Records what the writer sends (SQLite's statements)."""

    postgres = False
    schema = None

    def __init__(self) -> None:
        self.written: dict[str, list[Any]] = {}

    def executemany(self, c: Any, statement: str, rows: Any) -> None:
        self.written.setdefault(statement.split()[2], []).extend(rows)

    insert_rows = lambda self, c, statement, rows, types: self.executemany(c, statement, rows)  # noqa: E731

    def rows(self, c: Any, statement: str, params: Any = ()) -> list[Any]:
        return []

    def scalar(self, c: Any, statement: str, params: Any = ()) -> Any:
        return 0

    def execute(self, c: Any, statement: str, params: Any = ()) -> None:
        pass


def test_a_document_with_a_float_is_stored_by_the_exact_encoder() -> None:
    """1e16 is "1e+16" to the standard library and "1e16" to orjson: the stored text must
    stay the exact encoder's."""
    from eventsourcing.persistence import Notification

    from events import Development, read_report

    report = read_report({"kind": "visit", "title": "A visit", "occurred": "2024-07-07", "place": "Phnom Penh",
                          "visitors": ["A"], "hosts": ["B"], "sources": ["https://e.org/1"]})  # fmt: skip
    plain_event = Development.record(report).collect_events()[0]
    other = read_report({"kind": "visit", "title": "B visit", "occurred": "2024-07-08", "place": "Siem Reap",
                         "visitors": ["C"], "hosts": ["D"], "sources": ["https://e.org/2"]})  # fmt: skip
    floating = Development.record(other).collect_events()[0]
    object.__setattr__(floating, "fields", {**floating.fields, "weight": 1e16})
    batch = [(Notification(id=i, originator_id=e.originator_id, originator_version=1, topic="t", state=b""), e)
             for i, e in enumerate([plain_event, floating], 1)]  # fmt: skip
    sql = _Sql()
    ViewWriter(sql).apply(None, batch)  # type: ignore[arg-type]
    texts = {r[0]: r[-1] for r in sql.written["timeline_developments"]}
    assert '"weight":1e+16' in texts[str(floating.originator_id)]
    docs = [p.project(None, e, i) for i, e in enumerate([plain_event, floating], 1)]
    assert [texts[str(e.originator_id)] for e in (plain_event, floating)] == [p.dumps(d) for d in docs if d]  # type: ignore[misc]


@given(st.datetimes(timezones=st.one_of(st.none(), st.timezones(), st.just(UTC))))
def test_iso_is_the_exact_spelling(ts: datetime) -> None:
    """`project.iso`'s quick spelling of a UTC time is the one it always wrote."""
    exact = (ts.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z" if ts.utcoffset() == timedelta(0)
             else ts.isoformat(timespec="microseconds"))  # fmt: skip
    assert p.iso(ts) == exact


def _stored_as_it_was(doc: dict[str, Any]) -> dict[str, Any]:
    kept = {k: v for k, v in doc.items() if k not in p._LEFT_OUT}
    for k, implied in p._IMPLIED.items():
        if k in kept and kept[k] == implied(doc):
            del kept[k]
    return kept


ODD = st.one_of(st.none(), st.booleans(), st.integers(-2, 3), st.just(1.0), st.just([]), st.just({}), st.text(max_size=3),
                st.lists(st.integers(0, 2), max_size=2))  # fmt: skip


@given(st.dictionaries(st.sampled_from(["corrections", "retracted", "updated", "last_position", "version", "x"]), ODD),
       ODD, ODD)  # fmt: skip
@example({"corrections": [], "retracted": None, "updated": "a", "last_position": 1, "version": True}, "a", 1)
def test_stored_leaves_out_what_it_always_left_out(more: dict[str, Any], recorded: Any, first: Any) -> None:
    doc = {**document({"title": "t", "occurred": "2024-07-07"}), "recorded": recorded, "first_position": first}
    doc.update(more)
    assert list(p.stored(doc).items()) == list(_stored_as_it_was(doc).items())


def test_a_new_development_s_document_is_the_one_document_made() -> None:
    """`project`'s one-go document of a `Reported` event: the keys, order and values
    `_document` gives the head it starts from, for every development of the seed story."""
    import json
    from pathlib import Path

    from events import Development, read_report

    seed = Path(__file__).resolve().parents[2] / "examples" / "japan-cambodia-2024.jsonl"
    lines = [json.loads(line) for line in seed.read_text().splitlines() if line.strip()]
    reports = [read_report(obj) for obj in lines if obj.get("op", "add") == "add"]
    assert len(reports) > 5
    for position, report in enumerate(reports, 1):
        event = Development.record(report).collect_events()[0]
        stamp = p.iso(event.timestamp)
        head = {"id": str(event.originator_id), "key": event.key, "kind": event.kind, "recorded": stamp,
                "first_position": position, "corrections": [], "retracted": None}  # fmt: skip
        exact = p._document(head, dict(event.fields), event, position, stamp)
        assert list(p.project(None, event, position).items()) == list(exact.items())  # type: ignore[union-attr]


@given(VALUES, st.floats(allow_nan=True, allow_infinity=True))
@example("\ud800", math.nan)  # what orjson refuses to read goes the exact way
@example(2**70, -0.0)
@example('\x00\x1f\x7f\u2028"\\/é上', 1e16)
def test_loads_reads_back_what_dumps_wrote_as_json_does(value: Any, number: float) -> None:
    """`project.loads` reads a stored document with orjson, falling back to json: either
    way the document json itself reads (NaN compared as NaN)."""
    import json

    doc = document({"title": "t", "occurred": "2024-07-07", "extra": value, "n": [number]})
    text = p.dumps(doc)
    got = p.loads(text, doc["id"], doc["kind"], doc["first_position"])
    want = json.loads(text)
    want.update(id=doc["id"], kind=doc["kind"], first_position=doc["first_position"])
    assert json.dumps(got, sort_keys=True) == json.dumps(p.loaded(want), sort_keys=True)

"""The import writes exactly the events the one-at-a-time commands write.

The import makes its events in its checking pass and stores them later through the
recorder, without aggregates; these tests hold it to the same stored events (apart from
the timestamp) as `Timeline.record` / `correct` / `retract` / `add_source`, on both back
ends, including versions after changes to developments already in the log.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from events import read_report
from timeline import config, importer
from timeline.app import Timeline
from timeline.errors import TimelineError
from timeline.importer import import_lines
from timeline.store import iter_notifications

FIRST = [
    {"kind": "statement", "id": "s1", "title": "Minister speaks", "occurred": "6 July 2024",
     "speaker": "Hun Manet", "quote": "We welcome the support.", "topics": ["aid"],
     "sources": ["https://news.example.org/1"]},
    {"kind": "pledge", "id": "p1", "title": "Japan pledges aid", "occurred": "2024-07",
     "donor": "Japan", "recipient": "Cambodia", "amount": {"amount": "103000000", "currency": "USD"},
     "sources": [{"url": "https://news.example.org/2", "publisher": "CamboJA News"}]},
]  # fmt: skip
SECOND = [
    {"op": "correct", "id": "p1", "set": {"amount": {"amount": "104200000", "currency": "USD"}},
     "reason": "Parts add up to more", "source": "https://news.example.org/3"},
    {"kind": "visit", "id": "v1", "title": "Minister visits", "occurred": "2024-07-06",
     "visitors": ["Yoko Kamikawa"], "hosts": ["Hun Manet"], "sources": ["https://news.example.org/4"]},
    {"op": "source", "id": "v1", "source": "https://news.example.org/5"},
    {"op": "correct", "id": "v1", "set": {"place": "Phnom Penh"}, "reason": "Place confirmed"},
    {"op": "source", "id": "s1", "source": {"url": "https://news.example.org/6", "publisher": "Kyodo"}},
    {"op": "retract", "id": "s1", "reason": "Misattributed"},
    {"op": "correct", "id": "p1", "set": {"summary": "A package of grants."}, "reason": "Detail"},
]  # fmt: skip


def _lines(items: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(i) for i in items]


def _one_at_a_time(app: Timeline, items: list[dict[str, Any]]) -> None:
    for item in items:
        op = item.get("op", "add")
        if op == "add":
            app.record(read_report(item))
        elif op == "correct":
            app.correct(item["id"], item["set"], item["reason"], item.get("source"))
        elif op == "retract":
            app.retract(item["id"], item["reason"], item.get("source"))
        else:
            app.add_source(item["id"], item["source"])


def _stored(app: Timeline) -> list[tuple[Any, ...]]:
    out = []
    for n in iter_notifications(app.recorder):
        state = dict(vars(app.mapper.to_domain_event(n)))
        state.pop("timestamp")
        out.append((str(n.originator_id), n.originator_version, n.topic, state))
    return out


def test_import_stores_what_the_commands_store(target: str, tmp_path: Path) -> None:
    imported = Timeline.open(config.resolve(target))
    reference = Timeline.open(config.resolve(str(tmp_path / "reference.db")))
    try:
        # Two imports: the second changes developments the first left in the log.
        first = import_lines(imported, _lines(FIRST))
        second = import_lines(imported, _lines(SECOND))
        assert (first.new, second.new, second.corrections, second.retractions, second.sources) == (2, 1, 3, 1, 2)
        _one_at_a_time(reference, FIRST + SECOND)

        got, want = _stored(imported), _stored(reference)
        assert got == want
        assert [v for _, v, _, _ in got] == [1, 1, 2, 1, 2, 3, 2, 3, 3]
        # And the library reads the imported log back into the same aggregates.
        for ref in ("s1", "p1", "v1"):
            assert imported.development(ref) == reference.development(ref)
    finally:
        imported.close()
        reference.close()


def _between_the_passes(monkeypatch: pytest.MonkeyPatch, target: str, meanwhile: Callable[[Timeline], Any]) -> None:
    """Another process writes to the log after pass 1 checked the file, before pass 2."""
    write = importer._write

    def racing(*args: Any, **kwargs: Any) -> None:
        other = Timeline.open(config.resolve(target))
        try:
            meanwhile(other)
        finally:
            other.close()
        write(*args, **kwargs)

    monkeypatch.setattr(importer, "_write", racing)


def test_a_writer_between_the_passes_stops_the_import_with_one_clear_error(
    target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = Timeline.open(config.resolve(target))
    try:
        import_lines(app, _lines(FIRST))
        # Someone corrects p1 after pass 1 checked the file's correction of it.
        _between_the_passes(monkeypatch, target, lambda other: other.correct("p1", {"summary": "Meanwhile"}, "Race"))
        with pytest.raises(TimelineError, match=r"the first 0 of its events were stored"):
            import_lines(app, _lines(SECOND))
        assert app.event_count() == 3  # the first import and the racing correction, nothing of SECOND
    finally:
        app.close()


def test_recorded_times_follow_log_positions_when_someone_adds_between_the_passes(
    target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = Timeline.open(config.resolve(target))
    try:
        meanwhile = read_report({**FIRST[0], "id": "meanwhile", "title": "Meanwhile"})
        _between_the_passes(monkeypatch, target, lambda other: other.record(meanwhile))
        import_lines(app, _lines(FIRST + SECOND))
        stamps = [app.mapper.to_domain_event(n).timestamp for n in iter_notifications(app.recorder)]
        assert len(stamps) == 1 + len(FIRST) + len(SECOND)  # every event stored
        assert stamps == sorted(stamps)
    finally:
        app.close()


def _stored_bytes(app: Timeline) -> list[tuple[Any, ...]]:
    """Each stored row as it is in the store: the state's bytes after its time stamp
    (which the library always puts first)."""
    out = []
    for n in iter_notifications(app.recorder):
        stamp, rest = n.state.split(b"},", 1)
        assert stamp.startswith(b'{"timestamp":{"_type_":"datetime_iso","_data_":')
        out.append((str(n.originator_id), n.originator_version, n.topic, rest))
    return out


# A pledge whose amount is an object whose keys are not in sorted order, corrected twice.
BOUNDED = {"kind": "pledge", "id": "p2", "title": "Japan pledges a loan", "occurred": "2024-07-06",
           "donor": "Japan", "recipient": "Cambodia", "amount": "up to 10 billion yen",
           "sources": [{"url": "https://news.example.org/7", "publisher": "Kyodo"}]}  # fmt: skip
BOUNDED_CHANGES = [
    {"op": "correct", "id": "p2", "set": {"amount": "up to 12 billion yen"}, "reason": "Revised"},
    {"op": "correct", "id": "p2", "set": {"amount": "at least 13 billion yen"}, "reason": "Revised again",
     "source": {"url": "https://news.example.org/8", "publisher": "NHK"}},
]  # fmt: skip


def test_the_same_change_stores_the_same_bytes_however_it_is_made(target: str, tmp_path: Path) -> None:
    """`correct` on the command line, a correction imported with the development, and one
    imported later store byte-identical rows (the `before` values' key order included)."""
    apps = [Timeline.open(config.resolve(t)) for t in (target, str(tmp_path / "b.db"), str(tmp_path / "c.db"))]
    by_command, in_one_file, in_two_files = apps
    try:
        _one_at_a_time(by_command, [BOUNDED, *BOUNDED_CHANGES])
        import_lines(in_one_file, _lines([BOUNDED, *BOUNDED_CHANGES]))
        import_lines(in_two_files, _lines([BOUNDED, BOUNDED_CHANGES[0]]))
        import_lines(in_two_files, _lines(BOUNDED_CHANGES[1:]))
        want = _stored_bytes(by_command)
        assert b'"before":{"amount":"10000000000","currency":"JPY","bound":"at-most"}' in want[1][3]
        assert _stored_bytes(in_one_file) == want
        assert _stored_bytes(in_two_files) == want
    finally:
        for app in apps:
            app.close()


@pytest.mark.parametrize("story", ["japan-cambodia-2024.jsonl", "great-lakes-water-2024.jsonl"])
def test_every_imported_row_is_what_the_library_would_store(story: str, tmp_path: Path) -> None:
    """The import encodes its events itself, once: each row decodes and re-encodes through
    the library's mapper to the very same bytes."""
    app = Timeline.open(config.resolve(str(tmp_path / "t.db")))
    try:
        lines = (Path(__file__).parents[2] / "examples" / story).read_text().splitlines()
        import_lines(app, lines)
        rows = list(iter_notifications(app.recorder))
        assert len(rows) >= 10
        for n in rows:
            again = app.mapper.to_stored_event(app.mapper.to_domain_event(n))
            assert (again.originator_id, again.originator_version, again.topic, again.state) == (
                n.originator_id, n.originator_version, n.topic, n.state)  # fmt: skip
    finally:
        app.close()


def test_an_import_leaves_the_garbage_collector_as_it_found_it(tmp_path: Path) -> None:
    """An import collects cycles less often while it runs (`importer.GC_THRESHOLD`), and
    afterwards as before, whether it stored its lines or refused them."""
    import gc

    before = gc.get_threshold()
    app = Timeline.open(config.resolve(str(tmp_path / "t.db")))
    try:
        seen: list[tuple[int, ...]] = []
        import_lines(app, _lines(FIRST), progress=lambda label, total: _noting(seen))
        assert seen and seen[0][0] == importer.GC_THRESHOLD
        assert gc.get_threshold() == before and gc.get_freeze_count() == 0
        with pytest.raises(TimelineError):
            import_lines(app, [*_lines(SECOND), "{not json"])
        assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    finally:
        app.close()


def _noting(seen: list[tuple[int, ...]]) -> Any:
    import contextlib
    import gc

    seen.append(gc.get_threshold())
    return contextlib.nullcontext(lambda n: None)

"""Lines read in worker processes give the same log and the same errors as lines read in
the importing process: the same rows (apart from time stamps), the same counts, and the
first error in file order, whichever process met it and however the work was spread."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from timeline import config, importer
from timeline.app import Timeline
from timeline.errors import TimelineError
from timeline.import_pool import WORKERS_VAR
from timeline.importer import import_lines
from timeline.store import iter_notifications

pytestmark = pytest.mark.slow  # the workers are processes

LINES = 3_500  # and one more line: four chunks: the first is read in this process, the others by the workers


def _story() -> list[str]:
    lines: list[dict[str, Any]] = []
    added: list[int] = []
    for i in range(LINES):
        if i % 7 == 6:  # a correction of a development some chunks back
            target = added[len(added) * 5 // 7]
            lines.append({"op": "correct", "id": f"d{target}", "set": {"amount": f"up to {i} million yen"},
                          "reason": f"Revised {i}"})  # fmt: skip
        elif i % 11 == 10:
            lines.append({"op": "source", "id": f"d{added[-1]}", "source": f"https://news.example.org/s/{i}"})
        else:
            added.append(i)
            lines.append({"kind": "pledge", "id": f"d{i}", "title": f"Pledge {i}", "occurred": "2024-07-06",
                          "donor": "Japan", "recipient": "Cambodia", "amount": f"about {i + 1} million yen",
                          "sources": [{"url": f"https://news.example.org/{i}", "publisher": "Kyodo"}]})  # fmt: skip
    lines.append(lines[0])  # a repeat of the first line, read by a worker
    return [json.dumps(x) for x in lines]


def _rows(app: Timeline) -> list[tuple[Any, ...]]:
    return [(n.originator_id, n.originator_version, n.topic, n.state.split(b"},", 1)[1])
            for n in iter_notifications(app.recorder)]  # fmt: skip


def _import(path: Path, lines: Any, monkeypatch: pytest.MonkeyPatch, workers: int) -> Any:
    monkeypatch.setenv(WORKERS_VAR, str(workers))
    monkeypatch.setattr(importer, "WORKERS_AFTER", 1)  # the workers start at the second chunk
    app = Timeline.open(config.resolve(str(path)))
    try:
        return import_lines(app, lines), _rows(app)
    except TimelineError as e:
        return str(e), _rows(app)
    finally:
        app.close()


def test_workers_store_what_one_process_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    story = _story()
    alone = _import(tmp_path / "alone.db", story, monkeypatch, 0)
    shared = _import(tmp_path / "shared.db", story, monkeypatch, 2)
    assert alone[0].lines == LINES + 1 and alone[0].existing == 1
    assert alone[0].corrections > 400 and alone[0].sources > 250
    assert shared == alone
    # Imported again: every line is already there, read against the log by the workers too.
    again = _import(tmp_path / "shared.db", story, monkeypatch, 2)
    assert again[0].existing == LINES + 1 and again[1] == alone[1]


def _not_utf8_at(lines: list[str], number: int) -> Iterator[str]:
    for i, line in enumerate(lines, 1):
        if i == number:
            raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")
        yield line


@pytest.mark.parametrize(
    ("broken", "want"),
    [
        ({2_700: "{nope"}, "line 2700: malformed JSON"),
        ({1_500: '{"op": "retract", "id": "nowhere", "reason": "x"}', 2_500: "{nope"}, "line 1500: id: no development"),
        ({2_500: "{nope", 1_500: '{"op": "retract", "id": "nowhere", "reason": "x"}'}, "line 1500: id: no development"),
        ({3_100: '{"kind": "pledge"}', 3_300: "[1]"}, "line 3100: required for a pledge"),
        ({1_200: "{nope", "utf8": 3_000}, "line 1200: malformed JSON"),
        ({2_100: '{"op": "retract", "id": "nowhere", "reason": "x"}', "utf8": 3_050}, "line 2100: id: no development"),
        ({2_100: '{"op": "retract", "id": "nowhere", "reason": "x"}', "utf8": 3_000}, "line 3000: not UTF-8 text"),
        ({"utf8": 2_200}, "line 2200: not UTF-8 text"),
    ],
)
def test_the_first_error_in_file_order_is_reported_by_workers_too(
    broken: dict[Any, Any], want: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    story = _story()
    for number, line in broken.items():
        if number != "utf8":
            story[number - 1] = line
    results = []
    for workers in (0, 2):
        lines = _not_utf8_at(story, broken["utf8"]) if "utf8" in broken else story
        results.append(_import(tmp_path / f"w{workers}.db", lines, monkeypatch, workers))
    assert results[0] == results[1]
    message, rows = results[0]
    assert message.startswith(want) and message.endswith("; nothing was imported")
    assert rows == []


def test_a_small_file_starts_no_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []
    monkeypatch.setattr(importer, "ordered_map", _spy(importer.ordered_map, started))
    result, _ = _import(tmp_path / "t.db", _story()[:900], monkeypatch, 2)
    assert result.lines == 900 and started == [2]

    from timeline import import_pool

    monkeypatch.setattr(import_pool, "_Worker", _refuse)
    result, _ = _import(tmp_path / "u.db", _story()[:900], monkeypatch, 2)
    assert result.lines == 900


def _spy(real: Any, calls: list[int]) -> Any:
    def spy(func: Any, items: Any, count: int, start_after: int) -> Any:
        calls.append(count)
        return real(func, items, count, start_after)

    return spy


def _refuse(*args: Any) -> None:
    raise AssertionError("a worker was started for one chunk")


def test_where_no_worker_can_start_the_lines_are_read_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from timeline import import_pool

    def cannot(*args: Any) -> None:
        raise OSError(11, "Resource temporarily unavailable")

    alone = _import(tmp_path / "alone.db", _story(), monkeypatch, 0)
    monkeypatch.setattr(import_pool, "_Worker", cannot)
    assert _import(tmp_path / "here.db", _story(), monkeypatch, 2) == alone


def test_chunks_no_worker_is_ready_for_are_read_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers that never get ready (their interpreter starts slowly): every chunk is read
    in this process, in order, and nothing waits for them."""
    from timeline import import_pool

    monkeypatch.setattr(import_pool, "_READY", b"never sent")
    assert list(import_pool.ordered_map(_double, range(40), 2)) == [2 * i for i in range(40)]


def _double(n: int) -> int:
    return 2 * n


def test_a_worker_reads_by_the_import_s_conventions() -> None:
    """A date only a date order makes readable ("03/04/2024" with --date-order dmy) reads
    in a worker as in this process: the conventions go with each chunk (a worker once read
    by none, and refused every such line after the first chunks)."""
    import time

    from events.conventions import Conventions
    from timeline import import_pool

    line = json.dumps({"kind": "statement", "title": "Dated", "occurred": "03/04/2024", "speaker": "Hun Manet",
                       "quote": "Q.", "sources": ["https://example.org/d"]})  # fmt: skip
    item = (Conventions(date_order="dmy"), [(1, line)])
    here = importer._read_chunk(item)
    assert here[3] is None and here[2][0][2].state == importer._read_chunk(item)[2][0][2].state
    worker = import_pool._Worker(importer._read_chunk)
    try:
        deadline = time.monotonic() + 60
        while not worker.ready and time.monotonic() < deadline:
            time.sleep(0.02)
        assert worker.ready and worker.send(item)
        answer = worker.answer()
        assert answer is not None and answer != import_pool._FAILED
        assert import_pool.pickle.loads(answer) == here
    finally:
        worker.close()
    assert b'"occurred":"2024-04-03"' in here[2][0][2].state


def test_workers_start_only_beside_an_idle_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """By default: one worker per CPU when the load average leaves one idle, none on a
    busy machine (there they cost more than they save); the variable decides when set."""
    from timeline import import_pool

    monkeypatch.delenv(WORKERS_VAR, raising=False)
    monkeypatch.setattr(import_pool.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(import_pool.os, "getloadavg", lambda: (0.6, 3.0, 3.0))
    assert import_pool.workers() == 2
    monkeypatch.setattr(import_pool.os, "getloadavg", lambda: (1.8, 0.1, 0.1))
    assert import_pool.workers() == 0
    monkeypatch.setenv(WORKERS_VAR, "2")
    assert import_pool.workers() == 2
    monkeypatch.setattr(import_pool.os, "sched_getaffinity", lambda pid: {0})
    monkeypatch.delenv(WORKERS_VAR)
    monkeypatch.setattr(import_pool.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert import_pool.workers() == 0

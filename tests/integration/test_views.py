"""Read models on SQLite and PostgreSQL: order, filters, ledger, rebuild, crash safety, scale."""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import Tracking

from tests.conftest import SEED, Cli
from timeline import config
from timeline.app import Timeline
from timeline.views.runner import Views


def dev(kind: str = "visit", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"kind": kind, "sources": ["https://example.org/s"]}
    if kind == "visit":
        base["visitors"] = ["Japan"]
    return {**base, **fields}


def import_lines(run: Cli, *items: dict[str, Any]) -> None:
    run("import", "-", input="\n".join(json.dumps(i) for i in items) + "\n")


def test_timeline_order_is_precision_aware_then_recorded(run: Cli) -> None:
    import_lines(
        run,
        dev(id="day", title="Day", occurred="2024-07-06"),
        dev(id="month", title="Month", occurred="July 2024"),
        dev(id="year", title="Year", occurred="2024"),
        dev(id="first-of-month", title="First", occurred="2024-07-01"),
        dev(id="since", title="Since", occurred="since 1994"),
        dev(id="day-later-recorded", title="Day again", occurred="6 Jul 2024"),
    )
    keys = [d["key"] for d in run.json("show")]
    assert keys == ["since", "year", "month", "first-of-month", "day", "day-later-recorded"]


def test_filters_by_topic_actor_kind_and_occurred_range(run: Cli) -> None:
    run.import_seed()
    mine = run.json("show", "--topic", "mine-action")
    assert mine and all("mine-action" in d["topics"] for d in mine)
    ratana = run.json("show", "--actor", "Heng Ratana")
    assert ratana and all("Heng Ratana" in d["actors"] for d in ratana)
    both = run.json("show", "--actor", "heng-ratana", "--topic", "mine-action")
    assert {d["id"] for d in both} <= {d["id"] for d in ratana}
    pledges = run.json("show", "--kind", "pledge")
    assert len(pledges) == 5 and {d["kind"] for d in pledges} == {"pledge"}
    in_2023 = run.json("show", "--from", "2023", "--to", "2023")
    titles = [d["occurred"] for d in in_2023]
    assert "2023" in titles and "1994/.." in titles  # an open "since 1994" overlaps 2023
    assert all(not t.startswith("2024") for t in titles)
    assert run.json("show", "--topic", "no-such-topic") == []
    assert run("show", "--actor", "Nobody").stdout == ""


def test_topics_actors_and_state(run: Cli) -> None:
    run.import_seed()
    topics = {t["slug"]: t for t in run.json("topics")}
    assert {"aid", "infrastructure", "energy", "mine-action", "maritime", "diplomacy", "human-rights"} <= set(topics)
    actors = {a["slug"]: a for a in run.json("actors")}
    assert actors["yoko-kamikawa"]["name"] == "Yoko Kamikawa" and actors["japan"]["developments"] > 10
    state = run.json("state")
    assert state["developments"]["pledge"] == 5 and sum(state["developments"].values()) >= 14
    (package,) = state["ledger"]["packages"]
    assert (package["currency"], package["reported"]["amount"], package["parts_total"]["total"]) == (
        "USD",
        "103000000",
        "104200000",
    )
    assert [d["kind"] for d in state["discrepancies"]] == ["package-parts-mismatch"]
    assert "USD 103 million" in state["discrepancies"][0]["message"]
    assert "about USD 104.2 million" in state["discrepancies"][0]["message"]
    assert state["head"]["position"] == state["position"] == sum(1 for x in SEED.read_text().splitlines() if x.strip())
    assert "DISCREPANCY" in run("state").stdout


def test_retracted_parts_leave_the_ledger_and_the_discrepancy_moves(run: Cli) -> None:
    run.import_seed()
    parts = [d for d in run.json("show", "--kind", "pledge") if d["fields"].get("part_of")]
    grant = next(d for d in parts if d["fields"]["amount"]["currency"] == "USD")
    run("retract", grant["id"], "--reason", "not confirmed")
    (package,) = run.json("state")["ledger"]["packages"]
    assert package["parts_total"]["total"] == "101500000"


def test_rebuild_equals_incremental_byte_for_byte(run: Cli) -> None:
    run.import_seed()
    first = run.json("show")[0]["id"]
    run("correct", first, "--set", "title=Corrected title", "--reason", "r")
    run(*"add statement --title Late --occurred 2023-05 --speaker X --quote Hello --source https://e.org/z".split())
    outputs = {cmd: run(cmd, "--json").stdout for cmd in ("show", "state", "topics", "actors")}
    run("rebuild")
    assert {cmd: run(cmd, "--json").stdout for cmd in outputs} == outputs


def _view_rows(target: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every view row, and every token the search index holds, where and in which row."""
    from timeline.views.tables import TABLES

    app = Timeline.open(config.resolve(target))
    try:
        sql = app.sql()
        with sql.transaction(commit=False) as c:
            rows = {t: sorted(tuple(r) for r in sql.rows(c, f"SELECT * FROM {t}")) for t in TABLES}
            if sql.postgres:
                search = "SELECT first_position, tsv::text FROM timeline_search"
            else:
                sql.execute(c, "CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, timeline_search, instance)")
                search = "SELECT term, doc, col, offset FROM temp.vocab"
            rows["search"] = sorted(tuple(r) for r in sql.rows(c, search))
            return rows
    finally:
        app.close()


def test_rebuild_writes_the_very_rows_catch_up_wrote(run: Cli) -> None:
    """Documents are stored as unsorted JSON text: the same text either way, because
    project() builds every document in one key order however the events are paged."""
    run.import_seed()
    ids = [d["id"] for d in run.json("show")]
    run("correct", ids[0], "--set", "title=Corrected title", "--reason", "r")
    run("source", ids[1], "https://e.org/more")
    run("retract", ids[2], "--reason", "wrong")
    run("correct", ids[3], "--set", "topics=fleeting-topic", "--reason", "r")
    run("show")  # catch up, event by event: the fleeting topic is named, and numbered
    run("correct", ids[3], "--set", "topics=lasting-topic", "--reason", "r")
    run("show")
    before = _view_rows(run.target)
    run("rebuild")  # in one batch, where the fleeting topic is gone by the batch's end
    after = _view_rows(run.target)
    assert after == before
    assert len(after["timeline_developments"]) == len(ids)


def test_a_rebuild_of_several_pages_per_transaction_writes_the_same_rows(
    run: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild's transactions hold several pages (`REBUILD_COMMIT`): the rows are those
    of a rebuild page by page, and those of catching up event by event."""
    from timeline.views import runner

    run.import_seed()
    ids = [d["id"] for d in run.json("show")]
    run("correct", ids[0], "--set", "title=Corrected title", "--reason", "r")
    run("retract", ids[2], "--reason", "wrong")
    run("show")
    before = _view_rows(run.target)
    commits: list[int] = []
    total = 0
    for per_commit, hold in ((12, 60.0), (1, 60.0), (1000, 0.0)):
        monkeypatch.setattr(runner, "REBUILD_PAGE", 4)
        monkeypatch.setattr(runner, "REBUILD_COMMIT", per_commit)
        monkeypatch.setattr(runner, "REBUILD_HOLD", hold)
        app = Timeline.open(config.resolve(run.target))
        try:
            views = Views(app)
            monkeypatch.setattr(
                views, "record", lambda c, t, r=views.record: (commits.append(t.notification_id), r(c, t))
            )
            total = app.event_count()
            assert views.rebuild() == total
        finally:
            app.close()
        assert _view_rows(run.target) == before
    # 12 events a transaction, then one page each (both bounds), each position recorded once.
    assert commits == [*range(12, total, 12), total, *range(4, total, 4), total, *range(4, total, 4), total]


def test_a_crash_before_commit_leaves_the_views_where_they_were(target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    run = Cli(target)
    run.import_seed()
    run.json("show")  # views caught up to the seed
    extra = "add visit --title Later --occurred 2024-08 --visitors Y --source https://e.org/l --topics aid".split()
    run(*extra)
    app = Timeline.open(config.resolve(target))
    try:
        views = Views(app)
        before = views.position()
        calls = []

        def crash(self: Any, c: Any, tracking: Tracking) -> None:
            calls.append(tracking)
            raise RuntimeError("power cut")

        monkeypatch.setattr(type(views.tracking), "_insert_tracking", crash)
        with pytest.raises(RuntimeError, match="power cut"):
            views.catch_up()
        monkeypatch.undo()
        assert calls and views.position() == before
        views.catch_up()
        assert views.position() == before + 1
    finally:
        app.close()
    aid = run.json("show", "--topic", "aid")
    assert sum(d["title"] == "Later" for d in aid) == 1
    outputs = run("show", "--json").stdout
    run("rebuild")
    assert run("show", "--json").stdout == outputs


def test_a_log_written_by_class_version_1_replays(target: str) -> None:
    """Reported v1 stored sources as plain URLs; v2 reads them as objects."""
    app = Timeline.open(config.resolve(target))
    try:
        from events import Development, read_report

        report = read_report(dev(id="old", title="Old visit", occurred="2020"))
        aggregate = Development.record(report)
        stored = app.mapper.to_stored_event(aggregate.collect_events()[0])
        state = json.loads(stored.state)
        assert state.pop("class_version") == 2
        state["fields"]["sources"] = [s["url"] for s in state["fields"]["sources"]]
        v1 = type(stored)(stored.originator_id, stored.originator_version, stored.topic, json.dumps(state).encode())
        app.recorder.insert_events([v1])
    finally:
        app.close()
    run = Cli(target)
    doc = run.json("show", "old")
    assert doc["fields"]["sources"] == [{"url": "https://example.org/s"}]
    run("correct", "old", "--set", "title=Old visit, corrected", "--reason", "r")  # the aggregate loads too
    assert run.json("show", "old")["title"] == "Old visit, corrected"


def test_the_first_developments_of_a_topic_read_from_an_index(tmp_path: Path) -> None:
    """The work to answer one topic's first 50 does not grow with the log."""
    db = tmp_path / "t.db"
    run = Cli(str(db))
    steps = []
    for size in (200, 2000):
        lines = [dev(id=f"d{size}-{i}", title=f"T{i}", occurred=f"20{10 + i % 14}-0{1 + i % 9}",
                     topics=["aid" if i % 2 else "other"]) for i in range(size)]  # fmt: skip
        import_lines(run, *lines)
        run.json("show", "--topic", "aid")
        conn = sqlite3.connect(db)
        from timeline.store import Sql
        from timeline.views import queries
        from timeline.views.queries import Filter

        counter = [0]

        def tick(counter: list[int] = counter) -> int:
            counter[0] += 1
            return 0

        conn.set_progress_handler(tick, 100)
        conn.row_factory = sqlite3.Row
        sql = Sql(_conn_transaction(conn), postgres=False)
        docs = list(itertools.islice(queries.iter_timeline(sql, Filter(topic="aid"), page=50), 50))
        assert len(docs) == 50
        plan = " ".join(r[3] for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT d.doc FROM timeline_memberships m"
            " JOIN timeline_developments d ON d.first_position = m.first_position"
            " WHERE m.member = (SELECT n.id FROM timeline_names n WHERE n.facet = 'topic' AND n.slug = 'aid')"
            " ORDER BY m.sort_key, m.first_position"))  # fmt: skip
        assert "USING COVERING INDEX timeline_memberships_order" in plan and "TEMP B-TREE" not in plan, plan
        steps.append(counter[0])
        conn.close()
    assert steps[1] <= steps[0] * 1.5, steps  # 11x the rows, about the same work


def _conn_transaction(conn: sqlite3.Connection) -> Any:
    from contextlib import contextmanager

    @contextmanager
    def transaction(*, commit: bool) -> Any:
        yield conn.cursor()

    return transaction

"""Replay, history and diff over the seed story plus a scripted evolution, on both back ends.

The evolution after the 25 seed events (one development each):
#26 X recorded, #27 X corrected (title), #28 X corrected (place), #29 X retracted,
#30 a source added to the seed's visit, #31 a development about 2023, recorded last.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.conftest import SEED, Cli
from timeline import config
from timeline.app import Timeline

SEED_EVENTS = sum(1 for line in SEED.read_text().splitlines() if line.strip())
X = "scripted/x"
VISIT = "japan-cambodia-2024/visit"
EXTRA = "https://example.org/extra-source"
POINTS = [0, 1, 12, SEED_EVENTS, 26, 27, 28, 29, 30, 31]


def evolve(run: Cli) -> dict[str, Any]:
    run.import_seed()
    x = ["--id", X, "--title", "X visits Phnom Penh", "--occurred", "2024-07-08", "--visitors", "X"]
    ids = {"x": run.json("add", "visit", *x, "--source", "https://example.org/x")["id"]}
    run("correct", X, "--set", "title=X visits Phnom Penh again", "--reason", "first fix")
    run(
        "correct",
        X,
        "--set",
        "place=Siem Reap",
        "--reason",
        "second fix",
        "--source",
        "https://example.org/x2",
    )
    run("retract", X, "--reason", "never happened")
    run("source", VISIT, EXTRA, "--publisher", "Example")
    ids["early"] = run.json("add", "visit", "--id", "scripted/early", "--title", "An earlier visit",
                            "--occurred", "March 2023", "--visitors", "Y", "--source", "https://example.org/y")["id"]  # fmt: skip
    ids["visit"] = run.json("show", VISIT)["id"]
    return ids


@pytest.fixture
def story(run: Cli) -> tuple[Cli, dict[str, Any]]:
    return run, evolve(run)


def by_id(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["id"]: d for d in docs}


def test_replay_at_each_position_gives_the_timeline_as_it_stood(story: tuple[Cli, dict[str, Any]]) -> None:
    run, ids = story
    final = run.json("show")
    assert run.json("replay", "--as-of", "#31") == final  # the same shape and content as show
    for n in range(0, SEED_EVENTS + 1, 6):
        docs = run.json("replay", "--as-of", f"#{n}")
        assert len(docs) == n and {d["first_position"] for d in docs} == set(range(1, n + 1))
    assert ids["x"] not in by_id(run.json("replay", "--as-of", f"#{SEED_EVENTS}"))
    x = {n: by_id(run.json("replay", "--as-of", f"#{n}"))[ids["x"]] for n in (26, 27, 28, 29)}
    assert x[26]["title"] == "X visits Phnom Penh" and x[26]["corrections"] == [] and "place" not in x[26]["fields"]
    assert x[27]["title"] == "X visits Phnom Penh again" and "place" not in x[27]["fields"]
    assert x[28]["fields"]["place"] == "Siem Reap" and len(x[28]["corrections"]) == 2 and x[28]["retracted"] is None
    assert x[29]["retracted"]["reason"] == "never happened"
    urls = {n: [s["url"] for s in by_id(run.json("replay", "--as-of", f"#{n}"))[ids["visit"]]["fields"]["sources"]]
            for n in (29, 30)}  # fmt: skip
    assert EXTRA not in urls[29] and EXTRA in urls[30]
    at30, at31 = run.json("replay", "--as-of", "#30"), run.json("replay", "--as-of", "#31")
    assert ids["early"] not in by_id(at30)
    assert len(at31) == len(at30) + 1
    order = [d["id"] for d in at31]
    assert order.index(ids["early"]) < order.index(ids["visit"])  # about 2023: before the 2024 story


def test_replay_by_time_and_bitemporal_filters(story: tuple[Cli, dict[str, Any]]) -> None:
    run, ids = story
    log = [json_line for json_line in run("log", "--json").stdout.splitlines()]
    import json

    records = [json.loads(line) for line in log]
    for record in records[25:]:  # each recorded time stands for the last event at or before it
        assert run.json("replay", "--as-of", record["recorded"]) == run.json(
            "replay", "--as-of", f"#{record['position']}"
        )
    assert run.json("replay", "--as-of", "2000-01-01") == []  # before the first event: empty
    assert run.json("replay", "--as-of", "2999-01-01T00:00:00+09:00") == run.json("show")  # the future: now
    in_2023 = run.json("replay", "--as-of", "#31", "--from", "2023", "--to", "2023")
    assert ids["early"] in by_id(in_2023) and all(not d["occurred"].startswith("2024") for d in in_2023)
    assert run.json("replay", "--as-of", "#30", "--from", "2023", "--to", "2023") == [
        d for d in in_2023 if d["id"] != ids["early"]
    ]
    assert run.json("replay", "--as-of", "#31", "--kind", "visit", "--actor", "X")[0]["id"] == ids["x"]
    text = run("replay", "--as-of", "#29").stdout
    assert "[RETRACTED]" in text and "X visits Phnom Penh again" in text


def test_history_lists_every_version(story: tuple[Cli, dict[str, Any]]) -> None:
    run, ids = story
    h = run.json("history", X)
    assert h["id"] == ids["x"] and h["retracted"] is True
    versions = h["versions"]
    assert [(v["version"], v["position"], v["event"]) for v in versions] == [
        (1, 26, "Reported"), (2, 27, "Corrected"), (3, 28, "Corrected"), (4, 29, "Retracted"),
    ]  # fmt: skip
    assert versions[0]["changes"]["title"] == {"before": None, "after": "X visits Phnom Penh"}
    assert versions[1]["changes"] == {"title": {"before": "X visits Phnom Penh", "after": "X visits Phnom Penh again"}}
    assert versions[1]["reason"] == "first fix"
    assert versions[2]["changes"] == {"place": {"before": None, "after": "Siem Reap"}}
    assert versions[2]["source"]["url"] == "https://example.org/x2"
    assert [s["url"] for s in versions[2]["sources_added"]] == ["https://example.org/x2"]
    assert versions[3]["reason"] == "never happened" and versions[3]["changes"] == {}
    assert all(v["recorded"].endswith("Z") for v in versions)
    visit = run.json("history", ids["visit"])["versions"]
    assert [(v["position"], v["event"]) for v in visit] == [(1, "Reported"), (30, "SourceAdded")]
    assert visit[1]["sources_added"] == [{"url": EXTRA, "publisher": "Example"}]
    text = run("history", X).stdout
    assert "title: “X visits Phnom Penh” → “X visits Phnom Penh again”" in text and "reason: never happened" in text


def expected_diff(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> dict[str, Any]:
    """The difference of two replays, computed here independently of timeline.audit.diff."""
    old = by_id(before)
    out: dict[str, Any] = {"added": [], "corrected": {}, "retracted": [], "sourced": {}}
    for doc in after:
        prev = old.get(doc["id"])
        if prev is None:
            out["added"].append(doc["id"])
        else:
            a, b = prev["fields"], doc["fields"]
            changes = {k: {"before": a.get(k), "after": b.get(k)} for k in set(a) | set(b)
                       if k != "sources" and a.get(k) != b.get(k)}  # fmt: skip
            if changes:
                out["corrected"][doc["id"]] = changes
            urls = {s["url"] for s in a.get("sources", [])}
            new = [s for s in b.get("sources", []) if s["url"] not in urls]
            if new:
                out["sourced"][doc["id"]] = new
        if doc["retracted"] and not (prev and prev["retracted"]):
            out["retracted"].append(doc["id"])
    out["added"].sort()
    out["retracted"].sort()
    return out


def summarise(d: dict[str, Any]) -> dict[str, Any]:
    return {
        "added": sorted(x["id"] for x in d["added"]),
        "corrected": {x["id"]: x["changes"] for x in d["corrected"]},
        "retracted": sorted(x["id"] for x in d["retracted"]),
        "sourced": {x["id"]: x["sources"] for x in d["sourced"]},
    }


def test_diff_between_any_two_points_equals_the_difference_of_the_replays(
    story: tuple[Cli, dict[str, Any]], target: str
) -> None:
    from timeline.audit.diff import diff
    from timeline.audit.replay import reader_as_of

    run, ids = story
    app = Timeline.open(config.resolve(target))
    try:
        replays = {}
        for n in POINTS:
            with reader_as_of(app, f"#{n}") as reader:
                replays[n] = reader.timeline()
        for a, b in itertools.combinations(POINTS, 2):
            got = diff(app, f"#{a}", f"#{b}")
            assert (got["from"]["position"], got["to"]["position"]) == (a, b)
            assert summarise(got) == expected_diff(replays[a], replays[b]), (a, b)
    finally:
        app.close()
    whole = run.json("diff", "#25", "#31")
    assert summarise(whole) == {
        "added": sorted([ids["x"], ids["early"]]),
        "corrected": {},
        "retracted": [ids["x"]],
        "sourced": {ids["visit"]: [{"url": EXTRA, "publisher": "Example"}]},
    }
    fixes = run.json("diff", "#26", "#29")
    assert fixes["corrected"][0]["changes"] == {
        "title": {"before": "X visits Phnom Penh", "after": "X visits Phnom Penh again"},
        "place": {"before": None, "after": "Siem Reap"},
    }
    assert run.json("diff", "#29", "#29")["added"] == []
    recorded = {
        r["position"]: r["recorded"] for r in map(__import__("json").loads, run("log", "--json").stdout.splitlines())
    }
    assert summarise(run.json("diff", recorded[26], recorded[29])) == summarise(run.json("diff", "#26", "#29"))
    assert summarise(run.json("diff", "#26", recorded[29])) == summarise(fixes)
    text = run("diff", "#26", "#30").stdout
    assert "place: (none) → “Siem Reap”" in text and "retracted" in text and EXTRA in text


def test_state_publishes_the_head_that_verify_checks(story: tuple[Cli, dict[str, Any]]) -> None:
    run, _ = story
    head = run.json("state")["head"]
    assert head["position"] == 31 and len(head["hash"]) == 64
    assert run.json("verify")["head"] == head
    with_head = run.json("replay", "--as-of", "#31")
    assert with_head == run.json("show")


def test_replay_near_the_start_reads_only_the_start(sqlite_run: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from timeline.audit import replay

    sqlite_run.import_seed()
    app = Timeline.open(config.resolve(sqlite_run.target))
    calls: list[tuple[int, int, int | None]] = []
    original = app.recorder.select_notifications

    def counting(start: int, limit: int, stop: int | None = None, **kw: Any) -> Any:
        calls.append((start, limit, stop))
        return original(start, limit, stop=stop, **kw)

    monkeypatch.setattr(app.recorder, "select_notifications", counting)
    monkeypatch.setattr(replay, "PAGE", 2)
    try:
        with replay.reader_as_of(app, "#3") as reader:
            assert len(reader.timeline()) == 3 and reader.position == 3
        assert calls and all(stop == 3 for _, _, stop in calls)
        calls.clear()
        log = list(replay.stream(app, 0, replay.Point.parse("2999-01-01"), page=4))
        assert sum(len(b) for b in log) == SEED_EVENTS and all(len(b) <= 4 for b in log)
        first = log[0][0][1].timestamp.isoformat()
        calls.clear()
        with replay.reader_as_of(app, first) as reader:
            assert reader.position == 1
        assert len(calls) == 1  # stopped at the first page, at the first later event
    finally:
        app.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["replay", "--as-of", "not a time"],
            "Error: 'not a time' is neither a log position #N nor a time; write e.g. '#12', '2024-07-07 10:00' or '7 July 2024'",
        ),
        (["replay", "--as-of", "#99"], "Error: #99 is beyond the log, which ends at #25"),
        (["replay", "--as-of", "#x"], "Error: '#x' is not a log position #N"),
        (
            ["replay", "--as-of", "#1", "--from", "2025", "--to", "2024"],
            "Error: Invalid value for --from/--to: --from 2025 is after --to 2024",
        ),
        (["replay"], "Error: Missing option '--as-of'."),
        (["history", "no-such-development"], "Error: no development 'no-such-development'"),
        (["diff", "#5", "#3"], "Error: FROM #5 is after TO #3"),
        (["diff", "2024-02-01", "2024-01-01"], "Error: FROM 2024-02-01 is after TO 2024-01-01"),
        (["diff", "#1", "#26"], "Error: #26 is beyond the log, which ends at #25"),
        (
            ["diff", "yesterday-ish", "#3"],
            "Error: 'yesterday-ish' is neither a log position #N nor a time; write e.g. '#12', '2024-07-07 10:00' or '7 July 2024'",
        ),
        (
            ["verify", "--expect-head", "#3"],
            "Error: '#3' is not a head '#N:HEX' (N the log's size, HEX its tree's root in 64 hex digits)",
        ),
    ],
)
def test_bad_input_is_one_line_and_non_zero(sqlite_run: Cli, args: list[str], message: str) -> None:
    sqlite_run.import_seed()
    result = sqlite_run(*args, ok=False)
    if args[0] != "verify":  # one rule: 2 for what cannot be read, 1 for what names nothing
        assert result.exit_code == (1 if "beyond the log" in message or "no development" in message else 2)
    assert result.exit_code != 0
    assert result.stderr.strip() == message
    assert result.stdout == ""


def test_diff_from_a_position_after_a_later_time_is_refused(sqlite_run: Cli) -> None:
    sqlite_run.import_seed()
    result = sqlite_run("diff", "#3", "2000-01-01", ok=False)
    assert (result.exit_code, result.stderr.strip()) == (2, "Error: FROM #3 is after TO 2000-01-01")

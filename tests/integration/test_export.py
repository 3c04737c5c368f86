"""`timeline export`: JSON Lines that import back to the same timeline and history,
TimelineJS 3 JSON in the shape TimelineJS documents, and CSV with GDELT/ACLED-style columns."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from tests.conftest import SEED, Cli

# Import stamps each event with the time it is stored: recorded times are the one thing a
# round trip cannot keep (they are transaction time, not data), so they are left out here.
TIMES = {"recorded", "updated"}


def _without_times(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_times(v) for k, v in value.items() if k not in TIMES}
    if isinstance(value, list):
        return [_without_times(v) for v in value]
    return value


def _story(run: Cli) -> None:
    run.import_seed()
    run("correct", "japan-cambodia-2024/visit", "--set", "place=Phnom Penh, Cambodia", "--set", "summary=",
        "--reason", "The report names the country", "--source", "https://example.org/c")  # fmt: skip
    run("correct", "japan-cambodia-2024/visit", "--set", "occurred=4-5 July 2024", "--reason", "two days")
    run("retract", "japan-cambodia-2024/partnership-upgrade-2023", "--reason", "Not in 2024")
    run("source", "japan-cambodia-2024/visit", "https://example.org/s", "--publisher", "S", "--published", "July 2024")
    run("add", "pledge", "--title", "Up to 10bn yen", "--occurred", "circa 2025", "--donor", "Japan",
        "--recipient", "Cambodia", "--amount", "up to 10 billion yen", "--source", "https://example.org/p")  # fmt: skip


def test_export_jsonl_then_import_reproduces_the_timeline_and_its_history(run: Cli, tmp_path: Path) -> None:
    _story(run)
    out = tmp_path / "export.jsonl"
    run("export", "--format", "jsonl", "--out", str(out))
    again = Cli(str(tmp_path / "again.db"))
    result = again("import", str(out))
    lines = len(out.read_text(encoding="utf-8").splitlines())
    assert result.stderr == (
        f"{lines - 4} new, 0 already there, 2 corrections, 1 retraction, 1 source added ({lines} lines)\n"
    )
    assert _without_times(again.json("show")) == _without_times(run.json("show"))
    for ref in ("japan-cambodia-2024/visit", "japan-cambodia-2024/partnership-upgrade-2023"):
        assert _without_times(again.json("history", ref)) == _without_times(run.json("history", ref))
    # As of a position: the lines up to it and no further.
    position = run.json("state")["position"]
    earlier = tmp_path / "earlier.jsonl"
    run("export", "--format", "jsonl", "--as-of", f"#{position - 3}", "--out", str(earlier))
    assert earlier.read_text().splitlines() == out.read_text().splitlines()[: position - 3]


def _check_date(d: Any) -> None:
    assert isinstance(d, dict) and isinstance(d["year"], int)
    assert set(d) <= {"year", "month", "day", "hour", "minute", "second", "millisecond", "display_date"}
    assert all(isinstance(d[k], int) for k in d if k != "display_date")
    if "month" in d:
        assert 1 <= d["month"] <= 12
    if "day" in d:
        assert "month" in d


def test_timelinejs_json_has_the_documented_shape(sqlite_run: Cli) -> None:
    _story(sqlite_run)
    sqlite_run("add", "visit", "--title", "<b>bold</b> visit", "--occurred", "2024-06", "--visitors", "A",
               "--source", "https://example.org/v")  # fmt: skip
    data = json.loads(sqlite_run("export", "--format", "timelinejs", "--title", "Japan & Cambodia").stdout)
    docs = sqlite_run.json("show")
    assert (
        set(data) <= {"events", "title", "eras", "scale"}
        and data["title"]["text"]["headline"] == "Japan &amp; Cambodia"
    )
    events = data["events"]
    assert [e["unique_id"] for e in events] == [f"d-{d['id']}" for d in docs]
    slide_keys = {
        "start_date",
        "end_date",
        "text",
        "media",
        "group",
        "display_date",
        "background",
        "autolink",
        "unique_id",
    }
    for e, d in zip(events, docs, strict=True):
        assert set(e) <= slide_keys
        _check_date(e["start_date"])
        if "end_date" in e:
            _check_date(e["end_date"])
        assert set(e["text"]) == {"headline", "text"} and e["group"] == d["kind"]
        assert e["media"]["url"] == d["fields"]["sources"][0]["url"]
    by_key = {d["key"]: e for d, e in zip(docs, events, strict=True)}
    since = by_key["japan-cambodia-2024/mine-action-aid-since-1994"]
    assert since["start_date"] == {"year": 1994} and since["display_date"] == "since 1994" and "end_date" not in since
    month = next(e for e in events if "bold" in e["text"]["headline"])
    assert (
        month["start_date"] == {"year": 2024, "month": 6}
        and month["text"]["headline"] == "&lt;b&gt;bold&lt;/b&gt; visit"
    )
    two_days = by_key["japan-cambodia-2024/visit"]
    assert two_days["start_date"] == {"year": 2024, "month": 7, "day": 4}
    assert two_days["end_date"] == {"year": 2024, "month": 7, "day": 5} and two_days["display_date"] == "4–5 July 2024"
    assert [era["start_date"] for era in data["eras"]] == [two_days["start_date"]]
    assert by_key["japan-cambodia-2024/partnership-upgrade-2023"]["text"]["headline"].endswith("(retracted)")


def test_csv_has_one_row_per_development_with_cameo_codes(sqlite_run: Cli, tmp_path: Path) -> None:
    _story(sqlite_run)
    out = tmp_path / "story.csv"
    sqlite_run("export", "--format", "csv", "--out", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    docs = sqlite_run.json("show")
    assert [r["event_id"] for r in rows] == [d["id"] for d in docs]
    codes = {r["event_type"]: r["cameo_code"] for r in rows}
    assert codes == {"visit": "042", "agreement": "057", "statement": "010", "pledge": "0331"}
    visit = next(r for r in rows if r["event_type"] == "visit")
    assert (visit["event_date"], visit["event_date_end"], visit["date_precision"]) == (
        "2024-07-04",
        "2024-07-05",
        "day",
    )
    assert (visit["actor1"], visit["actor2"]) == ("Yoko Kamikawa", "Hun Manet")
    assert visit["num_sources"] == "3" and visit["num_corrections"] == "2" and visit["corrected"]
    since = next(r for r in rows if r["occurred"] == "1994/..")
    assert (since["event_date"], since["event_date_end"], since["actor1"], since["actor2"]) == (
        "1994-01-01",
        "",
        "Japan",
        "Cambodia",
    )
    retracted = [r for r in rows if r["retracted"]]
    assert [r["retraction_reason"] for r in retracted] == ["Not in 2024"]
    bound = next(r for r in rows if r["title"] == "Up to 10bn yen")
    assert (bound["amount"], bound["currency"]) == ("up to JPY 10 billion", "JPY")


def test_export_refuses_an_unknown_format_in_one_line(sqlite_run: Cli) -> None:
    r = sqlite_run("export", "--format", "xml", ok=False)
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: Invalid value for '--format': 'xml' is not one of 'timelinejs', 'csv', 'jsonl'.\n",
    )


FORMULAS = ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)"]


def test_a_csv_cell_that_begins_like_a_formula_gets_a_quote_in_front() -> None:
    from timeline.export import csv_cell

    starts = ["=1", "+1", "-1", "@A", "\t=1", "\r=1"]
    assert [csv_cell(v) for v in starts] == ["'" + v for v in starts]
    assert [csv_cell(v) for v in ["", "a=1", " =1", "'=1", "1-2"]] == ["", "a=1", " =1", "'=1", "1-2"]


def test_csv_cells_that_begin_like_a_formula_are_neutralised_and_jsonl_keeps_them(
    sqlite_run: Cli, tmp_path: Path
) -> None:
    for n, title in enumerate(FORMULAS):
        sqlite_run("import", "-", input=json.dumps({
            "kind": "visit", "id": f"f{n}", "title": title, "occurred": "2024", "visitors": ["=A1", "B"],
            "summary": "-minus", "sources": ["https://example.org/f"]}) + "\n")  # fmt: skip
    titles = [d["title"] for d in sqlite_run.json("show")]
    assert sorted(titles) == sorted(FORMULAS)  # stored as written
    rows = list(csv.DictReader(io.StringIO(sqlite_run("export", "--format", "csv").stdout)))
    assert sorted(r["title"] for r in rows) == sorted("'" + t for t in titles)
    assert {(r["actor1"], r["notes"]) for r in rows} == {("'=A1", "'-minus")}
    assert all(not v.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for v in r.values())
    # The JSON Lines export is not for spreadsheets: it keeps every value as stored.
    lines = [json.loads(x) for x in sqlite_run("export", "--format", "jsonl").stdout.splitlines()]
    assert sorted(x["title"] for x in lines) == sorted(titles)
    assert {x["visitors"][0] for x in lines} == {"=A1"}


def test_exports_carry_the_wikidata_ids_of_registered_actors(run: Cli, tmp_path: Path) -> None:
    run.import_seed()
    registry = SEED.with_name("japan-cambodia-2024-actors.jsonl").read_text(encoding="utf-8")
    # Q900001 is an id made up for the test (the seed's registry gives Hun Manet none).
    registry = registry.replace('"name": "Hun Manet",', '"name": "Hun Manet", "wikidata": "Q900001",')
    run("actor", "import", "-", input=registry)
    rows = list(csv.DictReader(io.StringIO(run("export", "--format", "csv").stdout)))
    by_key = {r["event_key"]: r for r in rows}
    visit = by_key["japan-cambodia-2024/visit"]
    assert (visit["actor1"], visit["actor1_wikidata"]) == ("Yoko Kamikawa", "Q11488370")
    assert (visit["actor2"], visit["actor2_wikidata"]) == ("Hun Manet", "Q900001")
    assert {r["actor1_wikidata"] for r in rows if r["actor1"] == "Japan"} == {""}  # registered without an id
    slides = json.loads(run("export", "--format", "timelinejs").stdout)["events"]
    text = next(s["text"]["text"] for s in slides if s["unique_id"] == f"d-{visit['event_id']}")
    assert text.endswith(
        '<p>Wikidata: <a href="https://www.wikidata.org/wiki/Q11488370">Yoko Kamikawa (Q11488370)</a>,'
        ' <a href="https://www.wikidata.org/wiki/Q900001">Hun Manet (Q900001)</a></p>'
    )
    # JSON Lines carries the registry too, one line per event: `actor import` replays it
    # whole, so the copy's exports name the same Wikidata ids.
    out = tmp_path / "story.jsonl"
    exported = run("export", "--format", "jsonl", "--out", str(out))
    assert len(out.read_text(encoding="utf-8").splitlines()) == run.json("state")["position"]
    assert exported.stderr.startswith("note: ") and "`timeline actor import FILE`" in exported.stderr
    again = Cli(str(tmp_path / "again.db"))
    again("actor", "import", str(out))

    def ids(cli: Cli) -> list[tuple[str, str, str]]:
        rows = csv.DictReader(io.StringIO(cli("export", "--format", "csv").stdout))
        return [(r["event_id"], r["actor1_wikidata"], r["actor2_wikidata"]) for r in rows]

    assert ids(again) == ids(run) and ("Q11488370" in {w for _, w, _ in ids(again)})
    assert _without_times(again.json("show")) == _without_times(run.json("show"))

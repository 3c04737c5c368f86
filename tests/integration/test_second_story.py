"""The second example story (invented, examples/README.md) imports faithfully on both back
ends: every development stored as its line says, the changes applied, nothing twice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from events import read_report
from tests.conftest import ROOT, Cli

STORY = ROOT / "examples" / "great-lakes-water-2024.jsonl"


def story() -> list[dict[str, Any]]:
    return [json.loads(line) for line in STORY.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_every_development_is_stored_as_its_line_says(run: Cli) -> None:
    counts = json.loads(run("import", str(STORY), "--json").stdout)
    assert counts == {"new": 9, "existing": 0, "corrections": 1, "retractions": 1, "sources": 1, "lines": 12}
    developments = [x for x in story() if "kind" in x]
    before_changes = {d["id"]: d for d in run.json("replay", "--as-of", f"#{len(developments)}")}
    for line in developments:
        report = read_report(line)
        assert before_changes[str(report.id)]["fields"] == dict(report.fields), line["id"]
    assert json.loads(run("import", str(STORY), "--json").stdout)["existing"] == 12


def test_the_facts_of_the_story(run: Cli) -> None:
    run("import", str(STORY))
    by_key = {d["key"]: d for d in run.json("show")}
    call, summit = by_key["great-lakes-2024/call"], by_key["great-lakes-2024/summit"]
    assert call["fields"]["format"] == "call" and "place" not in call["fields"]
    assert summit["fields"]["format"] == "summit" and summit["fields"]["duration"] == "two days"
    assert summit["occurred"] == "2024-06-04/2024-06-05"  # "4-5 June 2024": over two days
    assert "Rwanda" in summit["fields"]["participants"] and summit["corrections"][0]["source"]["publisher"]
    assert [s.get("via") for s in summit["fields"]["sources"]][:2] == [None, "Lakes News Agency"]
    languages = {s["language"] for d in by_key.values() for s in d["fields"]["sources"]}
    assert languages == {"en", "sw", "fr", "ja"}
    wekesa, morita = by_key["great-lakes-2024/wekesa"]["fields"], by_key["great-lakes-2024/morita"]["fields"]
    assert (wekesa["translated"], wekesa["original_language"], wekesa["original"]) == (
        True, "sw", "Maji safi ni haki ya kila mtoto wa eneo hili."
    )  # fmt: skip
    assert (morita["original_language"], morita["original"], morita["sources"][-1]["language"]) == (
        "ja",
        "水は地域の未来です。",
        "ja",
    )
    assert by_key["great-lakes-2024/marchand"]["fields"]["language"] == "fr"
    assert "translated" not in by_key["great-lakes-2024/marchand"]["fields"]
    retracted = by_key["great-lakes-2024/tanzania-pledge"]["retracted"]
    assert retracted["reason"].startswith("The agency's report confused Tanzania with Uganda")
    assert by_key["great-lakes-2024/kisumu-declaration"]["fields"]["refers_to"] == "2026"
    assert by_key["great-lakes-2024/fund-grant"]["fields"]["amount"] == {"amount": "15000000", "currency": "EUR"}
    loan = by_key["great-lakes-2024/japan-loan"]["fields"]["amount"]
    assert loan == {"amount": "10000000000", "currency": "JPY", "bound": "at-most"}  # "up to 10 billion yen"
    ledger = run("state").stdout
    assert "  Japan -> Kenya: up to JPY 10 billion\n" in ledger
    text = run("show", "great-lakes-2024/morita").stdout
    assert "  (en, translated from ja by Lake Region Daily)\n  Original: “水は地域の未来です。”\n" in text
    assert "Mizu Shinbun (ja), https://mizu-shinbun.example.jp/2024/06/taishi-hatsugen" in text


def test_the_story_in_its_feed(sqlite_run: Cli, tmp_path: Path) -> None:
    from lxml import etree

    sqlite_run("import", str(STORY))
    sqlite_run("feeds", "build", "--out", str(tmp_path / "site"))
    atom = "{http://www.w3.org/2005/Atom}"
    root = etree.fromstring((tmp_path / "site" / "story.atom").read_bytes())
    content = {e.findtext(f"{atom}title"): e.findtext(f"{atom}content") for e in root.iter(f"{atom}entry")}
    assert (
        '<li dir="auto">Refers to: 2026</li>'
        in content["Lake states sign the Kisumu declaration on water quality monitoring"]
    )
    summit = content["Great Lakes water summit opens in Kisumu"]
    assert '<p dir="auto">Summit, occurred 4–5 June 2024 (day precision), in Kisumu.</p>' in summit
    summaries = {e.findtext(f"{atom}title"): e.findtext(f"{atom}summary") for e in root.iter(f"{atom}entry")}
    assert summaries["Great Lakes water summit opens in Kisumu"].startswith("Summit, 4–5 June 2024.")
    assert '<li dir="auto">Format: summit</li>' in summit and "Duration: two days" in summit
    retracted = content["Retracted: Tanzania pledges $20 million to the lake monitoring network"]
    assert "(source: Lake Region Daily (en) citing Lakes News Agency, https://lakeregion.example.org/" in retracted
    assert "{'url'" not in etree.tostring(root, encoding="unicode")

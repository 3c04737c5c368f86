"""Facts a story needs (issue 11), read exactly and shown readably, on both back ends."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from events.development import NAMESPACE, normalise_key
from tests.conftest import Cli
from timeline import config
from timeline.app import Timeline

SRC = "https://example.org/news/1"


def lines(*items: dict[str, Any]) -> str:
    return "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in items)


def log_count(run: Cli) -> int:
    return len(run("log", "--json").stdout.splitlines())


def visit(key: str = "v", **fields: Any) -> dict[str, Any]:
    return {"kind": "visit", "id": key, "title": "A visit", "occurred": "2024-08-24", "visitors": ["A"],
            "sources": [SRC], **fields}  # fmt: skip


def pledge(key: str, **fields: Any) -> dict[str, Any]:
    return {"kind": "pledge", "id": key, "title": f"Pledge {key}", "occurred": "2024-08-24", "donor": "Japan",
            "recipient": "Kenya", "amount": "$5 million", "sources": [SRC], **fields}  # fmt: skip


# --- facts that must be storable -------------------------------------------------------------


def test_a_summit_a_call_and_a_meeting(run: Cli) -> None:
    summit = run("add", "visit", "--title", "Leaders meet in Yokohama", "--occurred", "2024-08-24",
                 "--format", "summit", "--participants", "Kenya", "--participants", "Ghana",
                 "--hosts", "Japan", "--duration", "two days", "--place", "Yokohama", "--source", SRC).stdout.strip()  # fmt: skip
    doc = run.json("show", summit)
    assert {k: doc["fields"][k] for k in ("format", "participants", "hosts", "duration")} == {
        "format": "summit", "participants": ["Kenya", "Ghana"], "hosts": ["Japan"], "duration": "two days"
    }  # fmt: skip
    assert doc["actors"] == ["Kenya", "Ghana", "Japan"]
    text = run("show", summit).stdout
    assert "  Format: summit\n  Participants: Kenya, Ghana\n  Hosts: Japan\n  Duration: two days\n" in text
    call = ["add", "visit", "--title", "Ministers speak by phone", "--occurred", "2024-08-20", "--format", "call",
            "--participants", "Japan", "--participants", "Kenya", "--source", SRC]  # fmt: skip
    refused = run(*call, "--place", "Tokyo", ok=False)
    assert (refused.exit_code, refused.stderr) == (
        2,
        "Error: place: a call has no place; leave place out (name the places in the summary)\n",
    )
    run(*call)
    nobody = run("add", "visit", "--title", "x", "--occurred", "2024", "--source", SRC, ok=False)
    assert nobody.stderr == "Error: required for a visit: visitors or participants\n"
    assert log_count(run) == 2


def test_a_translated_statement_and_sources_with_language_and_via(run: Cli) -> None:
    dev = run("add", "statement", "--title", "Minister thanks Japan", "--occurred", "2024-08-25",
              "--speaker", "Amina Wekesa", "--quote", "We thank Japan.", "--language", "en", "--translated",
              "--translator", "Example Wire", "--original", "Tunaishukuru Japani.", "--original-language", "Swahili",
              "--source", SRC, "--publisher", "Daily Example", "--source-language", "tr",
              "--via", "Anadolu Agency").stdout.strip()  # fmt: skip
    f = run.json("show", dev)["fields"]
    assert {k: f[k] for k in ("language", "translated", "translator", "original", "original_language")} == {
        "language": "en", "translated": True, "translator": "Example Wire",
        "original": "Tunaishukuru Japani.", "original_language": "sw",
    }  # fmt: skip
    assert f["sources"] == [{"url": SRC, "publisher": "Daily Example", "language": "tr", "via": "Anadolu Agency"}]
    text = run("show", dev).stdout
    assert (
        "  “We thank Japan.”\n  (en, translated from sw by Example Wire)\n  Original: “Tunaishukuru Japani.”\n" in text
    )
    assert f"  source:    Daily Example (tr) citing Anadolu Agency, {SRC}\n" in text
    run("source", dev, "https://example.org/news/2", "--publisher", "Nation", "--language", "sw", "--via", "KNA")
    assert run.json("show", dev)["fields"]["sources"][1] == {
        "url": "https://example.org/news/2", "publisher": "Nation", "language": "sw", "via": "KNA"
    }  # fmt: skip
    # A translator without a translation, a language that is none: refused, one line each.
    bad = run("add", "statement", "--title", "y", "--occurred", "2024", "--speaker", "S", "--quote", "q",
              "--translator", "T", "--source", SRC, ok=False)  # fmt: skip
    assert bad.stderr == "Error: translator: only for a quote that is a translation: set translated too\n"
    bad = run("add", "statement", "--title", "y", "--occurred", "2024", "--speaker", "S", "--quote", "q",
              "--language", "Klingonese", "--source", SRC, ok=False)  # fmt: skip
    assert bad.exit_code == 2 and bad.stderr.startswith("Error: language: 'Klingonese' is not a language")
    # Not a translation after all: unset by a correction.
    run("correct", dev, "--set", "translated=no", "--set", "translator=", "--set", "original=",
        "--set", "original_language=", "--reason", "spoken in English")  # fmt: skip
    f = run.json("show", dev)["fields"]
    assert not {"translated", "translator", "original", "original_language"} & set(f) and f["language"] == "en"


def test_refers_to_is_shown_and_never_orders(run: Cli) -> None:
    run("import", "-", input=lines(
        visit("early", title="Early", occurred="2024-08-01"),
        visit("late", title="Towards the summit", occurred="2024-08-25", refers_to="2025"),
    ))  # fmt: skip
    shown = run.json("show")
    assert [d["title"] for d in shown] == ["Early", "Towards the summit"]
    assert shown[1]["fields"]["refers_to"] == "2025"
    assert "  Refers to: 2025\n" in run("show", "late").stdout
    assert run.json("show", "--from", "2025") == []


def test_old_stored_events_still_replay(target: str) -> None:
    """Events as an earlier version stored them (v1 sources as URL strings, a statement and a
    visit without the fields added since) replay, show and take the new fields."""
    app = Timeline.open(config.resolve(target))
    try:
        ids = []
        for kind, fields in [
            ("statement", {"title": "Old statement", "occurred": "2024-07", "speaker": "S", "quote": "Q", "sources": [SRC]}),
            ("visit", {"title": "Old visit", "occurred": "2024-07-06", "visitors": ["V"], "hosts": ["H"], "sources": [SRC]}),
        ]:  # fmt: skip
            key = f"old-{kind}"
            dev_id = uuid.uuid5(NAMESPACE, normalise_key(key))
            state = {"originator_topic": "events.development:Development", "key": key, "kind": kind,
                     "fields": fields, "timestamp": {"_type_": "datetime_iso", "_data_": "2024-07-07T10:00:00+00:00"}}  # fmt: skip
            from eventsourcing.persistence import StoredEvent

            app.recorder.insert_events([StoredEvent(dev_id, 1, "events.development:Development.Reported",
                                                    app.mapper.transcoder.encode(state))])  # fmt: skip
            ids.append(str(dev_id))
    finally:
        app.close()
    run = Cli(target)
    assert [d["title"] for d in run.json("show")] == ["Old statement", "Old visit"]
    assert run.json("show", ids[0])["fields"]["sources"] == [{"url": SRC}]
    run("correct", ids[0][:8], "--set", "language=fr", "--reason", "language noted")
    run("correct", "old-visit", "--set", "format=meeting", "--reason", "it was a meeting")
    assert run.json("show", "old-statement")["fields"]["language"] == "fr"
    run("rebuild")
    assert run.json("show", ids[1])["fields"]["format"] == "meeting"
    assert [v["event"] for v in run.json("history", ids[1][:6])["versions"]] == ["Reported", "Corrected"]


# --- re-importing a file ---------------------------------------------------------------------


def test_a_growing_file_reimports_and_adds_only_its_new_lines(run: Cli) -> None:
    first = lines(
        visit("v", place="Tokyo"),
        {"op": "correct", "id": "v", "set": {"place": "Yokohama", "title": "A visit"}, "reason": "venue", "source": SRC},
        {"op": "correct", "id": "v", "set": {"place": "Tokyo"}, "reason": "venue again"},
        {"op": "source", "id": "v", "source": {"url": "https://example.org/2", "publisher": "P"}},
    )  # fmt: skip
    run("import", "-", input=first)
    events = log_count(run)
    grown = first + lines({"op": "retract", "id": "v", "reason": "never happened"})
    counts = json.loads(run("import", "-", "--json", input=grown).stdout)
    assert counts == {"new": 0, "existing": 4, "corrections": 0, "retractions": 1, "sources": 0, "lines": 5}
    assert log_count(run) == events + 1
    assert json.loads(run("import", "-", "--json", input=grown).stdout)["existing"] == 5
    # The same fields with another value, or another reason, are a new change: refused now.
    for line in [
        {"op": "correct", "id": "v", "set": {"place": "Osaka"}, "reason": "venue"},
        {"op": "correct", "id": "v", "set": {"place": "Yokohama"}, "reason": "venue, again"},
        {
            "op": "correct",
            "id": "v",
            "set": {"place": "Yokohama"},
            "reason": "venue",
            "source": "https://example.org/9",
        },
        {"op": "source", "id": "v", "source": {"url": "https://example.org/2", "publisher": "Q"}},
    ]:
        refused = run("import", "-", input=grown + lines(line), ok=False)
        assert refused.exit_code == 1 and refused.stderr.startswith("Error: line 6: "), refused.stderr
    assert log_count(run) == events + 1


# --- other input defects ---------------------------------------------------------------------


def test_part_of_a_package_that_is_not_recorded_is_refused(run: Cli) -> None:
    add = ["add", "pledge", "--title", "Part", "--occurred", "2024", "--donor", "J", "--recipient", "K",
           "--amount", "$1 million", "--source", SRC]  # fmt: skip
    refused = run(*add, "--part-of", "ticad/package", ok=False)
    assert (refused.exit_code, refused.stderr) == (
        1,
        "Error: part_of: no package 'ticad/package' is recorded; record the package pledge first\n",
    )
    file = lines(pledge("p1", part_of="ticad/package"), pledge("ticad/package", instrument="package"))
    refused = run("import", "-", input=file, ok=False)
    assert refused.stderr == (
        "Error: line 1: part_of: no package 'ticad/package' is recorded; record the package pledge first"
        " (in the log or earlier in this file); nothing was imported\n"
    )
    assert not config.resolve(run.target).holds_log()  # nothing written: no log made
    run(
        "import", "-", input=lines(pledge("ticad/package", instrument="package"), pledge("p1", part_of="ticad/package"))
    )
    run(*add, "--part-of", "TICAD/package")
    package = run.json("show", "ticad/package")["id"]
    short = run(*add[:3], "Part by short id", *add[4:], "--part-of", package[:8]).stdout.strip()
    assert run.json("show", short)["fields"]["part_of"] == package
    run("import", "-", input=lines(visit("v")))
    refused = run("import", "-", input=lines(pledge("p2", part_of="v")), ok=False)
    assert refused.stderr == (
        "Error: line 1: part_of: 'v' is a visit, not a package pledge (in the log or earlier in this file);"
        " nothing was imported\n"
    )
    refused = run("correct", "p1", "--set", "part_of=nope", "--reason", "r", ok=False)
    assert refused.stderr == "Error: part_of: no package 'nope' is recorded; record the package pledge first\n"
    refused = run(
        "import", "-", input=lines({"op": "correct", "id": "p1", "set": {"part_of": "nope"}, "reason": "r"}), ok=False
    )
    assert refused.stderr == (
        "Error: line 1: part_of: no package 'nope' is recorded; record the package pledge first"
        " (in the log or earlier in this file); nothing was imported\n"
    )
    text = run("show", "ticad/package").stdout
    assert text.count("  part:      Pledge p1 (") == 1 and "  part:      Part (" in text
    assert "  part of:   Pledge ticad/package (" in run("show", "p1").stdout


def test_one_line_fields_fold_line_breaks_and_summaries_keep_paragraphs(run: Cli) -> None:
    dev = run("add", "visit", "--title", "Minister\nvisits\r\n Nairobi", "--occurred", "2024",
              "--visitors", "Yoko\rKamikawa", "--place", "Nai\nrobi", "--summary", "First.\r\n\r\nSecond.",
              "--source", SRC).stdout.strip()  # fmt: skip
    f = run.json("show", dev)["fields"]
    assert (f["title"], f["visitors"], f["place"], f["summary"]) == (
        "Minister visits Nairobi",
        ["Yoko Kamikawa"],
        "Nai robi",
        "First.\n\nSecond.",
    )
    run("import", "-", input=lines({"kind": "statement", "id": "s", "title": "Said\nthis", "occurred": "2024",
                                    "speaker": "S\nT", "quote": "Line one.\nLine two.", "sources": [SRC]}))  # fmt: skip
    f = run.json("show", "s")["fields"]
    assert (f["title"], f["speaker"], f["quote"]) == ("Said this", "S T", "Line one.\nLine two.")
    assert all(len(line.split("  (")) == 2 for line in run("show").stdout.splitlines())
    history = run("history", dev).stdout.splitlines()
    assert "       summary: (none) → “First." in history and "         Second.”" in history


def _two_ids_sharing_a_prefix(digits: int = 6) -> tuple[str, str]:
    seen: dict[str, str] = {}
    n = 0
    while True:
        key = f"k{n}"
        prefix = uuid.uuid5(NAMESPACE, key).hex[:digits]
        if prefix in seen:
            return seen[prefix], key
        seen[prefix] = key
        n += 1


def test_a_short_id_names_a_development_everywhere(run: Cli) -> None:
    dev = run(
        "add", "visit", "--title", "A visit", "--occurred", "2024", "--visitors", "A", "--source", SRC
    ).stdout.strip()
    printed = run("show").stdout.split("(")[-1].rstrip(")\n")
    assert printed == dev[:8]
    assert run.json("show", printed)["id"] == dev
    assert run.json("history", dev[:6])["id"] == dev
    run("correct", dev[:7], "--set", "place=Nairobi", "--reason", "place reported")
    run("source", dev[:6].upper(), "https://example.org/2")
    run("retract", printed, "--reason", "wrong")
    assert run.json("show", dev)["retracted"]["reason"] == "wrong"
    short = run("show", dev[:5], ok=False)
    assert (short.exit_code, short.stderr) == (1, f"Error: no development '{dev[:5]}'\n")
    a, b = _two_ids_sharing_a_prefix()
    ids = [run("add", "visit", "--id", k, "--title", k, "--occurred", "2024", "--visitors", "A", "--source", SRC).stdout.strip()
           for k in (a, b)]  # fmt: skip
    prefix = ids[0][:6]
    assert ids[1][:6] == prefix
    ambiguous = run("show", prefix, ok=False)
    first, second = sorted(ids)
    titles = {ids[0]: a, ids[1]: b}
    assert ambiguous.exit_code == 1 and ambiguous.stderr == (
        f"Error: '{prefix}' names more than one development: {first} ({titles[first]}); {second} ({titles[second]});"
        " give more of the id\n"
    )
    assert run.json("show", ids[0][:12])["id"] == ids[0]
    # A key that is also the start of another id: two readings, so neither is guessed.
    keyed = run("add", "visit", "--id", dev[:8], "--title", "keyed", "--occurred", "2024", "--visitors", "A",
                "--source", SRC).stdout.strip()  # fmt: skip
    both = run("correct", dev[:8], "--set", "place=X", "--reason", "r", ok=False)
    assert both.exit_code == 1 and both.stderr.startswith(f"Error: '{dev[:8]}' names more than one development: ")
    assert keyed in both.stderr and dev in both.stderr
    assert run.json("show", keyed)["title"] == "keyed"


def test_one_rule_for_list_fields_on_every_path(run: Cli) -> None:
    """Each text is one item, commas and all; lists come from repeating, or a JSON array."""
    one = run("add", "visit", "--title", "t1", "--occurred", "2024", "--visitors", "Korea, Republic of",
              "--source", SRC).stdout.strip()  # fmt: skip
    two = run("add", "visit", "--title", "t2", "--occurred", "2024", "--visitors", "A", "--visitors", "B",
              "--source", SRC).stdout.strip()  # fmt: skip
    arr = run("add", "visit", "--title", "t3", "--occurred", "2024", "--visitors", '["A", "B"]',
              "--source", SRC).stdout.strip()  # fmt: skip
    run("import", "-", input=lines(visit("i1", visitors="Korea, Republic of"), visit("i2", visitors=["A", "B"]),
                                   visit("i3", visitors='["A", "B"]')))  # fmt: skip
    got = {ref: run.json("show", ref)["fields"]["visitors"] for ref in (one, two, arr, "i1", "i2", "i3")}
    assert list(got.values()) == [["Korea, Republic of"], ["A", "B"], ["A", "B"]] * 2
    run("correct", "i1", "--set", "visitors=C, D", "--reason", "r1")
    assert run.json("show", "i1")["fields"]["visitors"] == ["C, D"]
    run("correct", "i1", "--set", "visitors=C", "--set", "visitors=D", "--reason", "r2")
    assert run.json("show", "i1")["fields"]["visitors"] == ["C", "D"]
    run("correct", "i1", "--set", 'visitors=["E", "F"]', "--reason", "r3")
    assert run.json("show", "i1")["fields"]["visitors"] == ["E", "F"]
    run("import", "-", input=lines({"op": "correct", "id": "i2", "set": {"visitors": "G, H"}, "reason": "r"}))
    assert run.json("show", "i2")["fields"]["visitors"] == ["G, H"]
    twice = run("correct", "i1", "--set", "place=X", "--set", "place=Y", "--reason", "r", ok=False)
    assert twice.stderr == "Error: place: takes one value, not a list (was it given more than once?)\n"


# --- readable out ------------------------------------------------------------------------------


def test_log_reads_as_one_line_per_event(run: Cli) -> None:
    run("import", "-", input=lines(
        visit("v"),
        {"op": "correct", "id": "v", "set": {"place": "Nairobi"}, "reason": "venue"},
        {"op": "source", "id": "v", "source": {"url": "https://example.org/2", "publisher": "P"}},
        {"op": "retract", "id": "v", "reason": "never happened", "source": {"url": "https://example.org/3", "via": "AFP"}},
    ))  # fmt: skip
    out = run("log").stdout.splitlines()
    dev = run.json("show", "v")["id"][:8]
    rest = [line.split("Z  ", 1)[1] for line in out]
    assert [line[:7] for line in out] == ["#1     ", "#2     ", "#3     ", "#4     "]
    assert rest == [
        f"Reported     {dev}  visit: A visit",
        f"Corrected    {dev}  place; reason: venue",
        f"SourceAdded  {dev}  P, https://example.org/2",
        f"Retracted    {dev}  reason: never happened (source: citing AFP, https://example.org/3)",
    ]
    text = run("show", "v").stdout
    assert "; reason: venue\n" in text and "never happened (source: citing AFP, https://example.org/3)" in text


def test_empty_results_say_so(run: Cli) -> None:
    run("import", "-", input="")  # an empty log (a path with no database is refused instead)
    empty = run("show")
    assert (empty.stdout, empty.stderr) == ("", "the timeline is empty\n")
    assert run("topics").stderr == "no topics yet\n" and run("log").stderr == "no events\n"
    run("import", "-", input=lines(visit("v", topics=["aid"])))
    nope = run("show", "--topic", "nope")
    assert (nope.exit_code, nope.stdout, nope.stderr) == (0, "", "no developments match\n")
    assert run("show", "--topic", "nope", "--json").stdout == "[]\n"
    early = run("replay", "--as-of", "2000-01-01")
    assert (early.stdout, early.stderr) == ("", "the log held no events as of 2000-01-01\n")
    same = run("diff", "#1", "#1")
    assert (same.stdout, same.stderr) == ("", "no changes from #1 to #1\n")
    assert run("log", "--from", "#1").stderr == "no events after #1\n"


def test_grammar_and_columns(run: Cli, tmp_path: Path) -> None:
    assert "Record an agreement." in run("add", "agreement", "--help").stdout
    assert "Record a visit." in run("add", "visit", "--help").stdout
    one = run("import", "-", input=lines(visit("v", topics=["aid"], actors=["A body with a very long name indeed"])))
    assert one.stderr == "1 new, 0 already there, 0 corrections, 0 retractions, 0 sources added (1 line)\n"
    assert run("topics").stdout == "1  aid\n"
    assert run("state").stdout.startswith("Developments: 1 visit (0 retracted)")
    run("feeds", "build", "--out", str(tmp_path / "site"))
    index = (tmp_path / "site" / "feeds.html").read_text()  # the list of feeds (index.html is the story page)
    assert " 1 development</li>" in index and " 1 developments" not in index
    page = (tmp_path / "site" / "index.html").read_text()
    assert "1 development." in page and "1 developments" not in page
    assert run("actors").stdout.splitlines() == [
        "1  a                                    A",
        "1  a-body-with-a-very-long-name-indeed  A body with a very long name indeed",
    ]
    run("import", "-", input=lines(visit("w", title="Later", occurred="../2024-07")))
    added = run("diff", "#1", "#2").stdout.splitlines()
    assert added[1].startswith("  added      ../2024-07  Later  (")

"""The actor registry on SQLite and PostgreSQL: spellings, roles over time, merges and
splits with their replays, and rebuild equal to incremental."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Cli

KAMIKAWA_SPELLINGS = ["Yoko Kamikawa", "Kamikawa Yoko", "上川陽子", "Kamikawa", "Japan's foreign minister"]


def statement(title: str, speaker: str, occurred: str = "2024-07-06", **more: Any) -> dict[str, Any]:
    return {"kind": "statement", "title": title, "occurred": occurred, "speaker": speaker,
            "paraphrase": more.pop("paraphrase", f"{speaker} spoke."), "sources": ["https://example.org/s"], **more}  # fmt: skip


def import_lines(run: Cli, *items: dict[str, Any]) -> None:
    run("import", "-", input="\n".join(json.dumps(i, ensure_ascii=False) for i in items) + "\n")


def seed_with_spellings(run: Cli) -> None:
    """The seed, plus one statement under each other spelling the seed article uses."""
    run.import_seed()
    import_lines(
        run,
        statement("Foreign Minister Kamikawa Yoko on mine action", "Kamikawa Yoko"),
        statement("上川陽子外務大臣の発言", "上川陽子", quote="カンボジアとの協力を強化します", paraphrase=None),
        statement("Kamikawa on the road loan", "Kamikawa"),
        statement("Japan's foreign minister on Sihanoukville", "Japan's foreign minister", occurred="July 2024"),
    )


def ids_for(run: Cli, actor: str, *more: str) -> set[str]:
    return {d["id"] for d in run.json("show", "--actor", actor, *more)}


def register_kamikawa(run: Cli) -> None:
    run("actor", "add", "Yoko Kamikawa", "--kind", "person", "--wikidata", "Q11488370",
        "--alias", "Kamikawa Yoko", "--alias", "上川陽子", "--alias", "Kamikawa",
        "--role", "Japan's foreign minister", "--from", "September 2023", "--to", "October 2024")  # fmt: skip


def test_the_seeds_kamikawa_spellings_resolve_to_one_actor(run: Cli) -> None:
    seed_with_spellings(run)
    # Before the registry: each spelling is an actor of its own, and each is listed as
    # unresolved with Yoko Kamikawa among its likely matches.
    assert len(ids_for(run, "Yoko Kamikawa")) == 10
    loose = {r["name"]: r for r in run.json("actors", "--unresolved")}
    for name in ("Kamikawa Yoko", "上川陽子", "Kamikawa"):
        assert "Yoko Kamikawa" in [m["name"] for m in loose[name]["likely"]], name
    assert loose["Kamikawa Yoko"]["likely"][0]["command"].startswith("timeline actor add 'Yoko Kamikawa' --alias")

    register_kamikawa(run)
    every = ids_for(run, "Yoko Kamikawa")
    assert len(every) == 14
    for spelling in KAMIKAWA_SPELLINGS:
        assert ids_for(run, spelling) == every, spelling
    actors = {r["slug"]: r for r in run.json("actors")}
    assert actors["yoko-kamikawa"]["developments"] == 14
    assert actors["yoko-kamikawa"]["wikidata"] == "Q11488370"
    assert actors["yoko-kamikawa"]["roles"] == [
        {"role": "Japan's foreign minister", "from": "2023-09", "to": "2024-10"}
    ]
    assert not any("kamikawa" in r["slug"] or "陽" in r["name"] for r in run.json("actors", "--unresolved"))
    # The developments keep the names as reported.
    said = [d for d in run.json("show", "--actor", "上川陽子") if d["kind"] == "statement"]
    assert {d["fields"]["speaker"] for d in said} >= {"Kamikawa Yoko", "上川陽子", "Kamikawa"}


def test_a_role_alias_resolves_by_the_developments_occurred_date(run: Cli) -> None:
    role = "Japan's foreign minister"
    import_lines(
        run,
        statement("In office", role, occurred="2024-07-07"),
        statement("Handover day", role, occurred="2024-10-01"),
        statement("Later", role, occurred="2024-12-01"),
        statement("Across two terms", role, occurred="September-November 2024"),
        statement("Within the term", role, occurred="2024-03/2024-05"),
    )
    run("actor", "add", "Yoko Kamikawa", "--role", role, "--from", "2023-09-13", "--to", "2024-10-01")
    kamikawa = {"In office", "Handover day", "Within the term"}
    assert {d["title"] for d in run.json("show", "--actor", "Yoko Kamikawa")} == kamikawa
    # The role alone, held by one actor so far, names that actor.
    assert {d["title"] for d in run.json("show", "--actor", role)} == kamikawa
    assert {r["name"]: r["developments"] for r in run.json("actors", "--unresolved")} == {role: 2}
    run("actor", "add", "Takeshi Iwaya", "--role", role, "--from", "2024-10-01")
    assert {d["title"] for d in run.json("show", "--actor", "Takeshi Iwaya")} == {"Later"}
    assert {d["title"] for d in run.json("show", "--actor", "Yoko Kamikawa")} == kamikawa - {"Handover day"}
    # On the handover day both held it, and across the change neither did throughout.
    assert {r["name"]: r["developments"] for r in run.json("actors", "--unresolved")} == {role: 2}
    r = run("show", "--actor", role, ok=False)
    assert r.stderr == f"Error: {role!r} is a role several actors held (Takeshi Iwaya, Yoko Kamikawa): name the actor\n"
    # Overlapping terms of one role are refused: a role means one actor at a time.
    r = run("actor", "role", "Takeshi Iwaya", role, "--from", "2024-06", ok=False)
    assert (r.exit_code, r.stderr) == (
        1,
        f"Error: Yoko Kamikawa holds {role!r} from 2023-09-13 to 2024-10-01, which overlaps that term\n",
    )


def test_a_merge_and_its_replay_before_and_after(run: Cli) -> None:
    seed_with_spellings(run)
    run("actor", "add", "Yoko Kamikawa")
    run("actor", "add", "Kamikawa Yoko")
    before_merge = run.json("state")["position"]
    kamikawa, yoko_first = ids_for(run, "Yoko Kamikawa"), ids_for(run, "Kamikawa Yoko")
    assert len(kamikawa) == 10 and len(yoko_first) == 1
    run("actor", "merge", "Yoko Kamikawa", "Kamikawa Yoko", "--reason", "family name first, as the seed writes it")
    merged_at = run.json("state")["position"]
    assert ids_for(run, "Yoko Kamikawa") == kamikawa | yoko_first
    assert ids_for(run, "Kamikawa Yoko") == kamikawa | yoko_first
    rows = {r["slug"]: r for r in run.json("actors")}
    assert rows["kamikawa-yoko"]["merged_into"] == "Yoko Kamikawa"
    assert rows["kamikawa-yoko"]["developments"] == 0
    # Replay before the merge shows them apart; at the merge, together.
    replayed = {d["id"] for d in run.json("replay", "--as-of", f"#{before_merge}", "--actor", "Yoko Kamikawa")}
    assert replayed == kamikawa
    replayed = {d["id"] for d in run.json("replay", "--as-of", f"#{merged_at}", "--actor", "Yoko Kamikawa")}
    assert replayed == kamikawa | yoko_first
    changes = run.json("diff", f"#{before_merge}", f"#{merged_at}")
    assert [(r["event"], r["reason"]) for r in changes["registry"]] == [
        ("Merged", "family name first, as the seed writes it")
    ]
    assert changes["added"] == changes["corrected"] == []
    # Merging twice, or into a merged actor, is refused in one line.
    r = run("actor", "merge", "Kamikawa Yoko", "Yoko Kamikawa", "--reason", "x", ok=False)
    assert r.stderr == "Error: Kamikawa Yoko is merged into Yoko Kamikawa; merge into that actor\n"
    # A split is a new event: apart again, and the replay at the merge still shows it.
    run("actor", "split", "Kamikawa Yoko", "--reason", "merged by mistake")
    assert ids_for(run, "Kamikawa Yoko") == yoko_first
    replayed = {d["id"] for d in run.json("replay", "--as-of", f"#{merged_at}", "--actor", "Yoko Kamikawa")}
    assert replayed == kamikawa | yoko_first
    r = run("actor", "split", "Kamikawa Yoko", "--reason", "again", ok=False)
    assert r.stderr == "Error: Kamikawa Yoko is not merged into another actor\n"


def test_registry_refusals_are_one_line_and_write_nothing(run: Cli) -> None:
    run("actor", "add", "Yoko Kamikawa", "--alias", "Kamikawa")
    position = run.json("state")["position"]
    cases = [
        (("actor", "add", "Fumio Kishida", "--alias", "kamikawa"), 1, "Error: 'kamikawa' is already a name of Yoko Kamikawa\n"),
        (("actor", "alias", "Nobody", "X"), 1, "Error: no actor 'Nobody' in the registry (add it with `timeline actor add`)\n"),
        (("actor", "add", "X", "--wikidata", "Z12"), 2, "Error: wikidata: 'Z12' is not a Wikidata item id (Q followed by digits, e.g. Q11488370)\n"),
        (("actor", "add", "X", "--role", "minister"), 2, "Error: from: is required with --role: when the term began\n"),
        (("actor", "add", "X", "--role", "minister", "--from", "2024", "--to", "2023"), 2, "Error: to: '2023' is before --from '2024'\n"),
        (("actor", "merge", "Yoko Kamikawa", "Kamikawa", "--reason", "x"), 1, "Error: an actor cannot be merged into itself\n"),
    ]  # fmt: skip
    for args, code, message in cases:
        r = run(*args, ok=False)
        assert (r.exit_code, r.stderr) == (code, message), args
    assert run.json("state")["position"] == position
    again = run.json("actor", "add", "Yoko Kamikawa", "--alias", "Kamikawa")
    assert again["status"] == "existing"


def _view_rows(target: str) -> dict[str, list[tuple[Any, ...]]]:
    from timeline import config
    from timeline.app import Timeline
    from timeline.views.registry import TABLES
    from timeline.views.tables import TABLES as CORE

    app = Timeline.open(config.resolve(target))
    try:
        sql = app.sql()
        search = (
            "SELECT first_position, tsv::text FROM timeline_search"
            if sql.postgres
            else "SELECT rowid, body FROM timeline_search"
        )
        with sql.transaction(commit=False) as c:
            rows = {t: sorted(tuple(r) for r in sql.rows(c, f"SELECT * FROM {t}")) for t in (*CORE, *TABLES)}
            rows["search"] = sorted(tuple(r) for r in sql.rows(c, search))
            return rows
    finally:
        app.close()


def test_rebuild_equals_incremental_for_the_registry_and_the_search_index(
    run: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from timeline.views import writer

    monkeypatch.setattr(writer, "REGISTRY_CHUNK", 3)  # a registry event re-resolves in several chunks
    seed_with_spellings(run)
    run("show")
    run("actor", "add", "Kamikawa Yoko", "--alias", "上川陽子")
    register_kamikawa_without_taken = ("actor", "add", "Yoko Kamikawa", "--wikidata", "Q11488370", "--role",
                                       "Japan's foreign minister", "--from", "September 2023", "--to", "October 2024")  # fmt: skip
    run(*register_kamikawa_without_taken)
    run("show")  # catch up between registry events, one batch each
    run("actor", "merge", "Yoko Kamikawa", "Kamikawa Yoko", "--reason", "one person")
    first = run.json("show")[0]["id"]
    run("correct", first, "--set", "title=Corrected title", "--reason", "r")
    run("actor", "split", "Kamikawa Yoko", "--reason", "r")
    run("actor", "merge", "Yoko Kamikawa", "Kamikawa Yoko", "--reason", "one person after all")
    run("show")
    before = _view_rows(run.target)
    outputs = {cmd: run(cmd, "--json").stdout for cmd in ("show", "state", "actors")}
    run("rebuild")
    assert _view_rows(run.target) == before
    assert {cmd: run(cmd, "--json").stdout for cmd in outputs} == outputs
    assert len(before["search"]) == len(before["timeline_developments"])
    assert {r["slug"]: r["developments"] for r in json.loads(outputs["actors"])}[
        "yoko-kamikawa"
    ] == 13  # "Kamikawa" alone is not an alias here


def test_the_shipped_registry_lines_resolve_the_seeds_spellings(run: Cli) -> None:
    from tests.conftest import ROOT

    seed_with_spellings(run)
    lines = ROOT / "examples" / "japan-cambodia-2024-actors.jsonl"
    assert run.json("actor", "import", str(lines)) == {"lines": 5, "new": 5, "changed": 0, "existing": 0}
    every = ids_for(run, "Yoko Kamikawa")
    assert len(every) == 14
    for spelling in KAMIKAWA_SPELLINGS:
        assert ids_for(run, spelling) == every, spelling
    assert run.json("actor", "import", str(lines))["existing"] == 5


def test_a_registry_file_with_one_bad_line_writes_nothing(run: Cli) -> None:
    run.import_seed()
    position = run.json("state")["position"]
    text = (
        '{"op": "actor", "name": "Yoko Kamikawa", "aliases": ["Kamikawa"]}\n'
        '{"op": "actor", "name": "Someone Else", "aliases": ["kamikawa"]}\n'
    )
    r = run("actor", "import", "-", input=text, ok=False)
    assert (r.exit_code, r.stderr) == (
        1,
        "Error: line 2: 'kamikawa' is already a name of Yoko Kamikawa; nothing was imported\n",
    )
    assert run.json("state")["position"] == position


def test_registry_events_in_the_log_are_no_developments(run: Cli) -> None:
    run.import_seed()
    actor = run.json("actor", "add", "Yoko Kamikawa", "--alias", "Kamikawa Yoko")["id"]
    gone = f"Error: no development {actor!r}\n"
    for args in (("correct", actor, "--set", "title=x", "--reason", "r"), ("history", actor), ("show", actor)):
        r = run(*args, ok=False)
        assert (r.exit_code, r.stderr) == (1, gone), args
    line = json.dumps({"op": "retract", "id": actor, "reason": "r"})
    r = run("import", "-", input=line + "\n", ok=False)
    assert r.exit_code == 1 and r.stderr.startswith(f"Error: line 1: id: no development {actor!r}")
    assert run.json("diff", "#1", f"#{run.json('state')['position']}")["corrected"] == []
    run("verify")

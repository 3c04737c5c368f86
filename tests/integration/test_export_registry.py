"""`export --format jsonl` of a log holding actor registry events, replayed with
`actor import` into an empty database on the same back end: the same timeline, the same
corrections history, the same registry, and every event at the position it had, so that a
replay before a merge shows the actors apart in the copy too."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.integration.test_actors import import_lines, register_kamikawa, seed_with_spellings, statement
from tests.integration.test_export import _story, _without_times


@pytest.fixture
def empty(target: str, tmp_path: Path) -> Iterator[Cli]:
    """A second, empty database on the back end of `run`."""
    if "?schema=" not in target:
        yield Cli(str(tmp_path / "again.db"))
        return
    import psycopg

    base = target.partition("?schema=")[0]
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield Cli(f"{base}?schema={schema}")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _story_with_registry(run: Cli) -> dict[str, int]:
    """Corrections, a retraction, the registry, a merge with developments on both sides of
    it, a split and a merge again. Returns positions worth replaying at."""
    _story(run)
    seed_with_spellings(run)
    register_kamikawa(run)
    run("actor", "add", "Hun Manet", "--kind", "person", "--alias", "Prime Minister Hun Manet")
    # "Kamikawa Yoko" is taken by Yoko Kamikawa's aliases: a second actor, to merge.
    run("actor", "add", "Foreign Minister Kamikawa Yoko")
    import_lines(run, statement("Before the merge", "Foreign Minister Kamikawa Yoko", occurred="2024-07-08"))
    before = run.json("state")["position"]
    run("actor", "merge", "Yoko Kamikawa", "Foreign Minister Kamikawa Yoko", "--reason", "one person")
    merged = run.json("state")["position"]
    import_lines(run, statement("After the merge", "Foreign Minister Kamikawa Yoko", occurred="2024-07-09"))
    run("correct", "japan-cambodia-2024/visit", "--set", "title=Kamikawa in Phnom Penh", "--reason", "shorter")
    run("actor", "split", "Foreign Minister Kamikawa Yoko", "--reason", "checking")
    run("actor", "merge", "Yoko Kamikawa", "Foreign Minister Kamikawa Yoko", "--reason", "one person after all")
    return {"before": before, "merged": merged}


def test_export_then_actor_import_reproduces_timeline_history_and_registry(
    run: Cli, empty: Cli, tmp_path: Path
) -> None:
    at = _story_with_registry(run)
    out = tmp_path / "export.jsonl"
    exported = run("export", "--format", "jsonl", "--out", str(out))
    lines = out.read_text(encoding="utf-8").splitlines()
    ops = [json.loads(line).get("op") for line in lines]
    registry = sum(op in ("actor", "alias", "role", "merge", "split") for op in ops)
    assert registry == 11
    assert exported.stderr == (
        f"note: {registry} of the lines are the actor registry's: replay the file with `timeline actor import FILE`"
        " into an empty database (`timeline import` reads development lines only)\n"
    )
    # One line per event, in log order.
    assert len(lines) == run.json("state")["position"]

    result = empty("actor", "import", str(out))
    assert result.stderr == (
        f"3 new actors, 8 changed, 0 already so ({registry} lines)\n"
        f"developments: {len(lines) - registry - 5} new, 0 already there, 3 corrections, 1 retraction,"
        f" 1 source added ({len(lines) - registry} lines)\n"
    )
    assert empty.json("state")["position"] == len(lines)
    assert _without_times(empty.json("show")) == _without_times(run.json("show"))
    assert _without_times(empty.json("actors")) == _without_times(run.json("actors"))
    assert empty.json("actors", "--unresolved") == run.json("actors", "--unresolved")
    for ref in ("japan-cambodia-2024/visit", "japan-cambodia-2024/partnership-upgrade-2023"):
        assert _without_times(empty.json("history", ref)) == _without_times(run.json("history", ref))
    # Each event at its position: before the merge the two actors are apart in the copy
    # too, at the merge together, and the development recorded after it is not there yet.
    for position in (at["before"], at["merged"]):
        args = ("replay", "--as-of", f"#{position}", "--actor", "Yoko Kamikawa")
        assert _without_times(empty.json(*args)) == _without_times(run.json(*args))
    apart = {d["title"] for d in empty.json("replay", "--as-of", f"#{at['before']}", "--actor", "Yoko Kamikawa")}
    together = {d["title"] for d in empty.json("replay", "--as-of", f"#{at['merged']}", "--actor", "Yoko Kamikawa")}
    assert together - apart == {"Before the merge"} and "After the merge" not in together


def _small_export(run: Cli, tmp_path: Path) -> Path:
    """The seed, the registry, then one more development: an export of three runs."""
    run.import_seed()
    register_kamikawa(run)
    import_lines(run, statement("Later", "Kamikawa"))
    out = tmp_path / "export.jsonl"
    run("export", "--format", "jsonl", "--out", str(out))
    return out


def test_plain_import_refuses_an_export_with_registry_lines_and_actor_import_an_unempty_database(
    sqlite_run: Cli, tmp_path: Path
) -> None:
    out = _small_export(sqlite_run, tmp_path)
    first = next(i for i, line in enumerate(out.read_text().splitlines(), 1) if '"op": "actor"' in line)
    r = Cli(str(tmp_path / "plain.db"))("import", str(out), ok=False)
    assert (r.exit_code, r.stderr) == (
        1,
        f"Error: line {first}: unknown op 'actor' (expected one of add, correct, retract, source); nothing was imported\n",
    )
    other = Cli(str(tmp_path / "other.db"))
    other.import_seed()
    before = other.json("state")["position"]
    r = other("actor", "import", str(out), ok=False)
    assert (r.exit_code, r.stderr) == (
        1,
        "Error: this file interleaves development and actor registry lines (an export), which replay into an"
        " empty database only; nothing was imported\n",
    )
    assert other.json("state")["position"] == before


def test_a_bad_development_line_in_an_export_rejects_it_all_naming_the_files_line(
    sqlite_run: Cli, tmp_path: Path
) -> None:
    out = _small_export(sqlite_run, tmp_path)
    lines = out.read_text(encoding="utf-8").splitlines()
    # The last line (a development, after the registry's) made unreadable.
    bad = json.loads(lines[-1])
    bad["occurred"] = "not a date"
    lines[-1] = json.dumps(bad)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    copy = Cli(str(tmp_path / "copy.db"))
    r = copy("actor", "import", str(out), ok=False)
    assert r.exit_code == 1
    assert r.stderr.startswith(f"Error: line {len(lines)}: ") and r.stderr.endswith("; nothing was imported\n")
    assert not (tmp_path / "copy.db").exists()

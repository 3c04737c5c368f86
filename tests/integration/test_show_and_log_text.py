"""The text people read: `show ID` as a whole, and `log --from #N` printing only what came after."""

from __future__ import annotations

import json

from tests.conftest import Cli


def _story(run: Cli) -> None:
    run("add", "visit", "--id", "v", "--title", "A visit", "--occurred", "6 July 2024", "--visitors", "Yoko Kamikawa",
        "--hosts", "Hun Manet", "--place", "Phnom Penh", "--topics", "aid", "--source", "https://example.org/1",
        "--publisher", "CamboJA News")  # fmt: skip
    run("add", "pledge", "--id", "pk", "--title", "A package", "--occurred", "6 July 2024", "--donor", "Japan",
        "--recipient", "Cambodia", "--amount", "USD 103 million", "--instrument", "package",
        "--source", "https://example.org/2")  # fmt: skip
    run("add", "pledge", "--id", "p1", "--title", "A grant", "--occurred", "6 July 2024", "--donor", "Japan",
        "--recipient", "Cambodia", "--amount", "USD 2.7 million", "--instrument", "grant", "--part-of", "pk",
        "--source", "https://example.org/3")  # fmt: skip
    run("correct", "v", "--set", "place=Phnom Penh, Cambodia", "--reason", "names the country",
        "--source", "https://example.org/c")  # fmt: skip
    run("source", "v", "https://example.org/s", "--publisher", "S")
    run("retract", "p1", "--reason", "never given")


def test_show_id_prints_the_development_with_its_sources_corrections_and_parts(run: Cli) -> None:
    _story(run)
    v, pk, p1 = (run.json("show", ref) for ref in ("v", "pk", "p1"))
    assert run("show", "v").stdout == (
        "A visit\n"
        f"  id:        {v['id']}\n"
        "  kind:      visit\n"
        "  occurred:  6 July 2024 (day precision)\n"
        "  place:     Phnom Penh, Cambodia\n"
        "  topics:    aid\n"
        "  actors:    Yoko Kamikawa, Hun Manet\n"
        f"  recorded:  {v['recorded']}  (updated {v['updated']})\n"
        "  Visitors: Yoko Kamikawa\n"
        "  Hosts: Hun Manet\n"
        "  source:    CamboJA News, https://example.org/1\n"
        "  source:    https://example.org/c\n"
        "  source:    S, https://example.org/s\n"
        f"  corrected: {v['corrections'][0]['recorded']}: place; reason: names the country"
        " (source: https://example.org/c)\n"
    )
    assert run("show", "pk").stdout == (
        "A package\n"
        f"  id:        {pk['id']}\n"
        "  kind:      pledge\n"
        "  occurred:  6 July 2024 (day precision)\n"
        "  topics:    -\n"
        "  actors:    Japan, Cambodia\n"
        f"  recorded:  {pk['recorded']}  (updated {pk['updated']})\n"
        "  Japan pledged USD 103 million to Cambodia (package)\n"
        f"  part:      A grant ({p1['id'][:8]}): USD 2.7 million [RETRACTED]\n"
        "  source:    https://example.org/2\n"
    )
    assert run("show", "p1").stdout.endswith(
        f"  part of:   A package ({pk['id'][:8]})\n"
        "  source:    https://example.org/3\n"
        f"  RETRACTED: {p1['retracted']['recorded']}: never given\n"
    )


def test_log_from_prints_only_the_events_after_the_position(run: Cli) -> None:
    _story(run)
    every = run("log").stdout.splitlines()
    assert len(every) == 6
    after = run("log", "--from", "#3")
    assert (after.stdout.splitlines(), after.stderr) == (every[3:], "")
    assert run("log", "--from", "3").stdout.splitlines() == every[3:]  # the # is optional
    assert [e["position"] for e in map(json.loads, run("log", "--from", "#4", "--json").stdout.splitlines())] == [5, 6]
    assert [line[:3] for line in after.stdout.splitlines()] == ["#4 ", "#5 ", "#6 "]
    bad = run("log", "--from", "x", ok=False)
    assert (bad.exit_code, bad.stderr) == (2, "Error: Invalid value for --from: 'x' is not a log position #N\n")

"""Search on SQLite FTS5 and PostgreSQL full-text search: the same answers on both, as of
an earlier point too, and no user text reaching the query syntax."""

from __future__ import annotations

import pytest

from tests.conftest import Cli
from tests.integration.test_actors import import_lines, seed_with_spellings, statement

# (query, options, the titles found): the same on both back ends, by the same test.
FIXED = [
    (
        "Kamikawa Sihanoukville",
        (),
        {"Kamikawa: Japan wants to develop Sihanoukville Port as a hub port to strengthen maritime connectivity"},
    ),
    (
        "KAMIKAWA   sihanoukville",
        (),
        {"Kamikawa: Japan wants to develop Sihanoukville Port as a hub port to strengthen maritime connectivity"},
    ),
    ("上川陽子", (), {"上川陽子外務大臣の発言"}),
    ("カンボジア", (), {"上川陽子外務大臣の発言"}),
    ("陽子上川", (), set()),  # a run of Han characters is a phrase, not a bag of characters
    (
        "Phnom Penh",
        ("--kind", "visit"),
        {"Japanese Foreign Minister Yoko Kamikawa visits Phnom Penh and meets Prime Minister Hun Manet"},
    ),
    ("min*", ("--actor", "Kamikawa Yoko"), {"Foreign Minister Kamikawa Yoko on mine action"}),
    ("Sihanoukville", ("--topic", "nonexistent-topic"), set()),
    ('"; DROP TABLE timeline_developments; --', (), set()),
    ("Kamikawa AND OR NOT NEAR(", (), set()),
]


def titles(run: Cli, *args: str) -> set[str]:
    return {r["title"] for r in run.json("search", *args)}


@pytest.fixture
def story(run: Cli) -> Cli:
    seed_with_spellings(run)
    import_lines(
        run,
        statement("Café owners in Siem Reap", "Đặng Văn Łukasz", paraphrase="Les cafés de Siem Reap sont pleins"),
    )
    return run


def test_search_gives_the_same_answers_on_both_back_ends(story: Cli) -> None:
    for query, options, expected in FIXED:
        assert titles(story, query, *options) == expected, query


def test_search_is_accent_and_case_insensitive(story: Cli) -> None:
    found = {"Café owners in Siem Reap"}
    for query in ("cafe", "CAFÉS", "dang van lukasz", "ĐẶNG", "Łukasz"):
        assert titles(story, query) == found, query


def test_ranked_and_highlighted_in_text_output(story: Cli) -> None:
    r = story("search", "Sihanoukville")
    lines = r.stdout.splitlines()
    title = "Kamikawa: Japan wants to develop [Sihanoukville] Port as a hub port to strengthen maritime connectivity"
    (at,) = [i for i, line in enumerate(lines) if line.endswith(f"statement  {title}  (79ec177c)")]
    assert lines[at + 1] == (
        "        … expanding and that Japan would like to help develop [Sihanoukville] Port as a hub port and"
        " logistics base; the Cambodian navy and the Japanese Coast Guard want t…"
    )
    ranks = [x["rank"] for x in story.json("search", "Kamikawa")]
    assert ranks == sorted(ranks, reverse=True) and len(ranks) >= 5


def test_a_query_without_words_is_refused_in_one_line(story: Cli) -> None:
    r = story("search", "!!! ***", ok=False)
    assert (r.exit_code, r.stdout, r.stderr) == (
        1,
        "",
        "Error: the query has no words to search for (letters or digits)\n",
    )


def test_search_as_of_before_a_correction_finds_the_old_wording(story: Cli) -> None:
    run = story
    (dev,) = run.json("search", "pleins")
    before = run.json("state")["position"]
    run("correct", dev["id"], "--set", "paraphrase=Les cafés de Siem Reap sont vides", "--reason", "misquoted")
    assert titles(run, "pleins") == set()
    assert [r["id"] for r in run.json("search", "pleins", "--as-of", f"#{before}")] == [dev["id"]]
    assert titles(run, "vides", "--as-of", f"#{before}") == set()
    assert titles(run, "vides") == {"Café owners in Siem Reap"}


def test_only_the_most_recent_matches_are_ranked(story: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from timeline.views import search

    every = story.json("search", "Kamikawa", "--limit", "200")
    monkeypatch.setattr(search, "RANKED", 3)
    recent = story.json("search", "Kamikawa", "--limit", "200")
    assert len(every) > 3 and {r["id"] for r in recent} < {r["id"] for r in every}
    assert {r["title"] for r in recent} == {  # the last three recorded that say Kamikawa
        "Foreign Minister Kamikawa Yoko on mine action",
        "Kamikawa on the road loan",
        "Pen Bona: Cambodia is a friend to all countries; the visit shows Japan's continued interest",
    }

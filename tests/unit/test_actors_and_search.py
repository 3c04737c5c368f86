"""The registry's aggregate and resolution, and search's folding and query building,
without a database."""

from __future__ import annotations

import pytest

from events.actors import Actor, actor_id, name_key
from events.errors import InvalidInput
from timeline.views.registry import Registry, with_event
from timeline.views.search import BadQuery, Query, fold, tokens


def registry_of(*actors: Actor) -> Registry:
    reg = Registry()
    for a in actors:
        for e in a.collect_events():
            reg = with_event(reg, e, 1)[0]
    return reg


def test_ids_come_from_the_name_key_and_events_carry_a_class_version() -> None:
    assert actor_id("Yoko  KAMIKAWA") == actor_id("yoko kamikawa") == Actor.add("Yoko Kamikawa").id
    assert name_key("Ｋａｍｉｋａｗａ") == "kamikawa"  # full-width letters are letters
    for cls in (Actor.Added, Actor.Aliased, Actor.RoleAssigned, Actor.Merged, Actor.Split):
        assert cls.class_version == 1


def test_resolution_by_alias_role_term_and_merge() -> None:
    kamikawa = Actor.add("Yoko Kamikawa", "person", "Q11488370")
    kamikawa.alias("上川陽子")
    kamikawa.assign_role("Japan's foreign minister", "September 2023", "October 2024")
    other = Actor.add("Kamikawa Yoko")
    reg = registry_of(kamikawa, other)
    assert reg.resolve("上川陽子").name == "Yoko Kamikawa"  # type: ignore[union-attr]
    assert reg.resolve("Japan's foreign minister", "2024-07-06", "2024-07-06").name == "Yoko Kamikawa"  # type: ignore[union-attr]
    assert reg.resolve("Japan's foreign minister", "2024-10-15", "2024-11-02") is None  # straddles the end
    assert reg.resolve("Japan's foreign minister") is None  # no date: no term holds all time
    assert reg.resolve("Kamikawa Yoko").name == "Kamikawa Yoko"  # type: ignore[union-attr]
    other.merge_into(kamikawa.id, "same person")
    merged = reg
    for e in other.collect_events():
        merged = with_event(merged, e, 2)[0]
    assert merged.resolve("Kamikawa Yoko").name == "Yoko Kamikawa"  # type: ignore[union-attr]
    assert reg.resolve("Kamikawa Yoko").name == "Kamikawa Yoko"  # type: ignore[union-attr]  # the earlier state


def test_the_aggregate_refuses_what_it_cannot_record() -> None:
    a = Actor.add("Yoko Kamikawa")
    with pytest.raises(InvalidInput, match="merged into itself"):
        a.merge_into(a.id, "x")
    with pytest.raises(InvalidInput, match="not merged"):
        a.split("x")
    with pytest.raises(InvalidInput, match="one date"):
        a.assign_role("minister", "2023/2024")
    with pytest.raises(InvalidInput, match="not one of"):
        Actor.add("X", kind="company")


def test_folding_is_the_same_text_for_both_back_ends() -> None:
    assert fold("Café ŁÓDŹ Straße Æther") == "cafe lodz strasse aether"
    assert tokens("Ἀθῆναι Москва́ o_brien 8.3bn") == ["αθηναι", "москва", "o", "brien", "8", "3bn"]
    assert tokens("上川陽子外務大臣は") == list("上川陽子外務大臣は")
    assert tokens("ｶﾝﾎﾞｼﾞｱ") == list("カンボジア")  # half-width katakana read as katakana


def test_queries_are_quoted_tokens_never_syntax() -> None:
    q = Query.read('Kamikawa" OR NEAR( 上川陽子 demin*')
    assert q.fts5() == '"kamikawa" "or" "near" "上 川 陽 子" "demin"*'
    assert q.tsquery() == "'kamikawa' & 'or' & 'near' & ('上' <-> '川' <-> '陽' <-> '子') & 'demin':*"
    with pytest.raises(BadQuery):
        Query.read("*** !!! --")


def test_highlighting_marks_words_and_runs_as_written() -> None:
    from timeline.views.search import highlight

    def mark(w: str) -> str:
        return f"[{w}]"

    assert highlight("上川陽子外務大臣の発言", Query.read("上川陽子"), mark) == "[上川陽子]外務大臣の発言"
    assert highlight("Café de Phnom Penh, cafés", Query.read("cafe caf*"), mark) == "[Café] de Phnom Penh, [cafés]"


def test_a_word_too_long_to_index_is_refused() -> None:
    with pytest.raises(BadQuery, match="longer than 100 letters"):
        Query.read("a" * 101)

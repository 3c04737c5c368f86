"""One-line and paragraph text, and the one rule for list fields (no database)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events import InvalidInput, read_changes, read_report
from events import fields as f
from events.kinds import KINDS

VISITORS = KINDS["visit"].field_index["visitors"]
# Text as people paste it: letters, punctuation, every kind of space and line break.
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1)


@given(TEXT)
def test_a_one_line_field_is_one_line_and_reads_the_same_twice(raw: str) -> None:
    try:
        value = f.line(raw)
    except InvalidInput:
        return  # nothing but spaces or forbidden characters: refused, never stored
    assert value == value.strip() and "  " not in value
    assert not any(c in value for c in "\n\r\t\x0b\x0c\x85\u2028\u2029")
    assert f.line(value) == value


@given(st.lists(st.text(alphabet="abc .,", min_size=1).filter(str.strip), min_size=1, max_size=4))
def test_paragraphs_are_kept_in_text_and_folded_in_a_line(parts: list[str]) -> None:
    raw = "\r\n\r\n".join(parts)
    assert f.text(raw) == "\n\n".join(parts).strip()
    assert "\n" not in f.line(raw)


@given(TEXT.filter(lambda s: not s.strip().startswith("[")))
def test_one_text_is_one_item_on_every_path(name: str) -> None:
    """`add --visitors TEXT`, `correct --set visitors=TEXT` and `"visitors": "TEXT"` in an
    import line give the same list: one item, commas and all."""
    try:
        one = VISITORS.read(name)
    except InvalidInput:
        return
    assert one == [f.line(name)]
    assert VISITORS.read([name]) == VISITORS.read((name,)) == one
    assert read_changes("visit", {"visitors": name})["visitors"] == one


@given(st.lists(st.text(alphabet="abcé ,", min_size=1).filter(str.strip), min_size=1, max_size=4))
def test_a_json_array_is_its_items_on_every_path(names: list[str]) -> None:
    as_json = json.dumps(names, ensure_ascii=False)
    expected = list(dict.fromkeys(f.line(n) for n in names))
    assert VISITORS.read(as_json) == VISITORS.read([as_json]) == VISITORS.read(names) == expected


def test_a_bracket_that_is_not_a_json_array_is_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        VISITORS.read("[Redacted] official")
    assert str(info.value) == """visitors: cannot read '[Redacted] official' as a JSON array such as ["A", "B"]"""
    assert VISITORS.read('["[Redacted] official"]') == ["[Redacted] official"]


def test_a_source_keeps_language_and_via() -> None:
    src = f.source(
        {"url": "https://e.org/1", "publisher": "Daily\nSabah", "language": "Turkish", "via": "Anadolu Agency"}
    )
    assert src == {"url": "https://e.org/1", "publisher": "Daily Sabah", "language": "tr", "via": "Anadolu Agency"}
    assert f.source_text(src) == "Daily Sabah (tr) citing Anadolu Agency, https://e.org/1"
    with pytest.raises(InvalidInput) as info:
        f.source({"url": "https://e.org/1", "lang": "tr"})
    assert str(info.value) == "unknown source key 'lang' (known: url, publisher, published, language, via)"


@pytest.mark.parametrize(("raw", "tag"), [("ja", "ja"), ("Japanese", "ja"), ("pt-BR", "pt-BR"), ("pt_br", "pt-BR"),
                                          ("zh-Hant", "zh-Hant"), ("Swahili", "sw"), ("km", "km")])  # fmt: skip
def test_languages_are_bcp47_tags(raw: str, tag: str) -> None:
    assert f.language(raw) == tag


@pytest.mark.parametrize("raw", ["xx", "Klingonese", "en-", "12", "english please"])
def test_a_language_that_is_none_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput):
        f.language(raw)


def test_translated_no_is_the_same_as_not_saying() -> None:
    base = {
        "kind": "statement",
        "title": "t",
        "occurred": "2024",
        "speaker": "S",
        "quote": "q",
        "sources": ["https://e.org"],
    }
    assert read_report({**base, "translated": False}).fields == read_report(base).fields
    assert read_report({**base, "translated": "yes"}).fields["translated"] is True
    with pytest.raises(InvalidInput) as info:
        read_report({**base, "translated": "maybe"})
    assert str(info.value) == "translated: 'maybe' is not yes or no"


def test_show_lines_keep_ranges_and_times_in_their_column() -> None:
    from timeline.render import DATE_COLUMN, render_line

    lines = [
        render_line({"occurred": o, "kind": "visit", "title": "T", "retracted": False, "id": "0123456789"})
        for o in ("2024-06-04", "2024-06-04/2024-06-05", "2024-08-24T17:05:00+09:00", "2024-08-24T17:05:30")
    ]
    assert [line[:DATE_COLUMN].rstrip() for line in lines] == [
        "2024-06-04",
        "2024-06-04/2024-06-05",
        "2024-08-24 17:05+09:00",
        "2024-08-24 17:05:30",
    ]
    assert {line.index("visit") for line in lines} == {DATE_COLUMN + 1}

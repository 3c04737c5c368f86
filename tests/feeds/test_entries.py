"""Unit tests: entry content and safe paths, without a database or feedgen."""

from __future__ import annotations

from pathlib import Path

import pytest

from feeds.entries import correction_notice, entry, retraction_notice, xml_text
from feeds.folder import Directory
from feeds.layout import feed_path, safe_segment
from feeds.settings import resolve
from timeline.errors import TimelineError

SETTINGS = resolve({}, {"base-url": "http://feeds.test/"})


def doc(**over: object) -> dict:
    base = {
        "id": "0b7e5a3c-1f7e-5c2a-9c1e-6f0f7a1d2b3c",
        "key": "k",
        "kind": "statement",
        "title": "A title",
        "occurred": "2024-07",
        "precision": "month",
        "topics": ["aid"],
        "actors": ["Japan"],
        "fields": {
            "title": "A title",
            "occurred": "2024-07",
            "speaker": "Japan",
            "quote": "We will help",
            "sources": [{"url": "https://a.example/1", "publisher": "A"}, {"url": "https://b.example/2"}],
        },
        "recorded": "2024-07-08T10:00:00.000000Z",
        "updated": "2024-07-08T10:00:00.000000Z",
        "first_position": 1,
        "last_position": 1,
        "corrections": [],
        "retracted": None,
    }
    base.update(over)
    return base


def test_entry_id_is_a_tag_uri_from_authority_year_recorded_and_id() -> None:
    e = entry(doc(title="Changed title", updated="2025-01-01T00:00:00Z"), SETTINGS)
    assert e.id == "tag:news-timeline.example,2024:development/0b7e5a3c-1f7e-5c2a-9c1e-6f0f7a1d2b3c"
    assert e.published.year == 2024 and e.updated.year == 2025


def test_content_says_kind_date_precision_actors_sources() -> None:
    e = entry(doc(), SETTINGS)
    assert "July 2024 (month precision)" in e.content
    assert "We will help" in e.content and "Actors: Japan" in e.content
    assert [link.href for link in e.links] == ["https://a.example/1", "https://b.example/2"]
    assert {c.term for c in e.categories} >= {"statement", "aid", "japan"}


def test_correction_note_shows_before_after_and_reason() -> None:
    note = {
        "position": 2,
        "recorded": "2024-07-09T00:00:00Z",
        "changes": {
            "title": {"before": "Old", "after": "New"},
            "amount": {"before": {"amount": "5", "currency": "USD"}, "after": {"amount": "6", "currency": "USD"}},
        },
        "reason": "typo in report",
        "source": None,
    }
    text = correction_notice(note)
    assert text.startswith("Corrected on 2024-07-09:")
    assert "title: “Old” → “New”" in text and "USD 5 → USD 6" in text and "reason: typo in report" in text
    e = entry(doc(corrections=[note]), SETTINGS)
    assert "Corrected on 2024-07-09" in e.content and "Corrected on" in e.summary


def test_retraction_marks_title_and_makes_a_tombstone() -> None:
    r = {"position": 3, "recorded": "2024-07-10T00:00:00Z", "reason": "never happened", "source": "https://c.example"}
    e = entry(doc(retracted=r), SETTINGS)
    assert e.title == "Retracted: A title"
    assert e.tombstone is not None and e.tombstone.ref == e.id and e.tombstone.when.day == 10
    assert "never happened" in e.content and "never happened" in e.summary


def test_notices_show_a_source_as_publisher_and_link_not_a_dict() -> None:
    src = {"url": "https://c.example/r", "publisher": "Daily Sabah", "via": "Anadolu Agency"}
    r = {"position": 3, "recorded": "2024-07-10T00:00:00Z", "reason": "never happened", "source": src}
    assert retraction_notice(doc(retracted=r)) == (
        "Retracted on 2024-07-10: never happened (source: Daily Sabah citing Anadolu Agency, https://c.example/r)."
        " This development is withdrawn; it is kept here so the record stays complete."
    )
    note = {"position": 2, "recorded": "2024-07-09T00:00:00Z", "changes": {"title": {"before": "A", "after": "B"}},
            "reason": "typo", "source": {"url": "https://d.example/c"}}  # fmt: skip
    assert (
        correction_notice(note)
        == "Corrected on 2024-07-09: title: “A” → “B”; reason: typo (source: https://d.example/c)."
    )
    e = entry(doc(retracted=r, corrections=[note]), SETTINGS)
    assert "{" not in e.summary and "'url'" not in e.content


def test_xml_forbidden_characters_are_the_only_thing_stripped() -> None:
    assert xml_text("a\x00b\x01c\x0bd\ufffee\tf\n<&>\"'😀 مرحبا") == "abcde\tf\n<&>\"'😀 مرحبا"


@pytest.mark.parametrize("slug", ["../x", "/etc/passwd", "a\0b", "", ".", "..", "a/b", "UPPER", "x" * 300])
def test_unsafe_slugs_become_one_safe_segment(slug: str) -> None:
    seg = safe_segment(slug)
    assert "/" not in seg and "\0" not in seg and seg not in ("", ".", "..") and len(seg) <= 100
    assert feed_path(f"topic/{slug}").count("/") == 1


def test_directory_refuses_paths_outside_it(tmp_path: Path) -> None:
    d = Directory(tmp_path / "out")
    for bad in ("../x", "/etc/x", "a/../../x", "a\0b", "", "a//b"):
        with pytest.raises(ValueError):
            d.write(bad, b"x")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "out" / "topic").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ValueError):
        d.write("topic/x.atom", b"x")
    assert list((tmp_path / "elsewhere").iterdir()) == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("authority", "timeline invalid"),
        ("authority", "a..b"),
        ("base-url", "ftp://x"),
        ("base-url", "/rel"),
        ("base-url", 'https://x.example/a"b'),
        ("base-url", "https://x.example/<b>"),
        ("base-url", "https://x.example/a b"),
        ("page-size", "0"),
        ("colour", "red"),
    ],
)
def test_bad_settings_are_one_line_errors(key: str, value: str) -> None:
    with pytest.raises(TimelineError):
        resolve({}, {key: value})


def test_settings_precedence_default_database_command() -> None:
    assert resolve({}, {}).authority == "news-timeline.example"
    assert resolve({"authority": "example.org"}, {}).authority == "example.org"
    assert resolve({"authority": "example.org"}, {"authority": "editor@example.net"}).authority == "editor@example.net"


def test_the_page_shows_values_as_the_domain_does_unquoted_and_with_publishers() -> None:
    from events.display import value_text
    from feeds.page import show_value

    source = {"url": "https://example.org/a", "publisher": "Example"}
    assert show_value("Phnom Penh", "place") == "Phnom Penh"
    assert value_text("place", "Phnom Penh") == "“Phnom Penh”"
    assert show_value([source], "sources") == "https://example.org/a (Example)"
    assert value_text("sources", [source]) == "https://example.org/a"
    assert show_value({"amount": "1000000", "currency": "USD"}, "amount") == value_text(
        "amount", {"amount": "1000000", "currency": "USD"}
    )
    assert show_value("2024-07", "occurred") == value_text("occurred", "2024-07") == "July 2024"
    assert show_value(None) == "(none)"

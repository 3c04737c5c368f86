"""Every fast path of the field readers gives exactly what the full reader gives: the same
value, or the same refusal with the same message (read exactly or refuse)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from events import COMMON_FIELDS, KINDS, InvalidInput, read_report
from events import fields as f
from events.conventions import Conventions, reading
from events.date_reading import plain_day
from events.dates import MONTH_NAMES, OccurredDate
from events.development import NAMESPACE, _uuid5
from events.slugs import check_topic

# Anything a JSON line or a command line can hand a reader, surrogates and controls included.
ANY_TEXT = st.text(alphabet=st.characters(), max_size=40)
URLISH = st.one_of(
    ANY_TEXT,
    st.from_regex(r"\A[hH][tT][tT][pP][sS]?:/{0,3}[A-Za-z0-9.:\[\]@%-]{0,12}([/?#][ -~\t\n]{0,12})?\Z"),
    st.builds(lambda a, b: f"https://{a}{b}", ANY_TEXT, ANY_TEXT),
)
DATEISH = st.one_of(
    ANY_TEXT,
    st.builds(
        lambda d, m, y, pad: f"{pad}{d} {m} {y}{pad}",
        st.integers(0, 40),
        st.sampled_from(["July", "july", "Feb", "Sept.", "Smarch", "February"]),
        st.integers(0, 10000),
        st.sampled_from(["", " ", "\n", "\u3000"]),
    ),
    st.from_regex(r"\A[0-9]{1,5}([-/][0-9]{1,2}){0,2}\Z"),
)


def _outcome(read: Any, raw: Any) -> tuple[str, Any]:
    try:
        return "value", read(raw)
    except InvalidInput as e:
        return "refused", (e.message, e.field)
    except ValueError as e:  # what urlsplit raises for a broken host: must stay the same
        return "error", (type(e), str(e))


@given(URLISH)
@example("https://news.example.org/1")
@example("HTTPS://news.example.org/1")
@example("https://[::1/x")
@example("https://a b")
@example("https:///path")
@example("https://host:port/")
@example("https://\u2100/")
@example("https://x/\u00e9")
def test_a_plain_url_is_read_as_urlsplit_reads_it(raw: str) -> None:
    def full(r: Any) -> str:
        return f._split_url(r, f.text(r))

    assert _outcome(f.url, raw) == _outcome(full, raw)


def test_the_plain_url_form_is_taken_by_the_fast_path() -> None:
    """Without this the property above would pass with a fast path that never matches."""
    assert f._PLAIN_URL.match("https://news.example.org/1?a=b#c")
    assert not f._PLAIN_URL.match("https://news.example.org/a b")


@given(
    st.one_of(
        ANY_TEXT,
        st.text(alphabet=st.characters(max_codepoint=127), max_size=40),
        st.integers(),
        st.sampled_from(["  Tokyo ", "a\r\nb", "a\rb", "\x0b", "\x7f", "x\x00y", "", "   ", "a" * 20_001]),
    )
)
def test_plain_ascii_text_is_read_as_the_full_reader_reads_it(raw: Any) -> None:
    assert _outcome(f.text, raw) == _outcome(f._text, raw)


@given(st.one_of(ANY_TEXT, st.sampled_from(["  Tokyo ", "Phnom\u00a0Penh", "a\r\nb", "\x0b", ""])))
def test_a_cached_line_is_the_line_read_in_full(raw: str) -> None:
    first, second = _outcome(f.line, raw), _outcome(f.line, raw)  # the second from the cache
    assert first == second == _outcome(f._line, raw)


@given(st.one_of(ANY_TEXT, st.sampled_from(["aid", " aid ", "mine-action", "Aid", "a--b", "x" * 81, ""])))
def test_a_cached_topic_is_the_topic_read_in_full(raw: str) -> None:
    first, second = _outcome(f.topic, raw), _outcome(f.topic, raw)
    assert first == second == _outcome(check_topic, raw)


@given(st.one_of(ANY_TEXT, st.just(""), st.none(), st.booleans(), st.lists(st.integers(), max_size=1)))
def test_absent_text_is_only_the_empty_text(value: Any) -> None:
    def absent(fld: f.Field, v: Any) -> bool:  # the rule as written before its fast path
        return v is None or v == "" or v == [] or v == () or (v is False and fld.parse is f.flag)

    for fld in (f.Field("x", f.line, ""), f.Field("y", f.flag, "")):
        assert fld.absent(value) == absent(fld, value)


class _Text(str):
    """A str subclass: never served from the cache."""


def test_only_short_exact_text_is_cached() -> None:
    f._line_cached.cache_clear()
    f.line(_Text("Tokyo"))
    assert f._line_cached.cache_info().currsize == 0
    f.line("Tokyo")
    assert f._line_cached.cache_info().currsize == 1
    f.line("x" * (f._CACHED_LENGTH + 1))  # long texts are read every time, never kept
    assert f._line_cached.cache_info().currsize == 1


@given(DATEISH, st.sampled_from([None, "dmy", "mdy"]))
@example("03/04/2024", None)
@example("03/04/2024", "dmy")
@example("03/04/2024", "mdy")
@example("6 July 2024", None)
@example("2024-07-06", None)
def test_a_cached_date_is_the_date_read_in_full(raw: str, order: str | None) -> None:
    with reading(Conventions(date_order=order)):
        first, second = _outcome(f.date, raw), _outcome(f.date, raw)
        assert first == second == _outcome(f._date, raw)


@given(
    st.one_of(
        DATEISH,
        st.builds(lambda d, m, y: f"{d} {m} {y}", st.integers(0, 40),
                  st.sampled_from(MONTH_NAMES + [m[:3].upper() for m in MONTH_NAMES] + ["sept", "Sept", "Mai"]),
                  st.integers(0, 9999).map(lambda y: f"{y:04d}")),
    ),
    st.sampled_from([None, "dmy", "mdy"]),
)  # fmt: skip
@example("29 February 2023", None)
@example("29 February 2024", None)
@example("31 April 2024", None)
@example("0 May 2000", None)
@example("6 July 0000", None)
@example("\u0666 July 2024", None)  # an Arabic-Indic digit: the reader's \d takes it, the plain form not
def test_a_plain_date_is_the_date_read_in_full(raw: str, order: str | None) -> None:
    with reading(Conventions(date_order=order)):
        plain = plain_day(raw)
        if plain is not None:
            assert _outcome(lambda r: str(OccurredDate.parse(r)), raw) == ("value", plain)


def test_the_date_order_keys_the_date_cache() -> None:
    with reading(Conventions(date_order="dmy")):
        assert f.date("03/04/2024") == "2024-04-03"
    with reading(Conventions(date_order="mdy")):
        assert f.date("03/04/2024") == "2024-03-04"
    with pytest.raises(InvalidInput, match="ambiguous"):
        f.date("03/04/2024")


@given(ANY_TEXT)
@example("")
@example("synthetic/visit/0")
def test_a_development_id_is_the_standard_uuid5(name: str) -> None:
    try:
        expected: Any = uuid.uuid5(NAMESPACE, name)
    except UnicodeEncodeError as e:
        expected = e.reason
    try:
        got: Any = _uuid5(name)
    except UnicodeEncodeError as e:
        got = e.reason
    assert got == expected


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
    max_leaves=6,
)


@given(st.data())
def test_a_report_reads_each_value_as_its_field_reads_it(data: st.DataObject) -> None:
    """`read_report` inlines `Field.read` for one-value fields: the value it stores, or the
    refusal it gives (message and field), is the field's own."""
    from tests.unit.test_development import MINIMAL

    kind = data.draw(st.sampled_from(sorted(MINIMAL)))
    fld = data.draw(st.sampled_from([x for x in (*COMMON_FIELDS, *KINDS[kind].fields) if x.name != "part_of"]))
    value = data.draw(JSON_VALUES)
    raw = {**MINIMAL[kind], fld.name: value}
    report = _outcome(read_report, raw)
    if value is None or fld.absent(value):
        return
    alone = _outcome(fld.read, value)
    if alone[0] == "refused":
        assert report == alone
    elif report[0] == "value" and alone[1] is not False:
        assert report[1].fields[fld.name] == alone[1]

"""The import's quick path (`timeline.importer._quick`: orjson, `quick_report`, orjson's
encoding) reads a line exactly as the exact path (`_parse`: json.loads, `read_report`, the
library's transcoder) does, or leaves it to it: for any line, what it returns is what the
exact path makes of that line, byte for byte, and every line the exact path refuses is
left to it (so it is refused in the exact path's words)."""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import example, given, settings
from hypothesis import strategies as st

from events.conventions import Conventions, reading
from events.development import development_id, development_id_bytes
from timeline import importer

BASE: dict[str, dict[str, Any]] = {
    "visit": {"kind": "visit", "title": "Minister A visit", "summary": "Talks.", "occurred": "1 January 1994",
              "place": "Phnom Penh", "topics": ["aid"], "actors": ["Minister A"],
              "sources": [{"url": "https://news.example.org/0", "publisher": "Kyodo"}],
              "visitors": ["Minister A"], "hosts": ["Minister B"], "purpose": "Talks on aid."},
    "pledge": {"kind": "pledge", "id": "p/1", "title": "Pledge", "occurred": "2 January 2008",
               "sources": ["https://news.example.org/1"], "donor": "Japan", "recipient": "Cambodia",
               "amount": "$699.1 million", "instrument": "loan", "part_of": "p/0"},
    "statement": {"kind": "statement", "title": "Said", "occurred": "03/04/2024", "speaker": "Hun Manet",
                  "quote": "We welcome it.", "translated": True, "language": "km",
                  "sources": [{"url": "https://x.org/s", "via": "AKP"}]},
    "agreement": {"kind": "agreement", "title": "Signed", "occurred": "2024-07", "parties": ["A", "B", "A"],
                  "subject": "Trade", "sources": [{"url": "https://x.org/a", "published": "2024-07-06"}]},
}  # fmt: skip
TEXT = st.text(alphabet=st.characters(), max_size=12)
WORDS = st.sampled_from(["", " ", "Japan", " Japan", "Japan  Ltd", "Café", "yes", "no", "loan", "Loan", "[\"A\"]",
                         "2024-07-06", "1 July 2024", "$5 million", "5", "aid", "Aid", "https://e.org/x",
                         "ftp://e.org", "p/0", "p/1", "\\u0000", "a\nb", "a\tb", "\u2028", "x" * 201])  # fmt: skip
SCALAR = st.one_of(WORDS, WORDS, TEXT, st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats())
VALUE = st.recursive(
    SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["url", "publisher", "published", "via", "x"]), inner, max_size=3),
    ),
    max_leaves=6,
)
KEYS = st.sampled_from(["title", "summary", "occurred", "refers_to", "place", "topics", "actors", "sources", "id",
                        "op", "kind", "donor", "recipient", "amount", "equivalents", "part_of", "speaker",
                        "quote", "paraphrase", "translated", "visitors", "participants", "parties", "subject",
                        "format", "unknown"])  # fmt: skip


@st.composite
def lines(draw: st.DrawFn) -> str:
    obj = dict(BASE[draw(st.sampled_from(sorted(BASE)))])
    for key in draw(st.lists(KEYS, max_size=2)):
        if draw(st.booleans()):
            obj.pop(key, None)
        else:
            obj[key] = draw(VALUE)
    text = json.dumps(obj, ensure_ascii=draw(st.booleans()))
    return draw(
        st.sampled_from([text, text + "\n", " " + text, text[:-1], json.dumps([obj]), text.replace("1", "1.0")])
    )


def _exact(line: str) -> Any:
    try:
        parsed = importer._parse(1, line)
    except importer.ImportRejected as e:
        return "refused", e.reason
    if parsed is None or parsed[0] != "add":
        return parsed
    return "add", importer._added(parsed[1])


@settings(max_examples=400)
@given(lines(), st.sampled_from([None, "dmy", "mdy"]))
@example(json.dumps(BASE["visit"]), None)
@example(json.dumps(BASE["pledge"]), None)
@example(json.dumps(BASE["statement"]), "dmy")
@example(json.dumps(BASE["agreement"]), None)
@example(
    '{"kind": "visit", "title": "A", "occurred": "2024", "visitors": ["A"], "sources": ["https://e.org"],'
    ' "title": "B"}',
    None,
)  # a key twice: both readers keep the last value
@example(json.dumps({**BASE["agreement"], "parties": 12345678901234567890123}), None)
@example(json.dumps({**BASE["agreement"], "subject": "\ud800"}), None)
def test_the_quick_path_reads_a_line_as_the_exact_path_or_leaves_it(line: str, order: str | None) -> None:
    with reading(Conventions(date_order=order)):
        quick = importer._quick(line)
        exact = _exact(line)
    if quick is not None:
        assert exact == ("add", quick)


@given(st.recursive(st.one_of(st.text(alphabet=st.characters(exclude_categories=["Cs"])), st.booleans(), st.none(),
                              st.integers(-(2**63), 2**64 - 1)),
                    lambda inner: st.one_of(st.lists(inner), st.dictionaries(st.text(), inner)), max_leaves=20))  # fmt: skip
def test_orjson_writes_what_the_library_s_transcoder_writes(value: Any) -> None:
    """For the values the quick path encodes (texts, yes/no, whole numbers, lists and
    objects of them): the same bytes as the transcoder the log's mapper uses."""
    assert orjson.dumps(value) == importer._transcoder().encode(value)


def test_the_common_lines_take_the_quick_path() -> None:
    with reading(Conventions(date_order="dmy")):
        for obj in BASE.values():
            assert importer._quick(json.dumps(obj)) is not None, obj
    assert importer._quick(json.dumps({**BASE["visit"], "op": "add"})) is not None
    assert importer._quick(json.dumps({**BASE["visit"], "title": " padded "})) is not None  # read by `line` as ever


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"])))
@example("visit|1994-01-01|minister a visit")
def test_an_id_s_bytes_are_the_uuid_s(key: str) -> None:
    assert development_id_bytes(key) == development_id(key).bytes

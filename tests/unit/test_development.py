"""The development aggregate and the reading of reports and corrections (no database)."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID, uuid5

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    UUIDAsHex,
)

from events import (
    AlreadyRetracted,
    Development,
    InvalidInput,
    NothingChanged,
    Report,
    development_id,
    read_changes,
    read_report,
)
from events.development import NAMESPACE

SRC = "https://example.com/news/visit"
SRC2 = "https://example.com/news/follow-up"

MINIMAL: dict[str, dict[str, Any]] = {
    "visit": {
        "kind": "visit",
        "title": "Foreign minister visits Phnom Penh",
        "occurred": "6 July 2024",
        "visitors": "Yoko Kamikawa",
        "sources": SRC,
    },
    "pledge": {
        "kind": "pledge",
        "title": "Japan pledges aid",
        "occurred": "2024-07-06",
        "donor": "Japan",
        "recipient": "Cambodia",
        "amount": "8.3bn yen",
        "sources": [SRC],
    },
    "statement": {
        "kind": "statement",
        "title": "Minister speaks",
        "occurred": "July 2024",
        "speaker": "Hun Manet",
        "quote": "We thank Japan.",
        "sources": [{"url": SRC, "publisher": "Example News"}],
    },
    "agreement": {
        "kind": "agreement",
        "title": "Partnership upgraded",
        "occurred": "since 1994",
        "parties": ["Japan", "Cambodia"],
        "subject": "Comprehensive strategic partnership",
        "sources": SRC,
    },
}

REQUIRED = {
    "visit": ["title", "occurred", "sources", "visitors"],
    "pledge": ["title", "occurred", "sources", "donor", "recipient", "amount"],
    "statement": ["title", "occurred", "sources", "speaker"],
    "agreement": ["title", "occurred", "sources", "parties", "subject"],
}


def raw(kind: str, /, **changes: Any) -> dict[str, Any]:
    """A minimal report of `kind` with some fields changed; `...` leaves a field out."""
    data = dict(MINIMAL[kind])
    data.update(changes)
    return {k: v for k, v in data.items() if v is not ...}


def recorded(kind: str = "visit", **changes: Any) -> Development:
    return Development.record(read_report(raw(kind, **changes)))


# --- read_report ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(MINIMAL))
def test_read_report_minimal(kind: str) -> None:
    report = read_report(MINIMAL[kind])
    assert isinstance(report, Report)
    assert report.kind == kind
    assert set(report.fields) == set(REQUIRED[kind]) | ({"quote"} if kind == "statement" else set())
    assert report.fields["sources"][0]["url"] == SRC
    assert isinstance(report.id, UUID)
    # Fields are JSON primitives only.
    assert json.loads(json.dumps(dict(report.fields))) == dict(report.fields)


def test_read_report_field_values() -> None:
    visit = read_report(MINIMAL["visit"]).fields
    assert visit["occurred"] == "2024-07-06"
    assert visit["visitors"] == ["Yoko Kamikawa"]
    assert visit["sources"] == [{"url": SRC}]

    pledge = read_report(MINIMAL["pledge"]).fields
    assert pledge["amount"] == {"amount": "8300000000", "currency": "JPY"}

    statement = read_report(MINIMAL["statement"]).fields
    assert statement["occurred"] == "2024-07"
    assert statement["sources"] == [{"url": SRC, "publisher": "Example News"}]

    agreement = read_report(MINIMAL["agreement"]).fields
    assert agreement["occurred"] == "1994/.."
    assert agreement["parties"] == ["Japan", "Cambodia"]


def test_statement_with_paraphrase_only() -> None:
    report = read_report(raw("statement", quote=..., paraphrase="He thanked Japan."))
    assert report.fields["paraphrase"] == "He thanked Japan."
    assert "quote" not in report.fields


def test_pledge_part_of_resolves_a_key_to_an_id() -> None:
    report = read_report(raw("pledge", part_of="Japan-Cambodia-2024/Package"))
    assert report.fields["part_of"] == str(development_id("japan-cambodia-2024/package"))


@pytest.mark.parametrize(("kind", "name"), [(k, n) for k, names in REQUIRED.items() for n in names])
@pytest.mark.parametrize("empty", [..., None, "", []])
def test_missing_required_field_is_named(kind: str, name: str, empty: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        read_report(raw(kind, **{name: empty}))
    named = "visitors or participants" if name == "visitors" else name
    assert str(info.value) == f"required for a{'n' if kind == 'agreement' else ''} {kind}: {named}"


def test_every_missing_required_field_in_one_line() -> None:
    with pytest.raises(InvalidInput) as info:
        read_report({"kind": "statement", "title": " ", "role": "Minister"})
    assert str(info.value) == "required for a statement: occurred, sources, speaker, quote or paraphrase"
    with pytest.raises(InvalidInput) as info:
        read_report({"kind": "agreement"})
    assert str(info.value) == "required for an agreement: title, occurred, sources, parties, subject"


@pytest.mark.parametrize("kind", ["meeting", "", None, "Visit"])
def test_unknown_kind(kind: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        read_report(raw("visit", kind=kind))
    assert info.value.field == "kind"


def test_missing_kind() -> None:
    with pytest.raises(InvalidInput) as info:
        read_report(raw("visit", kind=...))
    assert info.value.field == "kind"


def test_not_a_mapping() -> None:
    with pytest.raises(InvalidInput):
        read_report(["kind", "visit"])  # type: ignore[arg-type]


@pytest.mark.parametrize(("kind", "name"), [("visit", "colour"), ("visit", "donor"), ("pledge", "visitors")])
def test_unknown_field_is_named(kind: str, name: str) -> None:
    with pytest.raises(InvalidInput) as info:
        read_report(raw(kind, **{name: "x"}))
    assert info.value.field == name


def test_statement_needs_quote_or_paraphrase() -> None:
    with pytest.raises(InvalidInput) as info:
        read_report(raw("statement", quote=...))
    assert str(info.value) == "required for a statement: quote or paraphrase"
    with pytest.raises(InvalidInput):
        read_report(raw("statement", quote="   "))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("occurred", "tomorrowish"),
        ("sources", "not a url"),
        ("sources", "ftp://example.com/x"),
        ("topics", "Not A Slug"),
        ("title", 5),
    ],
)
def test_bad_value_names_its_field(name: str, value: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        read_report(raw("visit", **{name: value}))
    assert info.value.field == name


def test_bad_amount_names_its_field() -> None:
    with pytest.raises(InvalidInput) as info:
        read_report(raw("pledge", amount="8 zorkmids"))
    assert info.value.field == "amount"
    assert "zorkmids" in str(info.value)


# --- ids -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(MINIMAL))
def test_id_is_deterministic(kind: str) -> None:
    a, b = read_report(MINIMAL[kind]), read_report(MINIMAL[kind])
    assert a.key == b.key
    assert a.id == b.id
    assert Development.record(a).id == Development.record(b).id == a.id


def test_natural_key_ignores_how_date_and_title_were_written() -> None:
    a = read_report(raw("visit", occurred="6 July 2024", title="Foreign minister visits Phnom Penh"))
    b = read_report(raw("visit", occurred="2024-07-06", title="  FOREIGN minister   visits Phnom Penh "))
    assert a.id == b.id
    assert a.key == "visit|2024-07-06|foreign minister visits phnom penh"


def test_different_developments_get_different_ids() -> None:
    ids = {read_report(MINIMAL[k]).id for k in MINIMAL}
    ids.add(read_report(raw("visit", occurred="2024-07-07")).id)
    ids.add(read_report(raw("visit", title="Another visit")).id)
    assert len(ids) == len(MINIMAL) + 2


def test_explicit_id_key() -> None:
    report = read_report(raw("pledge", id="japan-cambodia-2024/package"))
    assert report.key == "japan-cambodia-2024/package"
    assert report.id == uuid5(NAMESPACE, "japan-cambodia-2024/package")
    assert report.id == development_id("japan-cambodia-2024/package")
    assert Development.record(report).id == report.id


@pytest.mark.parametrize(
    "variant",
    ["Japan-Cambodia-2024/Package", "  japan-cambodia-2024/package\t", "JAPAN-CAMBODIA-2024/PACKAGE"],
)
def test_explicit_id_is_case_and_whitespace_insensitive(variant: str) -> None:
    base = read_report(raw("pledge", id="japan-cambodia-2024/package"))
    other = read_report(raw("pledge", id=variant))
    assert other.id == base.id
    assert other.key == base.key


def test_explicit_id_inner_whitespace_is_collapsed() -> None:
    a = read_report(raw("visit", id="my  key"))
    b = read_report(raw("visit", id="My key"))
    assert a.id == b.id == uuid5(NAMESPACE, "my key")


def test_explicit_id_ignores_other_fields() -> None:
    a = read_report(raw("visit", id="k1"))
    b = read_report(raw("visit", id="k1", title="A different title", occurred="2020"))
    assert a.id == b.id


@pytest.mark.parametrize("bad", ["   ", 5])
def test_explicit_id_must_be_text(bad: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        read_report(raw("visit", id=bad))
    assert info.value.field == "id"


# --- the aggregate -------------------------------------------------------------------------------


def test_record() -> None:
    report = read_report(MINIMAL["visit"])
    dev = Development.record(report)
    assert dev.id == report.id
    assert dev.version == 1
    assert dev.kind == "visit"
    assert dev.key == report.key
    assert dev.fields == dict(report.fields)
    assert dev.retraction is None
    (ev,) = dev.collect_events()
    assert isinstance(ev, Development.Reported)
    assert ev.fields == dict(report.fields)
    assert ev.key == report.key
    assert ev.kind == "visit"


def test_correct_records_before_and_after() -> None:
    dev = recorded("visit")
    dev.collect_events()
    changes = read_changes("visit", {"title": "Minister visits Cambodia", "purpose": "Aid talks"})
    dev.correct(changes, reason="headline was wrong", source=SRC2)
    (ev,) = dev.collect_events()
    assert isinstance(ev, Development.Corrected)
    assert ev.changes == {
        "title": {"before": "Foreign minister visits Phnom Penh", "after": "Minister visits Cambodia"},
        "purpose": {"before": None, "after": "Aid talks"},
    }
    assert ev.reason == "headline was wrong"
    assert ev.source == {"url": SRC2}
    assert dev.fields["title"] == "Minister visits Cambodia"
    assert dev.fields["purpose"] == "Aid talks"
    assert [s["url"] for s in dev.fields["sources"]] == [SRC, SRC2]
    assert dev.version == 2


def test_correct_only_records_what_changed() -> None:
    dev = recorded("visit")
    dev.collect_events()
    dev.correct({"title": "Foreign minister visits Phnom Penh", "purpose": "Aid"}, reason="add purpose")
    (ev,) = dev.collect_events()
    assert ev.changes == {"purpose": {"before": None, "after": "Aid"}}


def test_correct_can_unset_an_optional_field() -> None:
    dev = recorded("visit", purpose="Aid talks")
    dev.correct(read_changes("visit", {"purpose": ""}), reason="not reported")
    assert "purpose" not in dev.fields
    ev = dev.collect_events()[-1]
    assert ev.changes == {"purpose": {"before": "Aid talks", "after": None}}


def test_noop_correction_raises_nothing_changed() -> None:
    dev = recorded("visit")
    dev.collect_events()
    with pytest.raises(NothingChanged):
        dev.correct(read_changes("visit", {"title": "Foreign minister visits Phnom Penh"}), reason="same")
    with pytest.raises(NothingChanged):
        dev.correct(read_changes("visit", {"purpose": ""}), reason="unset what is not set")
    assert dev.collect_events() == []
    assert issubclass(NothingChanged, InvalidInput)


def test_correction_keeps_the_kind_valid() -> None:
    dev = recorded("statement")
    with pytest.raises(InvalidInput):
        dev.correct(read_changes("statement", {"quote": ""}), reason="remove the quote")
    dev.correct(read_changes("statement", {"paraphrase": "He thanked Japan."}), reason="add")
    dev.correct(read_changes("statement", {"quote": ""}), reason="quote was not verbatim")
    assert "quote" not in dev.fields


def test_correction_needs_a_reason() -> None:
    dev = recorded("visit")
    with pytest.raises(InvalidInput) as info:
        dev.correct({"purpose": "Aid"}, reason="")
    assert info.value.field == "reason"


def test_blank_reason_is_named() -> None:
    dev = recorded("visit")
    with pytest.raises(InvalidInput) as info:
        dev.correct({"purpose": "Aid"}, reason="   ")
    assert info.value.field == "reason"


def test_retract() -> None:
    dev = recorded("visit")
    dev.collect_events()
    dev.retract("the visit was cancelled", source=SRC2)
    (ev,) = dev.collect_events()
    assert isinstance(ev, Development.Retracted)
    assert ev.reason == "the visit was cancelled"
    assert ev.source == {"url": SRC2}
    assert dev.retraction == {"reason": "the visit was cancelled", "source": {"url": SRC2}}
    assert [s["url"] for s in dev.fields["sources"]] == [SRC, SRC2]


def test_retract_needs_a_reason() -> None:
    dev = recorded("visit")
    with pytest.raises(InvalidInput) as info:
        dev.retract("")
    assert info.value.field == "reason"


def test_retracted_development_cannot_change() -> None:
    dev = recorded("visit")
    dev.retract("wrong")
    dev.collect_events()
    with pytest.raises(AlreadyRetracted):
        dev.correct(read_changes("visit", {"purpose": "Aid"}), reason="late fix")
    with pytest.raises(AlreadyRetracted):
        dev.retract("again")
    assert dev.collect_events() == []
    assert issubclass(AlreadyRetracted, InvalidInput)


def test_add_source() -> None:
    dev = recorded("visit")
    dev.collect_events()
    dev.add_source({"url": SRC2, "publisher": "Example", "published": "7 July 2024"})
    (ev,) = dev.collect_events()
    assert isinstance(ev, Development.SourceAdded)
    assert ev.source == {"url": SRC2, "publisher": "Example", "published": "2024-07-07"}
    assert dev.fields["sources"][-1] == ev.source
    assert len(dev.fields["sources"]) == 2


def test_add_source_rejects_a_duplicate_url() -> None:
    dev = recorded("visit")
    dev.collect_events()
    with pytest.raises(NothingChanged) as info:
        dev.add_source(SRC)
    assert info.value.field == "source"
    with pytest.raises(NothingChanged):
        dev.add_source({"url": SRC, "publisher": "Someone else"})
    assert dev.collect_events() == []
    assert len(dev.fields["sources"]) == 1


def test_add_source_rejects_a_bad_url() -> None:
    dev = recorded("visit")
    with pytest.raises(InvalidInput):
        dev.add_source("not a url")


# --- read_changes --------------------------------------------------------------------------------


def test_read_changes_parses_values() -> None:
    changes = read_changes("pledge", {"amount": "$51.5 million", "occurred": "July 2024", "purpose": ""})
    assert changes == {
        "amount": {"amount": "51500000", "currency": "USD"},
        "occurred": "2024-07",
        "purpose": None,
    }


@pytest.mark.parametrize("value", [SRC2, [SRC2], ""])
def test_read_changes_rejects_sources(value: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        read_changes("visit", {"sources": value})
    assert info.value.field == "sources"


@pytest.mark.parametrize("name", ["colour", "donor", "kind", "id"])
def test_read_changes_rejects_unknown_fields(name: str) -> None:
    with pytest.raises(InvalidInput) as info:
        read_changes("visit", {name: "x"})
    assert info.value.field == name


@pytest.mark.parametrize(
    ("kind", "name"), [(k, n) for k, names in REQUIRED.items() for n in names if n not in ("sources", "visitors")]
)
@pytest.mark.parametrize("empty", [None, "", []])
def test_read_changes_cannot_unset_a_required_field(kind: str, name: str, empty: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        read_changes(kind, {name: empty})
    assert info.value.field == name


def test_a_visit_keeps_visitors_or_participants() -> None:
    dev = recorded("visit")
    with pytest.raises(InvalidInput) as info:
        dev.correct(read_changes("visit", {"visitors": ""}), "wrong name")
    assert str(info.value) == "a visit needs visitors or participants"
    dev.correct(read_changes("visit", {"visitors": "", "participants": ["A", "B"]}), "a meeting of two")
    assert dev.fields["participants"] == ["A", "B"] and "visitors" not in dev.fields


def test_read_changes_needs_something() -> None:
    with pytest.raises(InvalidInput):
        read_changes("visit", {})


def test_read_changes_unknown_kind() -> None:
    with pytest.raises(InvalidInput) as info:
        read_changes("meeting", {"title": "x"})
    assert info.value.field == "kind"


def test_read_changes_bad_value_names_its_field() -> None:
    with pytest.raises(InvalidInput) as info:
        read_changes("visit", {"occurred": "2024-13"})
    assert info.value.field == "occurred"


# --- same_as -------------------------------------------------------------------------------------


def test_same_as() -> None:
    report = read_report(MINIMAL["visit"])
    dev = Development.record(report)
    assert dev.same_as(report)
    assert dev.same_as(read_report(MINIMAL["visit"]))
    # Written differently but the same fields once read.
    assert dev.same_as(read_report(raw("visit", occurred="2024-07-06", visitors=["Yoko Kamikawa"])))
    assert not dev.same_as(read_report(raw("visit", purpose="Aid talks")))
    assert not dev.same_as(read_report(raw("visit", sources=[SRC, SRC2])))


def test_same_as_compares_with_the_first_report_not_the_corrected_state() -> None:
    report = read_report(MINIMAL["visit"])
    dev = Development.record(report)
    dev.correct(read_changes("visit", {"purpose": "Aid talks"}), reason="more detail")
    dev.add_source(SRC2)
    assert dev.same_as(report)
    assert not dev.same_as(read_report(raw("visit", purpose="Aid talks")))


def test_same_as_checks_the_kind() -> None:
    report = read_report(MINIMAL["visit"])
    dev = Development.record(report)
    assert not dev.same_as(Report("statement", report.key, report.fields))


# --- event versions and upcasting ----------------------------------------------------------------


def mapper() -> Mapper[UUID]:
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DecimalAsStr())
    transcoder.register(DatetimeAsISO())
    return Mapper(transcoder=transcoder)


def test_stored_events_carry_class_version() -> None:
    dev = recorded("visit")
    dev.correct({"purpose": "Aid"}, reason="detail")
    reported, corrected = dev.collect_events()
    m = mapper()
    reported_state = m.transcoder.decode(m.to_stored_event(reported).state)
    corrected_state = m.transcoder.decode(m.to_stored_event(corrected).state)
    assert reported_state["class_version"] == 2
    assert "class_version" not in corrected_state  # version 1 is the default
    # And they read back unchanged.
    again = m.to_domain_event(m.to_stored_event(reported))
    assert again.fields == reported.fields


def test_upcast_v1_v2_turns_url_strings_into_objects() -> None:
    state: dict[str, Any] = {
        "originator_topic": "events.development:Development",
        "key": "visit|2024-07-06|foreign minister visits phnom penh",
        "kind": "visit",
        "fields": {
            "title": "Foreign minister visits Phnom Penh",
            "occurred": "2024-07-06",
            "visitors": ["Yoko Kamikawa"],
            "sources": [SRC, SRC2],
        },
    }
    Development.Reported.upcast_v1_v2(state)
    assert state["fields"]["sources"] == [{"url": SRC}, {"url": SRC2}]
    assert state["fields"]["title"] == "Foreign minister visits Phnom Penh"


def test_upcast_v1_v2_leaves_objects_alone() -> None:
    state: dict[str, Any] = {"fields": {"sources": [SRC, {"url": SRC2, "publisher": "P"}]}}
    Development.Reported.upcast_v1_v2(state)
    assert state["fields"]["sources"] == [{"url": SRC}, {"url": SRC2, "publisher": "P"}]


def test_mapper_upcasts_a_stored_v1_reported_event() -> None:
    dev = recorded("visit")
    (reported,) = dev.collect_events()
    m = mapper()
    stored = m.to_stored_event(reported)
    state = m.transcoder.decode(stored.state)
    # Rewrite it as version 1 wrote it: no class_version, sources as plain URLs.
    del state["class_version"]
    state["fields"]["sources"] = [s["url"] for s in state["fields"]["sources"]]
    v1 = StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=m.transcoder.encode(state),
    )
    event = m.to_domain_event(v1)
    assert isinstance(event, Development.Reported)
    assert event.fields["sources"] == [{"url": SRC}]
    replayed = event.mutate(None)
    assert isinstance(replayed, Development)
    assert replayed.id == dev.id
    assert replayed.fields == dev.fields

"""The domain's events as stored (developments' and actors'): the bytes are pinned, whatever
way the classes are declared (today on each aggregate's own `Event`, each with its `apply`,
so that the library builds no extra classes at start-up). A stored log must read back the
same forever."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic, resolve_topic

from events import Development, read_report
from events.actors import Actor
from tests.unit.test_development import mapper

# What the code stored before the event classes were declared explicitly (commit f3dce25).
STORED = [
    (1, "events.development:Development.Reported",
     b'{"timestamp":{"_type_":"datetime_iso","_data_":"2024-07-06T12:00:00+00:00"},'
     b'"originator_topic":"events.development:Development","key":"pledge|2024-07-06|japan pledges aid",'
     b'"kind":"pledge","fields":{"title":"Japan pledges aid","occurred":"2024-07-06",'
     b'"sources":[{"url":"https://example.com/a","publisher":"P"}],"donor":"Japan","recipient":"Cambodia",'
     b'"amount":{"amount":"8300000000","currency":"JPY"}},"class_version":2}'),
    (2, "events.development:Development.Corrected",
     b'{"timestamp":{"_type_":"datetime_iso","_data_":"2024-07-06T12:01:00+00:00"},'
     b'"changes":{"amount":{"before":{"amount":"8300000000","currency":"JPY"},"after":"9bn yen"},'
     b'"summary":{"before":null,"after":"More."}},"reason":"revised","source":{"url":"https://example.com/b"}}'),
    (3, "events.development:Development.SourceAdded",
     b'{"timestamp":{"_type_":"datetime_iso","_data_":"2024-07-06T12:02:00+00:00"},'
     b'"source":{"url":"https://example.com/c","language":"en"}}'),
    (4, "events.development:Development.Retracted",
     b'{"timestamp":{"_type_":"datetime_iso","_data_":"2024-07-06T12:03:00+00:00"},'
     b'"reason":"wrong story","source":{"url":"https://example.com/d"}}'),
]  # fmt: skip


def lived() -> Development:
    """A pledge reported, corrected, given a source and retracted."""
    report = read_report({"kind": "pledge", "title": "Japan pledges aid", "occurred": "2024-07-06", "donor": "Japan",
                          "recipient": "Cambodia", "amount": "8.3bn yen",
                          "sources": [{"url": "https://example.com/a", "publisher": "P"}]})  # fmt: skip
    dev = Development.record(report)
    dev.correct({"amount": "9bn yen", "summary": "More."}, reason="revised", source="https://example.com/b")
    dev.add_source({"url": "https://example.com/c", "language": "en"})
    dev.retract("wrong story", "https://example.com/d")
    return dev


def stored(aggregate: Aggregate) -> list[tuple[int, str, bytes]]:
    """The aggregate's pending events as the mapper stores them, at fixed times."""
    m = mapper()
    rows = []
    for i, event in enumerate(aggregate.collect_events()):
        object.__setattr__(event, "timestamp", datetime(2024, 7, 6, 12, i, tzinfo=UTC))
        s = m.to_stored_event(event)
        assert s.originator_id == aggregate.id
        rows.append((s.originator_version, s.topic, s.state))
    return rows


def replayed(aggregate: Aggregate) -> list[Any]:
    """The aggregate after each of its pending events, stored and read back (each read
    back event stores the same bytes again)."""
    m = mapper()
    again, states = None, []
    for event in aggregate.collect_events():
        s = m.to_stored_event(event)
        read = m.to_domain_event(s)
        assert m.to_stored_event(read) == s
        again = read.mutate(again)
        states.append(copy.deepcopy(again))
    return states


def test_each_event_stores_the_bytes_it_always_stored() -> None:
    assert stored(lived()) == STORED


def test_the_stored_events_replay_to_the_same_development() -> None:
    dev = lived()
    again = replayed(dev)[-1]
    assert isinstance(again, Development)
    assert (again.id, again.version, again.key, again.kind) == (dev.id, 4, dev.key, dev.kind)
    assert (again.fields, again.reported, again.retraction) == (dev.fields, dev.reported, dev.retraction)
    assert again.corrections_seen == dev.corrections_seen


def test_the_topics_name_the_classes_the_events_are() -> None:
    for name in ("Reported", "Corrected", "Retracted", "SourceAdded"):
        cls = getattr(Development, name)
        assert get_topic(cls) == f"events.development:Development.{name}"
        assert resolve_topic(get_topic(cls)) is cls
        assert issubclass(cls, Development.Event) and issubclass(cls, Aggregate.Event)
    assert issubclass(Development.Reported, Aggregate.Created)


ACTOR_STORED = [
    (1, "events.actors:Actor.Added",
     b'{"timestamp":{"_type_":"datetime_iso","_data_":"2024-07-06T12:00:00+00:00"},'
     b'"originator_topic":"events.actors:Actor","name":"Yoko Kamikawa","kind":"person","wikidata":"Q11488370"}'),
    (2, "events.actors:Actor.Aliased",
     b'{"timestamp":{"_type_":"datetime_iso","_data_":"2024-07-06T12:01:00+00:00"},"alias":"Kamikawa Y\xc5\x8dko"}'),
    (3, "events.actors:Actor.RoleAssigned",
     b'{"timestamp":{"_type_":"datetime_iso","_data_":"2024-07-06T12:02:00+00:00"},'
     b'"role":"Japan\'s foreign minister","start":"2023-09-13","end":"2024-10-01"}'),
    (4, "events.actors:Actor.Merged",
     b'{"timestamp":{"_type_":"datetime_iso","_data_":"2024-07-06T12:03:00+00:00"},'
     b'"into":"12345678-1234-5678-1234-567812345678","reason":"same person"}'),
    (5, "events.actors:Actor.Split",
     b'{"timestamp":{"_type_":"datetime_iso","_data_":"2024-07-06T12:04:00+00:00"},'
     b'"from_actor":"12345678-1234-5678-1234-567812345678","reason":"not the same"}'),
]  # fmt: skip
OTHER = UUID("12345678-1234-5678-1234-567812345678")


def actor_lived() -> Actor:
    """An actor added, aliased, given a role, merged and split again."""
    actor = Actor.add("Yoko Kamikawa", kind="person", wikidata="Q11488370")
    actor.alias("Kamikawa Yōko")
    actor.assign_role("Japan's foreign minister", "2023-09-13", "2024-10-01")
    actor.merge_into(OTHER, "same person")
    actor.split("not the same")
    return actor


def test_each_actor_event_stores_the_bytes_it_always_stored() -> None:
    assert stored(actor_lived()) == ACTOR_STORED


def test_the_stored_actor_events_replay_to_the_same_actor() -> None:
    actor = actor_lived()
    states = replayed(actor)
    again = states[-1]
    assert isinstance(again, Actor) and (again.id, again.version, again.name) == (actor.id, 5, actor.name)
    role = {"role": "Japan's foreign minister", "start": "2023-09-13", "end": "2024-10-01"}
    assert [a.merged_into for a in states] == [None, None, None, str(OTHER), None]  # merged, then split
    assert (again.aliases, again.roles) == (["Yoko Kamikawa", "Kamikawa Yōko"], [role])
    for name in ("Added", "Aliased", "RoleAssigned", "Merged", "Split"):
        cls = getattr(Actor, name)
        assert resolve_topic(get_topic(cls)) is cls and issubclass(cls, Actor.Event)

"""The values written out by hand (`events.frozen`) behave as the frozen dataclasses they
replace: the same repr, equality, hash, `__match_args__`, and the same error on assigning
or deleting. Each is compared with that dataclass, made here as it was declared."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.conventions import Conventions
from events.development import Report
from events.fields import Field, line, text
from events.kinds import KINDS
from events.kinds.base import Kind
from timeline.app import Recorded


def _kind_post_init(self: Any) -> None:
    object.__setattr__(self, "field_index", {x.name: x for x in self.fields})


def _conventions_post_init(self: Any) -> None:
    Conventions(self.date_order, self.decimal_mark)  # the same checks


F = dataclasses.field
REFERENCE: dict[type, Any] = {
    Field: dataclasses.make_dataclass("Field", [("name", str), ("parse", Any), ("help", str), ("required", bool, False),
                                                ("many", bool, False), ("actor_role", bool, False)], frozen=True),
    Kind: dataclasses.make_dataclass("Kind", [("name", str), ("fields", Any), ("one_of", Any, ()),
                                              ("rules", Any, F(default=None)), ("details", Any, F(default=None)),
                                              ("field_index", Any, F(init=False, repr=False, compare=False))],
                                     frozen=True, namespace={"__post_init__": _kind_post_init}),
    Conventions: dataclasses.make_dataclass("Conventions", [("date_order", Any, None), ("decimal_mark", Any, None)],
                                            frozen=True, namespace={"__post_init__": _conventions_post_init}),
    Report: dataclasses.make_dataclass("Report", [("kind", str), ("key", str), ("fields", Any),
                                                  ("references", Any, F(default_factory=dict, compare=False))],
                                       frozen=True),
    Recorded: dataclasses.make_dataclass("Recorded", [("id", str), ("status", str)], frozen=True),
}  # fmt: skip


def _outcome(f: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "value", f()
    except Exception as e:
        return type(e).__name__, str(e)


def same_as_dataclass(cls: type, args: tuple[Any, ...], other: tuple[Any, ...], **kwargs: Any) -> None:
    ref = REFERENCE[cls]
    ours, theirs = cls(*args, **kwargs), ref(*args, **kwargs)
    ours2, theirs2 = cls(*other, **kwargs), ref(*other, **kwargs)
    assert repr(ours) == repr(theirs)
    assert (ours == cls(*args, **kwargs), ours == ours2, ours != ours2) == (
        theirs == ref(*args, **kwargs), theirs == theirs2, theirs != theirs2)  # fmt: skip
    assert ours.__eq__(theirs) is NotImplemented and ours.__eq__(1) is NotImplemented
    assert _outcome(lambda: hash(ours)) == _outcome(lambda: hash(theirs))
    assert cls.__match_args__ == ref.__match_args__
    for name in [f.name for f in dataclasses.fields(ref)] + ["other"]:
        assert _outcome(lambda n=name: setattr(ours, n, 1)) == _outcome(lambda n=name: setattr(theirs, n, 1))
        assert _outcome(lambda n=name: delattr(ours, n)) == _outcome(lambda n=name: delattr(theirs, n))
        assert _outcome(lambda n=name: getattr(ours, n)) == _outcome(lambda n=name: getattr(theirs, n))


def test_a_field_is_its_dataclass() -> None:
    same_as_dataclass(Field, ("title", line, "Headline."), ("title", text, "Headline."), required=True)
    same_as_dataclass(Field, ("topics", line, "Topics.", False, True), ("topics", line, "Topics.", False, True))


def test_a_kind_is_its_dataclass() -> None:
    for kind in KINDS.values():
        args = (kind.name, kind.fields, kind.one_of, kind.rules, kind.details)
        same_as_dataclass(Kind, args, (kind.name, kind.fields[:1], kind.one_of, kind.rules, kind.details))
        assert Kind(*args).field_index == REFERENCE[Kind](*args).field_index == kind.field_index
    # The defaults: no groups, no rules, no lines of its own.
    bare = Kind("note", ())
    assert (bare.one_of, bare.rules({}), bare.details({}), bare.field_index) == ((), None, [], {})


OPTIONAL_TEXT = st.one_of(st.none(), st.sampled_from(["dmy", "mdy", "point", "comma", "bogus"]))


@given(OPTIONAL_TEXT, OPTIONAL_TEXT, OPTIONAL_TEXT, OPTIONAL_TEXT)
def test_conventions_are_their_dataclass(a: str | None, b: str | None, c: str | None, d: str | None) -> None:
    refused = False
    for x, y in ((a, b), (c, d)):  # made, or refused in the same words
        ours = _outcome(lambda x=x, y=y: repr(Conventions(x, y)))
        theirs = _outcome(lambda x=x, y=y: repr(REFERENCE[Conventions](x, y)))
        assert ours == theirs
        refused = refused or ours[0] != "value"
    if refused:
        return
    same_as_dataclass(Conventions, (a, b), (c, d))
    assert Conventions() == Conventions(None, None) and repr(Conventions()) == repr(REFERENCE[Conventions]())


@given(st.text(max_size=5), st.text(max_size=5), st.text(max_size=5))
def test_a_recorded_is_its_dataclass(a: str, b: str, c: str) -> None:
    same_as_dataclass(Recorded, (a, b), (a, c))


@given(st.text(max_size=5), st.text(max_size=5), st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2))
def test_a_report_is_its_dataclass(kind: str, key: str, refs: dict[str, str]) -> None:
    fields = {"title": key}
    same_as_dataclass(Report, (kind, key, fields), (kind, key + "x", fields))
    same_as_dataclass(Report, (kind, key, fields, refs), (kind, key, fields, {}))  # references are not compared
    assert Report(kind, key, fields).references == {}
    assert Report(kind, key, fields).references is not Report(kind, key, fields).references
    report = Report("statement", key, fields)
    assert report.id == report.id  # its cached id is kept on the frozen value
    assert "id" in vars(report)


@pytest.mark.parametrize("cls", list(REFERENCE))
def test_each_written_out_value_says_why(cls: type) -> None:
    assert cls.__doc__ and "events.frozen" in cls.__doc__

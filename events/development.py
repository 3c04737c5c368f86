"""The development aggregate: one reported happening and everything later said of it.

A development is recorded once (`Development.Reported`), then only ever changed by new
events: `Corrected` (fields before -> after, with a reason), `Retracted` (with a reason)
and `SourceAdded`. Nothing stored is edited or deleted.

One aggregate class serves all four kinds: corrections, retractions and sources behave
the same for every kind, and each kind's own typed fields live in `events.kinds`.

Ids are deterministic (uuid5 of a natural key), so recording the same development twice
finds the first. Everything computed (the key, the id, the diff of a correction) is
computed in a public method before the event is triggered; event bodies only assign.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias
from uuid import UUID

from eventsourcing.domain import Aggregate, MetaAggregate

from events.errors import InvalidInput
from events.fields import flag as read_flag
from events.fields import line as read_line
from events.fields import source as read_source
from events.frozen import Frozen
from events.kinds import COMMON_FIELDS, KINDS, get_kind

__all__ = [
    "Development", "Report", "read_report", "read_changes", "development_id",
    "resolve_reference", "apply_changes", "actors_of", "AlreadyRetracted", "NothingChanged",
    "differences", "quick_report", "development_id_bytes",
]  # fmt: skip

# Fixed namespace for development ids: changing it would change every id.
NAMESPACE = UUID("5b0f8f3e-2d4c-5c1e-9a57-6e2b3c1d7f10")
_NAMESPACE_BYTES = NAMESPACE.bytes
_RESERVED = {"kind", "id", "op"}
_ABSENT = object()
_NO_REFERENCES: Any = object()  # `Report`'s default: a new empty dict, as `default_factory=dict` made
_NOT_SETTABLE = {"sources"}  # sources are only ever added, see Development.add_source


class AlreadyRetracted(InvalidInput):
    pass


class NothingChanged(InvalidInput):
    pass


def normalise_key(key: str) -> str:
    return " ".join(key.split()).casefold()


@functools.lru_cache(maxsize=4096)
def development_id(key: str) -> UUID:
    # Cached: validating, recording and creating one development each ask for its id.
    return _uuid5(normalise_key(key))


def _uuid5(name: str) -> UUID:
    """`uuid.uuid5(NAMESPACE, name)` without its per-call import and namespace encoding:
    every imported line makes one id."""
    return UUID(bytes=hashlib.sha1(_NAMESPACE_BYTES + name.encode("utf-8")).digest()[:16], version=5)


def development_id_bytes(key: str) -> bytes:
    """`development_id(key).bytes`, without making the UUID: an import makes one id a line."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + normalise_key(key).encode("utf-8")).digest()[:16])
    digest[6] = digest[6] & 0x0F | 0x50  # version 5, as `UUID(version=5)` sets it
    digest[8] = digest[8] & 0x3F | 0x80  # the RFC 4122 variant
    return bytes(digest)


def resolve_reference(ref: str) -> UUID:
    """A reference is a development id (a UUID) or the natural key it was made from."""
    try:
        return UUID(ref)
    except ValueError:
        return development_id(ref)


def natural_key(kind: str, occurred: str, title: str) -> str:
    return f"{kind}|{occurred}|{normalise_key(title)}"


class Report(Frozen):
    """A validated development ready to be recorded: fields are JSON primitives.

    `references` keeps each reference field as it was written (`part_of`), so an error
    about it can name what the user wrote, not only the id it resolved to. (What a frozen
    dataclass was, `references` not compared; `events.frozen` says why it is written out.)"""

    _fields = ("kind", "key", "fields", "references")
    _compared = ("kind", "key", "fields")
    kind: str
    key: str
    fields: Mapping[str, Any]
    references: Mapping[str, str]

    def __init__(
        self, kind: str, key: str, fields: Mapping[str, Any], references: Mapping[str, str] = _NO_REFERENCES
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "kind", kind)
        set_field(self, "key", key)
        set_field(self, "fields", fields)
        set_field(self, "references", {} if references is _NO_REFERENCES else references)  # a new dict each

    @functools.cached_property
    def id(self) -> UUID:
        return development_id(self.key)


@functools.cache
def _field_table(kind: str) -> dict[str, Any]:
    table = {f.name: f for f in COMMON_FIELDS}
    table.update(get_kind(kind).field_index)
    return table


def _read_fields(
    table: Mapping[str, Any], raw: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str], list[str], InvalidInput | None]:
    """Each field of `table` read from `raw`: (fields, references as written, missing
    required fields, the first value that could not be read). After a value that cannot be
    read, only what is missing is still looked for."""
    fields: dict[str, Any] = {}
    references: dict[str, str] = {}
    missing: list[str] = []
    error: InvalidInput | None = None
    for name, fld in table.items():
        value = raw.get(name)
        if value is None or (not value if type(value) is str else fld.absent(value)):
            if fld.required:
                missing.append(name)
            continue
        if error is not None:
            continue  # only looking for what is missing now
        try:  # `Field.read` inlined for one-value fields: this loop runs for every field of every line
            value = fld.read(value) if fld.many else fld.parse(value)
        except InvalidInput as e:
            error = e if fld.many else InvalidInput(e.message, name)
            continue
        if value is False:  # a yes/no field said no: the same as not saying
            continue
        if name == "part_of":
            references[name] = value
            value = str(resolve_reference(value))
        fields[name] = value
    return fields, references, missing, error


def read_report(raw: Mapping[str, Any]) -> Report:
    """Validate what someone wrote (flat: kind, optional id, common and kind fields)."""
    if not isinstance(raw, Mapping):
        raise InvalidInput("a development is an object of fields")
    kind = get_kind(raw.get("kind"))
    table = _field_table(kind.name)
    for name in raw:
        if name not in table and name not in _RESERVED:
            raise InvalidInput(f"unknown field for {kind.article} {kind.name}", name)
    fields, references, missing, error = _read_fields(table, raw)
    missing += [" or ".join(g) for g in kind.one_of if not any(n in fields for n in g) and
                all(table[n].absent(raw.get(n)) for n in g)]  # fmt: skip
    if missing:  # every missing field in one line, before any value that cannot be read
        raise InvalidInput(f"required for {kind.article} {kind.name}: {', '.join(missing)}")
    if error is not None:
        raise error
    kind.check(fields)
    given_key = raw.get("id")
    if given_key is not None and not (isinstance(given_key, str) and given_key.strip()):
        raise InvalidInput("an id key is non-empty text", "id")
    key = normalise_key(given_key) if given_key else natural_key(kind.name, fields["occurred"], fields["title"])
    _check_not_own_part(fields, development_id(key))
    return Report(kind.name, key, fields, references)


@functools.cache
def _quick_table(kind: str) -> tuple[tuple[str, Any, bool, bool, bool], ...]:
    """(name, parse, required, many, is a yes/no field) of each field, in `_field_table` order."""
    return tuple((n, f.parse, f.required, f.many, f.parse is read_flag) for n, f in _field_table(kind).items())


def quick_report(raw: dict[str, Any]) -> Report | None:
    """`read_report(raw)` for the common development, or None where only `read_report`
    may decide: every value is text, a list of texts (of source objects for `sources`) or
    a yes/no; every required field is given; no value is refused. Each value is read by
    its field's own parser, in the same order, so what is accepted reads the same; the
    rest (every refusal, and every value of another type) is left to `read_report`,
    which says why in its own words. An import reads most of its lines here."""
    kind_name = raw.get("kind")
    kind = KINDS.get(kind_name) if type(kind_name) is str else None
    if kind is None:
        return None
    table = _field_table(kind.name)
    for name in raw:
        if name not in table and name not in _RESERVED:
            return None
    fields: dict[str, Any] = {}
    try:
        for name, parse, required, many, is_flag in _quick_table(kind.name):
            value = raw.get(name)
            if value is None or value == "":
                if required:
                    return None
                continue
            value = _quick_value(value, parse, many, is_flag)
            if value is _SLOW:
                return None
            if value is not _SKIP:
                fields[name] = value
        references = {"part_of": fields["part_of"]} if "part_of" in fields else {}
        if references:
            fields["part_of"] = str(resolve_reference(references["part_of"]))
        if any(not any(n in fields for n in group) for group in kind.one_of):
            return None
        kind.check(fields)
    except InvalidInput:
        return None
    key = _quick_key(raw.get("id"), kind.name, fields)
    if key is None or ("part_of" in fields and fields["part_of"] == str(development_id(key))):
        return None
    return Report(kind.name, key, fields, references)


def _quick_key(given: Any, kind: str, fields: Mapping[str, Any]) -> str | None:
    """The key `read_report` makes, or None where it refuses the id given."""
    if given is not None and not (type(given) is str and given.strip()):
        return None
    return normalise_key(given) if given else natural_key(kind, fields["occurred"], fields["title"])


_SLOW = object()  # a value `quick_report` leaves to `read_report`
_SKIP = object()  # a yes/no field that said no: the same as not saying


def _quick_value(value: Any, parse: Callable[[Any], Any], many: bool, is_flag: bool) -> Any:
    """One given value read as `_read_fields` reads it, `_SKIP`, or `_SLOW`."""
    kind_of = type(value)
    if kind_of is str:
        if not many:
            value = parse(value)
            return _SKIP if value is False else value
        if value[:1] in "[ \t\n":  # a JSON array in a text, or one to strip: `_as_list` decides
            return _SLOW
        return [parse(value)]
    if kind_of is list and many and value:
        items = []
        for item in value:
            if type(item) is str:
                if item[:1] in "[ \t\n":
                    return _SLOW
            elif type(item) is not dict or parse is not read_source:
                return _SLOW
            items.append(parse(item))
        return _unique(items)
    if kind_of is bool and is_flag:
        return value or _SKIP
    return _SLOW


def _unique(items: list[Any]) -> list[Any]:
    """`items` in the order given, without repeats (as `Field.read` keeps them)."""
    if len(items) == 1:
        return items
    out: list[Any] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _check_not_own_part(fields: Mapping[str, Any], own_id: UUID) -> None:
    if "part_of" in fields and fields["part_of"] == str(own_id):  # most have none: no str()
        raise InvalidInput("a pledge cannot be part of itself", "part_of")


def read_changes(kind: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validate corrections: {field: new raw value}; an empty value unsets the field."""
    table = _field_table(kind)
    if not isinstance(raw, Mapping):
        raise InvalidInput("corrections are an object of FIELD: VALUE", "set")
    if not raw:
        raise InvalidInput("nothing to correct: give at least one FIELD=VALUE", "set")
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if name in _NOT_SETTABLE:
            raise InvalidInput("sources are added, not replaced: use --source", name)
        if name not in table:
            raise InvalidInput(f"unknown field for a {kind}", name)
        fld = table[name]
        if isinstance(value, list) and not fld.many:
            raise InvalidInput("takes one value, not a list (was it given more than once?)", name)
        if not fld.absent(value):
            value = fld.read(value)
        if fld.absent(value):
            if fld.required:
                raise InvalidInput(f"required for {get_kind(kind).article} {kind}; it cannot be unset", name)
            out[name] = None
            continue
        if name == "part_of":
            value = str(resolve_reference(value))
        out[name] = value
    return out


def apply_changes(fields: Mapping[str, Any], changes: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Fields after a correction's {field: {"before", "after"}}; None unsets."""
    new = dict(fields)
    for name, change in changes.items():
        if change["after"] is None:
            new.pop(name, None)
        else:
            new[name] = change["after"]
    return new


def with_source(fields: Mapping[str, Any], source: Mapping[str, Any] | None) -> dict[str, Any]:
    new = dict(fields)
    if source and all(s["url"] != source["url"] for s in new.get("sources", [])):
        new["sources"] = [*new.get("sources", []), dict(source)]
    return new


def differences(kind: str, reported: Mapping[str, Any], report: Report) -> list[str]:
    """What a report of an id already recorded (as `kind` with `reported` fields) says
    differently: "kind" first if that differs, then the differing fields. None: a repeat."""
    fields = report.fields
    changed = sorted(k for k in set(reported) | set(fields) if reported.get(k, _ABSENT) != fields.get(k, _ABSENT))
    return (["kind"] if kind != report.kind else []) + changed


def actors_of(kind: str, fields: Mapping[str, Any]) -> list[str]:
    """Everyone taking part: the listed actors and those in the kind's own roles."""
    names = [*fields.get("actors", []), *KINDS[kind].actors_in(fields)]
    seen: list[str] = []
    for n in names:
        if n not in seen:
            seen.append(n)
    return seen


if TYPE_CHECKING:
    from events import development_changes as _changes

_CHANGES = ("Corrected", "Retracted", "SourceAdded")
_CHANGES_MADE = threading.Lock()


class _DevelopmentType(MetaAggregate[Any]):
    """`Development`'s class: makes its three change events the first time one is asked
    for (`Development.Corrected`, a topic resolved, `type(dev).Retracted`). Each is one
    class, made once (under a lock), as if declared in `Development`'s body: the same
    name, module and qualified name, so the same topic and stored bytes. A dataclass each,
    made by the library at every start, ~4M instructions apiece that `timeline add` needs
    none of (issue 16)."""

    def __getattr__(cls, name: str) -> Any:
        if name not in _CHANGES:
            raise AttributeError(f"type object {cls.__name__!r} has no attribute {name!r}")
        with _CHANGES_MADE:
            if name not in Development.__dict__:
                from events import development_changes

                for made in _CHANGES:
                    setattr(Development, made, getattr(development_changes, made))
        return Development.__dict__[name]


class Development(Aggregate, metaclass=_DevelopmentType, created_event_name="Reported"):
    # The events are declared on the aggregate's own base `Event`, each with its `apply`,
    # rather than through `@event` on methods: the library then builds no second (and
    # third) class of each at every start, which `timeline add` pays for in its start-up.
    # The classes' names, fields and field order are what the stored bytes are made of
    # (`tests/unit/test_stored_event_bytes.py` pins them).
    class Event(Aggregate.Event):
        pass

    class Reported(Event, Aggregate.Created):
        # v1 stored sources as plain URL strings; v2 stores {"url", "publisher", ...}.
        class_version = 2
        key: str
        kind: str
        fields: dict[str, Any]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            fields = state["fields"]
            fields["sources"] = [{"url": s} if isinstance(s, str) else s for s in fields.get("sources", [])]

    # The library gives an aggregate a subclass of each event class of its bases that it
    # does not name itself: `Development.Created`, of `Aggregate.Created`, which nothing
    # triggers or stores (`Reported` is the created event; `created_event_name` says so).
    # Naming it here, as `Reported`, spares that class (and its dataclass) at every start.
    Created = Reported

    # The events of later changes are made the first time one is asked for (a correction,
    # a retraction or a source added, or a stored one read back): recording a development
    # needs none of them (see `_DevelopmentType`). They are declared in
    # `events.development_changes`, named and placed as if declared here.
    if TYPE_CHECKING:
        Corrected: TypeAlias = _changes.Corrected
        Retracted: TypeAlias = _changes.Retracted
        SourceAdded: TypeAlias = _changes.SourceAdded

    @staticmethod
    def create_id(key: str) -> UUID:
        return development_id(key)

    def __init__(self, key: str, kind: str, fields: dict[str, Any]) -> None:
        """What `Reported` makes (the library calls it with the event's fields)."""
        self.key = key
        self.kind = kind
        self.reported = dict(fields)  # as first recorded, to recognise a repeat
        self.fields = dict(fields)
        self.retraction: dict[str, Any] | None = None
        # What each correction left, to recognise the same correction made again.
        self.corrections_seen: list[dict[str, Any]] = []

    @classmethod
    def record(cls, report: Report) -> Development:
        return cls(key=report.key, kind=report.kind, fields=dict(report.fields))

    def same_as(self, report: Report) -> bool:
        return not differences(self.kind, self.reported, report)

    @property
    def memory(self) -> dict[str, Any]:
        """What checking a later change needs of this development's past beyond its fields:
        the corrections it has had and its retraction (plain values, to keep elsewhere)."""
        return {"corrections": list(self.corrections_seen), "retraction": self.retraction}

    @classmethod
    def resumed(cls, report: Report, memory: Mapping[str, Any]) -> Development:
        """A stand-in in the state a kept `memory` describes, with `report.fields` as its
        current fields: to check a change and make its event without loading the real one
        (only the event's body is meant to be kept; its version is the stand-in's)."""
        dev = cls.record(report)
        dev.collect_events()
        dev.corrections_seen = list(memory["corrections"])
        dev.retraction = memory["retraction"]
        return dev

    def correct(self, changes: Mapping[str, Any], reason: str | None, source: Any = None) -> None:
        self._check_open()
        reason = _read(read_line, reason, "reason")
        src = _read(read_source, source, "source") if source else None
        diff = {
            name: {"before": self.fields.get(name), "after": after}
            for name, after in changes.items()
            if self.fields.get(name) != after
        }
        if not diff:
            raise NothingChanged("every field already has that value", "set")
        after = apply_changes(self.fields, diff)
        get_kind(self.kind).check(after)
        _check_not_own_part(after, self.id)
        self.trigger_event(type(self).Corrected, changes=diff, reason=reason, source=src)

    def repeats(
        self, op: str, reason: Any = None, source: Any = None, changes: Mapping[str, Any] | None = None
    ) -> bool:
        """Whether this change is one the development already has: a correction with the
        same reason and source that set those fields to those values (fields the request
        names that it did not change already had them), the same retraction, or a source
        already listed with the same details. Re-importing a file relies on it."""
        reason = _read(read_line, reason, "reason") if op != "source" else None
        src = _read(read_source, source, "source") if source else None
        url = src["url"] if src else None
        if op == "correct":
            wanted = dict(changes or {})
            return any(
                c["reason"] == reason and c["source"] == url and set(c["changed"]) <= set(wanted)
                and all(c["after"].get(k) == v for k, v in wanted.items())
                for c in self.corrections_seen
            )  # fmt: skip
        if op == "retract":
            r = self.retraction
            return r is not None and r["reason"] == reason and (r["source"] or {}).get("url") == url
        return src is not None and src in self.fields.get("sources", [])

    def retract(self, reason: str | None, source: Any = None) -> None:
        self._check_open()
        reason = _read(read_line, reason, "reason")
        src = _read(read_source, source, "source") if source else None
        self.trigger_event(type(self).Retracted, reason=reason, source=src)

    def add_source(self, source: Any) -> None:
        src = _read(read_source, source, "source")
        if any(s["url"] == src["url"] for s in self.fields.get("sources", [])):
            raise NothingChanged("that source is already listed", "source")
        self.trigger_event(type(self).SourceAdded, source=src)

    def _check_open(self) -> None:
        if self.retraction is not None:
            raise AlreadyRetracted(f"development {self.id} is retracted; it can no longer change")


def _seen(
    changes: Mapping[str, Any], reason: str, source: Mapping[str, Any] | None, after: Mapping[str, Any]
) -> dict[str, Any]:
    url = source.get("url") if isinstance(source, Mapping) else source
    return {"reason": reason, "source": url, "changed": sorted(changes),
            "after": {k: v for k, v in after.items() if k != "sources"}}  # fmt: skip


def _read(parse: Any, value: Any, name: str) -> Any:
    """Parse one value, naming the field in any error."""
    if value is None or value == "":
        raise InvalidInput("is required", name)
    try:
        return parse(value)
    except InvalidInput as e:
        raise InvalidInput(e.message, name) from None

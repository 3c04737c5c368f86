"""The actor registry's application side: record actors, aliases, roles, merges, splits.

Each method checks what the registry already says (its view, caught up first) so that a
name never means two actors at once, then saves one actor aggregate: every event of one
command is stored in one transaction. Callers get plain dicts.

Where the database is not there yet, a command checks against the empty registry first
and opens (creates) the database only to save what passed: a refusal creates nothing.
`import_registry` also replays a whole `export --format jsonl` file, registry lines and
development lines in their order (see its docstring).
"""

from __future__ import annotations

import functools
import json
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from events.actors import Actor, ActorStateError, actor_id, name_key, read_name, role_term
from events.dates import OccurredDate
from events.errors import InvalidInput
from events.slugs import slugify
from timeline.errors import TimelineError
from timeline.views.registry import Registry, with_event

if TYPE_CHECKING:
    from pykakasi import kakasi

    from timeline.app import Timeline


class Database(Protocol):
    """Where a command records: `timeline.commands.common.Session` is one. `app` opens
    the database, creating a SQLite file that is not there yet."""

    @property
    def app(self) -> Timeline: ...

    def exists(self) -> bool: ...


class ActorNotFound(TimelineError):
    def __init__(self, ref: str) -> None:
        super().__init__(f"no actor {ref!r} in the registry (add it with `timeline actor add`)")


class NameTaken(TimelineError):
    pass


def _registry(app: Timeline) -> Registry:
    from timeline.views.runner import Views

    views = Views(app)
    views.catch_up()
    with views.sql.transaction(commit=False) as c:
        return Registry.load(views.sql, c)


def _check_name_free(reg: Registry, name: str, own: UUID) -> None:
    for a in reg.aliases.get(name_key(name), []):
        if a.actor_id != str(own) and not a.role:
            raise NameTaken(f"{name!r} is already a name of {reg.actors[a.actor_id].name}")


def _check_role_free(reg: Registry, role: str, start: str, end: str | None, own: UUID) -> None:
    lo, hi = role_term(start, end)
    for a in reg.aliases.get(name_key(role), []):
        if not a.role:
            raise NameTaken(f"{role!r} is already a plain name of {reg.actors[a.actor_id].name}, not a role")
        # Two terms may share their boundary day (a handover); a development on that
        # day then names neither for sure, and stays unresolved.
        if a.actor_id != str(own) and a.start_day < hi and lo < a.end_day:
            raise NameTaken(
                f"{reg.actors[a.actor_id].name} holds {role!r} from {a.term_start} to {a.term_end or 'now'}, "
                "which overlaps that term"
            )


def _plain(actor: Actor, status: str = "changed") -> dict[str, Any]:
    return {
        "id": str(actor.id),
        "name": actor.name,
        "slug": slugify(actor.name),
        "kind": actor.kind,
        "wikidata": actor.wikidata,
        "aliases": list(actor.aliases),
        "roles": [dict(r) for r in actor.roles],
        "merged_into": actor.merged_into,
        "version": actor.version,
        "status": status,
    }


class Edit:
    """Registry changes checked against the registry as it stands plus the changes made
    so far, saved together (one transaction) by `save`: one command, or a whole file.
    With no `app` (no database yet) they are checked against the empty registry, and
    `save` needs the app to be given first."""

    def __init__(self, app: Timeline | None) -> None:
        self.app = app
        self.reg = _registry(app) if app is not None else Registry()
        self.pending: dict[UUID, Actor] = {}
        self._applied: dict[UUID, int] = {}

    def get(self, aid: UUID) -> Actor | None:
        if aid in self.pending:
            return self.pending[aid]
        if self.app is None:
            return None
        try:
            actor: Actor = self.app.repository.get(aid)
            return actor
        except AggregateNotFoundError:
            return None

    def find(self, ref: str) -> Actor:
        ids = {a.actor_id for a in self.reg.aliases.get(name_key(ref), []) if not a.role}
        if len(ids) > 1:
            raise NameTaken(f"{ref!r} names several actors; give the actor's own name")
        actor = self.get(UUID(ids.pop()) if ids else actor_id(ref))
        if actor is None:
            raise ActorNotFound(ref)
        return actor

    def _done(self, actor: Actor) -> None:
        """Let later checks see this actor's new events."""
        events = actor.pending_events
        for e in events[self._applied.get(actor.id, 0) :]:
            self.reg = with_event(self.reg, e, 0)[0]
        self._applied[actor.id] = len(events)
        self.pending[actor.id] = actor

    def save(self, app: Timeline | None = None) -> None:
        """Store the pending events in one transaction (in `app`, given where the edit was
        checked with none); the edit goes on from what is stored."""
        self.app = app or self.app
        assert self.app is not None, "an edit checked without a database is saved into one"
        try:
            self.app.save(*self.pending.values())
        except IntegrityError:
            raise TimelineError("another writer changed the registry meanwhile; run the command again") from None
        self.pending.clear()
        self._applied.clear()

    def add(  # noqa: PLR0913 - the options of `actor add`, which `add_actor` passes on
        self, name: str, aliases: Sequence[str] = (), kind: str | None = None, wikidata: str | None = None,
        role: str | None = None, start: str | None = None, end: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        name = read_name(name)
        aid = actor_id(name)
        if role is None and (start or end):
            raise InvalidInput("--from and --to give the term of a --role", "role")
        actor = self.get(aid)
        if actor is not None:
            if (kind and kind != actor.kind) or (wikidata and wikidata.strip().upper() != actor.wikidata):
                raise NameTaken(
                    f"actor {actor.name} is already registered with kind {actor.kind}, Wikidata {actor.wikidata}"
                )
            before = len(actor.pending_events)
        else:
            _check_name_free(self.reg, name, aid)
            slug = slugify(name)
            for other in self.reg.actors.values():
                if other.slug == slug:
                    raise NameTaken(f"{name!r} would share the slug {slug!r} with {other.name}; alias it instead")
            actor = Actor.add(name, kind, wikidata)
            before = -1
        self._done(actor)
        self._more(actor, aliases, role, start, end)
        status = "new" if before < 0 else ("changed" if len(actor.pending_events) > before else "existing")
        return _plain(actor, status)

    def _more(self, actor: Actor, aliases: Sequence[str], role: str | None, start: str | None, end: str | None) -> None:
        for alias in aliases:
            _check_name_free(self.reg, read_name(alias, "alias"), actor.id)
            actor.alias(alias)
            self._done(actor)
        if role is not None:
            role = read_name(role, "role")
            actor.assign_role(role, start, end)
            r = actor.roles[-1]
            _check_role_free(self.reg, role, r["start"], r["end"], actor.id)
            self._done(actor)

    def alias(self, ref: str, alias: str) -> dict[str, Any]:
        actor = self.find(ref)
        before = len(actor.pending_events)
        self._more(actor, (alias,), None, None, None)
        return _plain(actor, "changed" if len(actor.pending_events) > before else "existing")

    def role(self, ref: str, role: str, start: str | None, end: str | None) -> dict[str, Any]:
        actor = self.find(ref)
        before = len(actor.pending_events)
        self._more(actor, (), role, start, end)
        return _plain(actor, "changed" if len(actor.pending_events) > before else "existing")

    def merge(self, into_ref: str, other_ref: str, reason: str) -> dict[str, Any]:
        into = self.find(into_ref)
        other = self.find(other_ref)
        if into.merged_into is not None:
            target = self.reg.root(str(into.id))
            raise NameTaken(
                f"{into.name} is merged into {target.name if target else into.merged_into}; merge into that actor"
            )
        try:
            other.merge_into(into.id, reason)
        except ActorStateError as e:
            raise NameTaken(str(e)) from None
        self._done(other)
        return _plain(other)

    def split(self, ref: str, reason: str) -> dict[str, Any]:
        actor = self.find(ref)
        try:
            actor.split(reason)
        except ActorStateError as e:
            raise NameTaken(str(e)) from None
        self._done(actor)
        return _plain(actor)


def _one(app: Timeline, change: Callable[[Edit], dict[str, Any]]) -> dict[str, Any]:
    edit = Edit(app)
    result = change(edit)
    edit.save()
    return result


def add_actor(  # noqa: PLR0913 - one parameter per option of `actor add`
    db: Database, name: str, aliases: Sequence[str] = (), kind: str | None = None, wikidata: str | None = None,
    role: str | None = None, start: str | None = None, end: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Checked before the database is opened where there is none yet."""
    edit = Edit(db.app if db.exists() else None)
    result = edit.add(name, aliases, kind, wikidata, role, start, end)
    edit.save(db.app)
    return result


def add_alias(app: Timeline, ref: str, alias: str) -> dict[str, Any]:
    return _one(app, lambda e: e.alias(ref, alias))


def assign_role(app: Timeline, ref: str, role: str, start: str | None, end: str | None) -> dict[str, Any]:
    return _one(app, lambda e: e.role(ref, role, start, end))


def merge(app: Timeline, into_ref: str, other_ref: str, reason: str) -> dict[str, Any]:
    """`other` is the same actor as `into`: its names resolve to `into` from now on."""
    return _one(app, lambda e: e.merge(into_ref, other_ref, reason))


def split(app: Timeline, ref: str, reason: str) -> dict[str, Any]:
    return _one(app, lambda e: e.split(ref, reason))


# One line of a registry file, and the Edit method it calls with which fields.
LINE_OPS: dict[str, tuple[str, ...]] = {
    "actor": ("name", "aliases", "kind", "wikidata", "roles"),
    "alias": ("actor", "name"),
    "role": ("actor", "role", "from", "to"),
    "merge": ("into", "other", "reason"),
    "split": ("actor", "reason"),
}


@dataclass
class _Run:
    """Consecutive lines of one sort in a file, registry lines or development lines, by
    their line numbers in the file."""

    registry: bool
    numbers: list[int]


def import_registry(db: Database, lines: Iterable[str]) -> dict[str, Any]:
    """Registry lines (JSON: {"op": "actor", "name", "aliases", "kind", "wikidata",
    "roles": [{"role", "from", "to"}]}, and "alias", "role", "merge", "split" lines with the
    commands' arguments), all checked before anything is written: one bad line rejects
    the file, naming it, and nothing is stored.

    A file may hold development lines too (`timeline export --format jsonl` writes one
    line per event of the log, in log order): each run of them is imported in turn, in
    its place between the registry's, so that the replayed log has every event at the
    position it had (a replay before a merge shows the actors apart there too). Such a
    file replays into an empty database only, after a dry run of its development lines
    into a scratch database has checked them all: one bad line, and nothing is stored.
    The counts then hold "developments", what `timeline import` would say of them."""
    with tempfile.TemporaryFile("w+", encoding="utf-8", prefix="timeline-actor-import-") as spool:
        runs = _spool(lines, spool)
        counts = _check_registry_lines(db.app if db.exists() else None, spool, runs)
        developments = [r for r in runs if not r.registry]
        if not developments:
            _replay(db.app, spool, runs)
            return counts
        if len(runs) > 1:
            if db.exists() and db.app.event_count():
                raise TimelineError(
                    "this file interleaves development and actor registry lines (an export), which replay"
                    " into an empty database only; nothing was imported"
                )
            _dry_run(spool, developments)
        counts["developments"] = _replay(db.app, spool, runs)
    return counts


def _spool(lines: Iterable[str], spool: IO[str]) -> list[_Run]:
    """Copy `lines` (read once: stdin works too) to `spool` without its blank lines,
    noting its runs."""
    runs: list[_Run] = []
    for number, text in enumerate(lines, 1):
        if not text.strip():
            continue
        registry = _is_registry_line(text)
        if not runs or runs[-1].registry != registry:
            runs.append(_Run(registry, []))
        runs[-1].numbers.append(number)
        spool.write(text if text.endswith("\n") else text + "\n")
    spool.flush()
    return runs


def _is_registry_line(text: str) -> bool:
    """A line whose op is a registry op; any other (bad JSON too) is a development line,
    for `timeline import` to read or refuse."""
    if '"op"' not in text:
        return False
    try:
        line = json.loads(text)
    except ValueError:
        return False
    return isinstance(line, dict) and line.get("op") in LINE_OPS


def _texts(spool: IO[str], run: _Run) -> Iterator[str]:
    """The lines of `run`, read from where the spool stands (runs are read in order)."""
    for _ in run.numbers:
        yield spool.readline()


def _record_lines(edit: Edit, spool: IO[str], run: _Run, counts: dict[str, int]) -> None:
    from timeline.importer import ImportRejected

    for number, text in zip(run.numbers, _texts(spool, run), strict=True):
        try:
            status = _line(edit, text)
        except (InvalidInput, TimelineError) as e:
            raise ImportRejected(number, str(e)) from None
        counts["lines"] += 1
        counts[status] += 1


def _check_registry_lines(app: Timeline | None, spool: IO[str], runs: list[_Run]) -> dict[str, Any]:
    """Every registry line checked in order on one edit that is never saved (against the
    empty registry where there is no database yet)."""
    edit = Edit(app)
    counts: dict[str, Any] = {"lines": 0, "new": 0, "changed": 0, "existing": 0}
    spool.seek(0)
    for run in runs:
        if run.registry:
            _record_lines(edit, spool, run, counts)
        else:
            for _ in _texts(spool, run):
                pass
    return counts


def _import_run(app: Timeline, texts: Iterable[str], numbers: list[int]) -> dict[str, int]:
    """`timeline import` of development lines, a rejection naming the file's line."""
    from timeline.importer import ImportRejected, import_lines

    try:
        return import_lines(app, texts).as_dict()
    except ImportRejected as e:
        said = str(e).removeprefix(f"line {e.line}: ").removesuffix("; nothing was imported")
        raise ImportRejected(numbers[e.line - 1], said) from None


def _dry_run(spool: IO[str], runs: list[_Run]) -> None:
    """Import every development line of the file into a scratch SQLite database, which
    checks them as importing them into an empty database would; then forget it."""
    from timeline import config
    from timeline.app import Timeline

    numbers = [n for run in runs for n in run.numbers]
    spool.seek(0)
    texts = (text for text in spool if not _is_registry_line(text))
    with tempfile.TemporaryDirectory(prefix="timeline-actor-import-") as folder:
        app = Timeline.open(config.resolve(str(Path(folder) / "dry-run.db")))
        try:
            _import_run(app, texts, numbers)
        finally:
            app.close()


def _replay(app: Timeline, spool: IO[str], runs: list[_Run]) -> dict[str, int]:
    """Record the file, run after run: the registry's lines of one run in one transaction,
    a run of development lines as `timeline import` does. The development counts summed."""
    edit = Edit(app)
    totals: dict[str, int] = {}
    spool.seek(0)
    for run in runs:
        if run.registry:
            _record_lines(edit, spool, run, {"lines": 0, "new": 0, "changed": 0, "existing": 0})
            edit.save()
        else:
            for key, n in _import_run(app, _texts(spool, run), run.numbers).items():
                totals[key] = totals.get(key, 0) + n
    return totals


def _line(edit: Edit, text: str) -> str:
    import json

    try:
        line = json.loads(text)
    except ValueError as e:
        raise InvalidInput(f"not JSON ({e.args[0] if e.args else e})") from None
    if not isinstance(line, dict) or line.get("op") not in LINE_OPS:
        raise InvalidInput(f"a registry line is an object with op one of {', '.join(LINE_OPS)}")
    op = line["op"]
    unknown = sorted(set(line) - {"op", *LINE_OPS[op]})
    if unknown:
        raise InvalidInput(f"unknown field for an {op} line", unknown[0])

    def get(key: str, required: bool = True) -> Any:
        value = line.get(key)
        if value is None or value == "":
            if required:
                raise InvalidInput("is required", key)
            return None
        if not isinstance(value, str):
            raise InvalidInput("is text", key)
        return value

    if op == "actor":
        roles = line.get("roles") or []
        if not isinstance(roles, list) or not all(
            isinstance(r, dict) and set(r) <= {"role", "from", "to"} and all(isinstance(v, str) for v in r.values())
            for r in roles
        ):
            raise InvalidInput('roles are a list of {"role", "from", "to"} objects of text', "roles")
        aliases = line.get("aliases") or []
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise InvalidInput("aliases are a list of names", "aliases")
        result = edit.add(get("name"), aliases, get("kind", False), get("wikidata", False))
        changed = False
        for r in roles:
            changed |= edit.role(result["name"], r.get("role", ""), r.get("from"), r.get("to"))["status"] == "changed"
        return "changed" if changed and result["status"] == "existing" else str(result["status"])
    if op == "alias":
        return str(edit.alias(get("actor"), get("name"))["status"])
    if op == "role":
        return str(edit.role(get("actor"), get("role"), get("from"), get("to", False))["status"])
    if op == "merge":
        edit.merge(get("into"), get("other"), get("reason"))
        return "changed"
    edit.split(get("actor"), get("reason"))
    return "changed"


def describe_term(start: str, end: str | None) -> str:
    lo = OccurredDate.from_canonical(start).humane()
    return f"{lo} – {OccurredDate.from_canonical(end).humane()}" if end else f"since {lo}"


# --- names the registry does not resolve, and what they probably are ------------------------

_KANA_HAN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")
_LONG_VOWEL = re.compile(r"(?<=[ou])u|(?<=o)o")


@functools.lru_cache(maxsize=4096)
def romanised(name: str) -> str:
    """A name in Latin letters for comparing spellings: Japanese through pykakasi (Hepburn,
    long vowels shortened as in English-language news: Yōko, Youko → yoko), everything else
    through anyascii. Chinese characters get their Japanese reading: a suggestion only."""
    from anyascii import anyascii

    if _KANA_HAN.search(name):
        name = " ".join(part["hepburn"] for part in _kakasi().convert(name) if part["hepburn"].strip())
    text = " ".join(anyascii(name).casefold().replace("'", "").split())
    return _LONG_VOWEL.sub("", text)


@functools.cache
def _kakasi() -> kakasi:
    import pykakasi

    return pykakasi.kakasi()  # type: ignore[no-untyped-call]


def _score(a: str, b: str, **kwargs: Any) -> float:
    """Spellings of one name in any word order (token_sort_ratio), or a family name alone
    against a two-word personal name ("Kamikawa", "Yoko Kamikawa")."""
    from rapidfuzz import fuzz

    score = float(fuzz.token_sort_ratio(a, b, **kwargs))
    short, long_ = sorted((a.split(), b.split()), key=len)
    if len(short) == 1 and len(long_) == 2 and len(short[0]) >= 4 and short[0] in long_:
        score = max(score, 90.0)
    return score


def likely_matches(
    names: list[str], candidates: list[str], limit: int = 3, cutoff: float = 85
) -> dict[str, list[dict[str, Any]]]:
    """For each name, up to `limit` candidates that are probably the same actor
    (rapidfuzz's WRatio on the romanised names, so word order and script do not matter)."""
    from rapidfuzz import process

    choices = {c: romanised(c) for c in candidates}
    out: dict[str, list[dict[str, Any]]] = {}
    for name in names:
        found = process.extract(romanised(name), choices, scorer=_score, limit=limit + 1, score_cutoff=cutoff)
        out[name] = [
            {"name": key, "score": round(score, 1)} for _, score, key in found if name_key(key) != name_key(name)
        ][:limit]
    return out


def unresolved(listing: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Names no registered actor takes, each with its likely matches among the registered
    actors' names and aliases and the other unresolved names."""
    registered = [r for r in listing if r["registered"] and not r.get("merged_into")]
    loose = [r for r in listing if not r["registered"]]
    targets = {a: r["name"] for r in registered for a in [r["name"], *r["aliases"]]}
    matches = likely_matches([r["name"] for r in loose], [*targets, *(r["name"] for r in loose)])
    weight = {r["name"]: (not r["registered"], -r["developments"]) for r in listing}
    out = []
    for r in loose:
        likely = []
        # Equal scores: a registered actor first, then the name more developments use.
        ranked = sorted(
            matches[r["name"]], key=lambda m: (-m["score"], weight.get(targets.get(m["name"], m["name"]), (True, 0)))
        )
        for m in ranked:
            actor = targets.get(m["name"])
            likely.append(
                {**m, "actor": actor, "registered": actor is not None,
                 "command": f"timeline actor alias {_q(actor)} {_q(r['name'])}" if actor
                 else f"timeline actor add {_q(m['name'])} --alias {_q(r['name'])}"}
            )  # fmt: skip
        out.append({**r, "likely": likely})
    return out


def _q(text: str) -> str:
    import shlex

    return shlex.quote(text)

"""The actor registry's application side: record actors, aliases, roles, merges, splits.

Each method checks what the registry already says (its view, caught up first) so that a
name never means two actors at once, then saves one actor aggregate: every event of one
command is stored in one transaction. Callers get plain dicts.
"""

from __future__ import annotations

import functools
import re
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from events.actors import Actor, actor_id, name_key, read_name, role_term
from events.dates import OccurredDate
from events.errors import InvalidInput
from events.slugs import slugify
from timeline.errors import TimelineError
from timeline.views.registry import Registry


class ActorNotFound(TimelineError):
    def __init__(self, ref: str) -> None:
        super().__init__(f"no actor {ref!r} in the registry (add it with `timeline actor add`)")


class NameTaken(TimelineError):
    pass


def _registry(app: Any) -> Registry:
    from timeline.views.runner import Views

    views = Views(app)
    views.catch_up()
    with views.sql.transaction(commit=False) as c:
        return Registry.load(views.sql, c)


def _find(app: Any, ref: str, reg: Registry) -> Actor:
    ids = {a.actor_id for a in reg.aliases.get(name_key(ref), []) if not a.role}
    if len(ids) > 1:
        raise NameTaken(f"{ref!r} names several actors; give the actor's own name")
    try:
        return app.repository.get(UUID(ids.pop()) if ids else actor_id(ref))  # type: ignore[no-any-return]
    except AggregateNotFoundError:
        raise ActorNotFound(ref) from None


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


def _save(app: Any, actor: Actor) -> None:
    try:
        app.save(actor)
    except IntegrityError:
        raise TimelineError("another writer changed this actor meanwhile; run the command again") from None


def _saved(app: Any, actor: Actor) -> dict[str, Any]:
    status = "changed" if actor.pending_events else "existing"
    _save(app, actor)
    return _plain(actor, status)


def add_actor(
    app: Any,
    name: str,
    aliases: tuple[str, ...] = (),
    kind: str | None = None,
    wikidata: str | None = None,
    role: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> dict[str, Any]:
    reg = _registry(app)
    name = read_name(name)
    aid = actor_id(name)
    if role is None and (start or end):
        raise InvalidInput("--from and --to give the term of a --role", "role")
    try:
        found: Actor | None = app.repository.get(aid)
    except AggregateNotFoundError:
        found = None
    if found is not None:
        actor = found
        if (kind and kind != actor.kind) or (wikidata and wikidata.strip().upper() != actor.wikidata):
            raise NameTaken(
                f"actor {actor.name} is already registered with kind {actor.kind}, Wikidata {actor.wikidata}"
            )
        status = "existing"
    else:
        _check_name_free(reg, name, aid)
        slug = slugify(name)
        for other in reg.actors.values():
            if other.slug == slug:
                raise NameTaken(f"{name!r} would share the slug {slug!r} with {other.name}; alias it instead")
        actor = Actor.add(name, kind, wikidata)
        status = "new"
    _more(reg, actor, aliases, role, start, end)
    if status == "existing" and actor.pending_events:
        status = "changed"
    _save(app, actor)
    return _plain(actor, status)


def _more(
    reg: Registry, actor: Actor, aliases: tuple[str, ...], role: str | None, start: str | None, end: str | None
) -> None:
    for alias in aliases:
        _check_name_free(reg, read_name(alias, "alias"), actor.id)
        actor.alias(alias)
    if role is not None:
        role = read_name(role, "role")
        actor.assign_role(role, start, end)
        if actor.roles and actor.roles[-1]["role"] == role:
            r = actor.roles[-1]
            _check_role_free(reg, role, r["start"], r["end"], actor.id)


def add_alias(app: Any, ref: str, alias: str) -> dict[str, Any]:
    reg = _registry(app)
    actor = _find(app, ref, reg)
    _more(reg, actor, (alias,), None, None, None)
    return _saved(app, actor)


def assign_role(app: Any, ref: str, role: str, start: str | None, end: str | None) -> dict[str, Any]:
    reg = _registry(app)
    actor = _find(app, ref, reg)
    _more(reg, actor, (), role, start, end)
    return _saved(app, actor)


def merge(app: Any, into_ref: str, other_ref: str, reason: str) -> dict[str, Any]:
    """`other` is the same actor as `into`: its names resolve to `into` from now on."""
    reg = _registry(app)
    into = _find(app, into_ref, reg)
    other = _find(app, other_ref, reg)
    if into.merged_into is not None:
        target = reg.root(str(into.id))
        raise NameTaken(
            f"{into.name} is merged into {target.name if target else into.merged_into}; merge into that actor"
        )
    other.merge_into(into.id, reason)
    _save(app, other)
    return _plain(other)


def split(app: Any, ref: str, reason: str) -> dict[str, Any]:
    reg = _registry(app)
    actor = _find(app, ref, reg)
    actor.split(reason)
    _save(app, actor)
    return _plain(actor)


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
def _kakasi() -> Any:
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

"""The read interface of the timeline: what the views, the registry, the search index and the
log publish, for the CLI's read commands and for everything in `feeds/`.

`feeds` depends on `timeline` through these modules only (tests/unit/test_layers.py checks
it, lazy imports included):

    timeline                the package itself, for `__version__`
    timeline.errors         the errors a reader catches or raises
    timeline.reading        this module: `Reader` (the read models at one log position, the
                            actor registry), `log_position`, `search`, and the publishing
                            entry `checkpoint_bytes` / `proof_origin` / `consistency_proof` /
                            `inclusion_proof` (the checkpoint and proofs, from the stored tree)
    timeline.views.queries  `Filter` and the queries over the views, each given `Reader.sql`

Nothing below (the store, the recorders, the views' writers and runner, the proof tree, the
registry's tables) is reached from `feeds` but through here, so their shape can change
behind it. The `app` these functions take is an open `timeline.app.Timeline`, which a
reader holds and passes on but never looks into.

`Reader.live(app)` first catches the views up with the log, so nobody sees stale output
after an append; a replay builds a `Reader` over scratch views instead.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import PersistenceError

from timeline.errors import DevelopmentNotFound
from timeline.references import reference_id
from timeline.store import Sql
from timeline.views import queries
from timeline.views import registry as _registry
from timeline.views import search as _search
from timeline.views.project import period
from timeline.views.queries import Filter
from timeline.views.registry import Registry
from timeline.views.search import BadQuery, Query, highlight, snippet

if TYPE_CHECKING:
    from timeline.app import Timeline

# What a store that cannot be reached raises (besides `TimelineError`): a reader that
# must keep answering (serve) catches these and says the database is unavailable.
STORE_ERRORS: tuple[type[BaseException], ...] = (PersistenceError, sqlite3.Error, OSError)

__all__ = [
    "STORE_ERRORS",
    "BadQuery",
    "Filter",
    "Query",
    "Reader",
    "Registry",
    "checkpoint_bytes",
    "consistency_proof",
    "highlight",
    "inclusion_proof",
    "log_position",
    "opened_elsewhere",
    "period",
    "proof_origin",
    "search",
    "snippet",
]


class Reader:
    def __init__(self, sql: Sql, position: int, tree: Any = None, target: Any = None) -> None:
        self.sql = sql
        self.position = position  # the last log position the views include
        self.tree = tree  # the log's Merkle tree (`timeline.proof.tree.Tree`), read for heads
        self._heads: Any = None  # its `PastHeads`, made on the first head asked for
        self.target = target  # the database's `config.Target` (None: views no other process can open)

    @classmethod
    def live(cls, app: Timeline) -> Reader:
        from timeline.proof.tree import Tree
        from timeline.views.runner import Views

        views = Views(app)
        views.catch_up()
        return cls(views.sql, views.position(), Tree(app), app.target)

    def elsewhere(self) -> tuple[Any, int] | None:
        """How another process opens these views at this position (`opened_elsewhere`):
        picklable, and None for views only this process has (a replay's scratch views)."""
        return (self.target, self.position) if self.target is not None else None

    def development(self, ref: str) -> dict[str, Any]:
        doc = queries.document(self.sql, str(reference_id(ref)))
        if doc is None:
            raise DevelopmentNotFound(ref)
        return doc

    def related(self, doc: dict[str, Any]) -> dict[str, Any]:
        """For `show ID`: the package a part belongs to and the parts of a package (a
        pledge whose instrument is `package`: finding parts reads every pledge's text)."""
        package_id = doc["fields"].get("part_of")
        package = queries.document(self.sql, package_id) if package_id else None
        is_package = doc["kind"] == "pledge" and doc["fields"].get("instrument") == "package"
        parts = queries.parts_of(self.sql, doc["id"]) if is_package else []
        return {"package": package, "parts": parts}

    def timeline(self, f: Filter = queries.EVERYTHING) -> list[dict[str, Any]]:
        return queries.timeline(self.sql, f)

    def iter_timeline(
        self, f: Filter = queries.EVERYTHING, registry: Registry | None = None
    ) -> Iterator[dict[str, Any]]:
        """In timeline order; `registry` (`registry()`, read once by the caller) resolves `f.actor`."""
        return queries.iter_timeline(self.sql, f, registry=registry)

    def topics(self) -> list[dict[str, Any]]:
        return queries.facet_counts(self.sql, "topic")

    def actors(self) -> list[dict[str, Any]]:
        return queries.facet_counts(self.sql, "actor")

    def head(self, position: int | None = None) -> dict[str, Any] | None:
        """The log's tree over the events up to `position` (the views' by default): its
        size, last position and root, the head a subscriber keeps to check appends."""
        if self.tree is None:
            return None
        if self._heads is None:
            self._heads = self.tree.past_heads()
        head = self._heads(self.position if position is None else position)
        return head.as_dict() if head else None

    def state(self) -> dict[str, Any]:
        ledger = queries.ledger(self.sql)
        return {
            "position": self.position,
            "head": self.head(),
            "developments": queries.kind_counts(self.sql),
            "retracted": queries.retracted_count(self.sql),
            "topics": self.topics(),
            "actors": self.actors(),
            "ledger": {k: v for k, v in ledger.items() if k != "discrepancies"},
            "discrepancies": ledger["discrepancies"],
        }

    # --- the pledge ledger, streamed (a row per pledge is too many to hold at a million) ------

    def ledger_part_of(self) -> set[str]:
        """The ids named as `part_of` by pledges not retracted: the packages the ledger
        compares with their parts (`events.ledger.Ledger`'s `named`)."""
        part_of = self._field("part_of")
        statement = (
            f"SELECT DISTINCT {part_of} AS part_of FROM timeline_developments d"
            f" WHERE d.kind = 'pledge' AND d.retracted = 0 AND {part_of} IS NOT NULL AND {part_of} <> ''"
        )
        with self.sql.transaction(commit=False) as c:
            return {str(r["part_of"]) for r in self.sql.rows(c, statement)}

    def ledger_amounts(self, order: str = "pair", page: int = 500) -> Iterator[dict[str, Any]]:
        """The pledges the ledger's totals count (not retracted, not a part of a recorded
        package), each as its fields {"donor", "recipient", "amount"} only, sorted as
        `events.ledger.pair_totals` reads them in `order`: "pair" by (donor, recipient,
        currency), "currency" by (currency, donor, recipient), each text by code point
        (SQLite's binary order; PostgreSQL's "C" collation), then recording order. The
        database sorts them; memory holds one page of them."""
        donor, recipient, currency = self._field("donor"), self._field("recipient"), self._field("amount", "currency")
        keys = [donor, recipient, currency] if order == "pair" else [currency, donor, recipient]
        statement = (
            f"SELECT {donor} AS donor, {recipient} AS recipient, {self._field('amount')} AS amount"
            " FROM timeline_developments d"
            " WHERE d.kind = 'pledge' AND d.retracted = 0 AND NOT EXISTS (SELECT 1 FROM timeline_developments p"
            f" WHERE p.id = {self._field('part_of')} AND p.kind = 'pledge' AND p.retracted = 0)"
            f" ORDER BY {', '.join(self._collated(k) for k in keys)}, d.first_position"
        )
        with self.sql.transaction(commit=False) as c:
            if not self.sql.postgres and self.sql.scalar(c, "PRAGMA encoding") != "UTF-8":
                # A UTF-16 file's binary order is not code-point order: sorted here instead,
                # holding every row (only such a file, made so before its first import).
                # Stable: equal keys stay in recording order, as the statement gives them.
                pair = lambda f: (f["donor"], f["recipient"], f["amount"]["currency"])  # noqa: E731
                key = pair if order == "pair" else lambda f: (f["amount"]["currency"], f["donor"], f["recipient"])
                yield from sorted((self._amount(r) for r in self.sql.rows(c, statement)), key=key)
                return
            self.sql.execute(c, statement)
            while rows := self.sql.fetchmany(c, page):
                for r in rows:
                    yield self._amount(r)

    @staticmethod
    def _amount(r: Any) -> dict[str, Any]:
        return {"donor": r["donor"], "recipient": r["recipient"], "amount": json.loads(r["amount"])}

    def _field(self, *path: str) -> str:
        """A development's stored field (`d.doc`'s fields/...) as text, in this store's SQL."""
        if self.sql.postgres:
            return f"(d.doc::jsonb #>> '{{fields,{','.join(path)}}}')"
        return f"json_extract(d.doc, '$.fields.{'.'.join(path)}')"

    def _collated(self, expression: str) -> str:
        return f'{expression} COLLATE "C"' if self.sql.postgres else expression

    # --- the actor registry, as the feeds follow it -------------------------------------

    def registry(self) -> Registry:
        """Every registered actor, alias, role and merge, at this position."""
        return _registry.load(self.sql)

    def merged_note(self, slug: str, reg: Registry | None = None) -> dict[str, str] | None:
        """Where a merged actor's developments went: {"name", "slug", "reason"}, or None."""
        return _registry.merged_note(self.sql, slug, reg)

    def registry_recorded(self, position: int) -> str | None:
        """When the registry event at `position` was recorded, if one is there."""
        return _registry.recorded_at(self.sql, position)

    def recut_since(self, position: int) -> set[str]:
        """The feeds (`actor/<slug>`) whose members a registry event after `position` moved."""
        return _registry.recut_since(self.sql, position)


@contextmanager
def opened_elsewhere(where: tuple[Any, int]) -> Iterator[Reader]:
    """In another process, a `Reader` over the views `Reader.elsewhere()` named, at its
    position (the views are not caught up: they hold that position already)."""
    from timeline.app import Timeline
    from timeline.proof.tree import Tree
    from timeline.views.runner import Views

    target, position = where
    app = Timeline.open(target)
    try:
        yield Reader(Views(app).sql, position, Tree(app), target)
    finally:
        app.close()


def log_position(app: Timeline) -> int:
    """The log's newest position (0 when empty): cheap, to learn whether anything was
    appended since a reader was made."""
    return app.event_count()


def search(app: Timeline, query: Query, limit: int = 20) -> list[dict[str, Any]]:
    """The best `limit` developments for `query`, best first, from the search view as it is."""
    return _search.search(app.sql(), query, limit=limit)


# --- the publishing entry: the log's checkpoint and proofs ---------------------------------


def checkpoint_bytes(app: Timeline, position: int) -> bytes:
    """The checkpoint (C2SP tlog-checkpoint, signed when a key is configured) of the log up
    to and including `position`, as published."""
    from timeline.proof import publish

    return publish.checkpoint_at(app, position).data


def proof_origin(app: Timeline) -> str:
    """The origin line the proofs name: the signing key's name (a misconfigured key raises)."""
    from timeline.proof import keys

    return keys.origin(keys.signer(app))


def consistency_proof(app: Timeline, old: int, new: int | None, origin: str) -> dict[str, Any]:
    """That the log of `old` events is a prefix of the log of `new` (default: all), as JSON."""
    from timeline.proof import proofs, publish

    return proofs.to_json(publish.consistency(app, old, new, origin=origin))


def inclusion_proof(app: Timeline, ref: str, size: int | None, origin: str) -> dict[str, Any]:
    """That a development's events (`ref`: an id or key) or the event `#N` are in the log of
    `size` events (default: all), as JSON."""
    from timeline.proof import proofs, publish

    return proofs.to_json(publish.inclusion(app, ref, size, origin=origin))

"""Answers from the read models: the timeline, one development, topics, actors, the state.

`Reader.live(app)` first catches the views up with the log, so nobody sees stale output
after an append; a replay builds a `Reader` over scratch views instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from timeline.errors import DevelopmentNotFound
from timeline.references import reference_id
from timeline.store import Sql
from timeline.views import queries
from timeline.views.queries import Filter

if TYPE_CHECKING:
    from timeline.app import Timeline


class Reader:
    def __init__(self, sql: Sql, position: int, tree: Any = None) -> None:
        self.sql = sql
        self.position = position  # the last log position the views include
        self.tree = tree  # the log's Merkle tree (`timeline.proof.tree.Tree`), read for heads

    @classmethod
    def live(cls, app: Timeline) -> Reader:
        from timeline.proof.tree import Tree
        from timeline.views.runner import Views

        views = Views(app)
        views.catch_up()
        return cls(views.sql, views.position(), Tree(app))

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

    def iter_timeline(self, f: Filter = queries.EVERYTHING) -> Iterator[dict[str, Any]]:
        return queries.iter_timeline(self.sql, f)

    def topics(self) -> list[dict[str, Any]]:
        return queries.facet_counts(self.sql, "topic")

    def actors(self) -> list[dict[str, Any]]:
        return queries.facet_counts(self.sql, "actor")

    def head(self, position: int | None = None) -> dict[str, Any] | None:
        """The log's tree over the events up to `position` (the views' by default): its
        size, last position and root, the head a subscriber keeps to check appends."""
        if self.tree is None:
            return None
        head = self.tree.head(self.position if position is None else position)
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

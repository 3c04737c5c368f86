"""Which developments go in which document of one feed: its archive pages and its
subscription document, read from the views only as far as needed.

A feed's developments in recording order are cut into pages of `page_size`; a page is cut
only when more than a page remains outside the archives, and once cut it is frozen (see
`feeds.site`). The subscription document holds the newest `page_size` entries by
`updated`, plus any not yet archived.

A build after few changes reads, per feed, only the members changed since the previous
build (through the views' `last_position` index), its left-over entries and its previous
newest page (`FeedRecord.top`, `.floor`); a first build streams the feed's members once in
recording order, keeping one page and the newest page in memory.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from feeds.layout import FACETS, STORY, feed_path, sidecar_path
from feeds.manifest import FeedRecord
from timeline.views import queries

if TYPE_CHECKING:
    from timeline.reading import Reader

Doc = dict[str, Any]

# How far back, in log positions, an event's timestamp may lag behind a later event's. A
# bulk import stamps events before it stores them in batches, so `updated` and
# `last_position` disagree locally (137 inversions in the 10k benchmark log, all within a
# few positions); reading this many more than a page covers that. See `newest`.
SKEW_ROWS = 1000
# Up to this many developments changed since the previous build, a build reads them (and
# only them) through the last_position index, all at once.
FEW_CHANGES = 5000


def order(d: Doc) -> tuple[str, int]:
    """How a feed orders its entries: by `updated`, ties by recording order."""
    return d["updated"], d["first_position"]


def newest_first(docs: list[Doc]) -> list[Doc]:
    return sorted(docs, key=order, reverse=True)


def newest(reader: Reader, facet: str | None, slug: str | None, n: int) -> list[Doc]:
    """The feed's newest `n` entries by (updated, first_position), as the feed orders them.
    Read by `last_position` (indexed), which orders them the same way except where
    timestamps lag behind positions, so a margin of `SKEW_ROWS` more is read and sorted.
    Exact as long as no timestamp lags more than that many positions (imports store each
    batch in time order, so only concurrent writers can skew); the views keep no
    `updated` column to index."""
    limit = n + SKEW_ROWS
    while True:
        docs = queries.feed_latest(reader.sql, facet, slug, limit)
        if len(docs) < limit or docs[-1]["updated"] != docs[n - 1]["updated"]:
            return newest_first(docs)[:n]
        limit *= 2


class Top:
    """The newest `n` of a stream of documents, kept while it passes."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.heap: list[tuple[str, int, Doc]] = []

    def watch(self, docs: Iterator[Doc]) -> Iterator[Doc]:
        for d in docs:
            item = (d["updated"], d["first_position"], d)  # first_position is unique: no dict compared
            if len(self.heap) < self.n:
                heapq.heappush(self.heap, item)
            elif item[:2] > self.heap[0][:2]:
                heapq.heapreplace(self.heap, item)
            yield d

    def newest(self) -> list[Doc]:
        return [d for _, _, d in sorted(self.heap, key=lambda i: i[:2], reverse=True)]


def archived_among(data: bytes | None, ids: set[str]) -> set[str]:
    """Which of `ids` the archived-ids sidecar `data` holds."""
    if not ids or not data:
        return set()
    return (
        {line.decode() for line in data.splitlines()} & ids
        if len(ids) > 64
        else {i for i in ids if (b"\n" + i.encode() + b"\n") in b"\n" + data}
    )


def total(reader: Reader, facet: str | None, slug: str | None, previous: FeedRecord | None, since: int) -> int:
    """Members now. The story only grows (a development is never removed), so it adds those
    recorded since instead of counting the log."""
    if facet is None and previous is not None and since:
        return previous.total + queries.feed_recorded_count(reader.sql, since)
    return queries.feed_count(reader.sql, facet, slug)


@dataclass(frozen=True)
class Since:
    """The previous build a feed's plan continues from."""

    record: FeedRecord  # the feed as that build left it
    position: int  # the views' position that build saw
    read: Callable[[str], bytes | None]  # a file of that build (the archived ids)
    indexed: bool  # few changed since: read them through the last_position index


class FeedPlan:
    """One feed's documents: `pages()` yields each new archive page's developments (in
    recording order) as it fills, then `current()` is the subscription document's, newest
    first. Without `since` the feed's pages are cut afresh from its first member."""

    def __init__(self, reader: Reader, name: str, page_size: int, since: Since | None) -> None:
        self.reader, self.name, self.n = reader, name, page_size
        previous = since.record if since else None
        self.since = since.position if since else 0
        indexed = bool(since and since.indexed)
        self.base = feed_path(name)
        facet, _, slug = name.partition("/")
        self.facet: str | None = None if name == STORY else facet
        self.slug: str | None = None if name == STORY else slug
        self.members = name == STORY or self.facet in FACETS
        sql = reader.sql
        changed_since = self.since if self.members and indexed else 0
        self.changed = queries.feed_changed(sql, self.facet, self.slug, changed_since) if changed_since else None
        self.total = total(reader, self.facet, self.slug, previous, self.since) if self.members else 0
        self.archives = previous.archives if previous else 0
        rest_ids = list(previous.rest) if previous else []
        self.left = set(rest_ids)
        self.old_rest = (
            sorted(queries.feed_documents(sql, self.facet, self.slug, rest_ids), key=lambda d: d["first_position"])
            if self.members and rest_ids
            else []
        )
        self.archived = self._archived(since.read) if since else set()
        self.newest: list[Doc] | None = [] if not (self.members and self.total) else None
        if self.newest is None and previous is not None:
            if self.changed is not None:
                self.newest = self._newest_since(previous, [*self.old_rest, *self.changed])
            if self.newest is None:
                self.newest = newest(reader, self.facet, self.slug, self.n)
        self.rest: list[Doc] = []

    def _newest_since(self, previous: FeedRecord, seen: list[Doc]) -> list[Doc] | None:
        """The newest `n` from the previous build's newest (`top`) and the members changed or
        left over since (`seen`), or None when those may not be enough. A member in neither is
        unchanged, so it still ranks below the previous n-th (`floor`); the answer is exact
        when at least n candidates rank at or above that floor (or the previous build had
        fewer than n: then every member is a candidate)."""
        top, floor, n = previous.top, previous.floor, self.n
        if top is None:
            return None  # a manifest from before `top` was kept
        candidates = {d["id"]: d for d in queries.feed_documents(self.reader.sql, self.facet, self.slug, top)}
        candidates.update((d["id"], d) for d in seen)
        if len(top) >= n and (floor is None or sum(order(d) >= tuple(floor) for d in candidates.values()) < n):
            return None
        return newest_first(list(candidates.values()))[:n]

    def _archived(self, read: Callable[[str], bytes | None]) -> set[str]:
        """Members changed since the last build, recorded before it, not left over: archived,
        unless they joined this feed since (then new here, unless archived before)."""
        if not (self.members and self.since and self.name != STORY):
            return set()
        if self.changed is not None:
            maybe = {d["id"] for d in self.changed if d["first_position"] <= self.since} - self.left
        else:
            maybe = set(queries.feed_changed_ids(self.reader.sql, self.facet, self.slug, self.since, self.since))
            maybe -= self.left
        return archived_among(read(sidecar_path(self.base)) if maybe else None, maybe)

    def _fresh(self) -> Iterator[Doc]:
        """Members not in the archives nor left over: changed or recorded since."""
        if not self.members:
            return
        source = (
            self.changed
            if self.changed is not None
            else queries.iter_feed_recorded(self.reader.sql, self.facet, self.slug, self.since)
        )
        for d in source:
            if d["id"] in self.left:
                continue
            if d["first_position"] <= self.since and (self.name == STORY or d["id"] in self.archived):
                continue  # the story loses no member: all of its older ones are archived
            yield d

    def pages(self) -> Iterator[list[Doc]]:
        """Cut pages in recording order while more than a page remains outside the archives."""
        top = Top(self.n)  # a first build streams every member: its newest are taken on the way
        stream = heapq.merge(self.old_rest, self._fresh(), key=lambda d: d["first_position"])
        rest: list[Doc] = []
        for d in top.watch(stream) if self.newest is None else stream:
            rest.append(d)
            if len(rest) <= self.n:
                continue
            page, rest = rest[: self.n], rest[self.n :]
            self.archives += 1
            yield page
        self.rest = rest
        if self.newest is None:
            self.newest = top.newest()

    def current(self) -> list[Doc]:
        """The subscription document's developments, newest first (after `pages()`)."""
        assert self.newest is not None, "pages() first"
        return newest_first(list({d["id"]: d for d in [*self.newest, *self.rest]}.values()))

    def floor(self) -> list[Any] | None:
        """Where the newest page ends, for the next build's `newest_since`."""
        assert self.newest is not None, "pages() first"
        return list(order(self.newest[-1])) if len(self.newest) >= self.n else None

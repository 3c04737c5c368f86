"""Every feed of a timeline, built incrementally, into a directory or into memory.

`build_site(reader, settings, folder)` decides what to (re)build from the views'
`feed_positions` (the log position that last changed each feed) and the previous build's
manifest (`feeds.manifest`), and returns the documents to write plus the new manifest. A
feed whose position, settings and files are unchanged is not even rendered. Which entries
go in which document is `feeds.planning`'s; rendering archives, subscription documents
and the index is `feeds.rendering`'s; `feeds.folder.Directory` writes the result inside
one folder (atomically, only files whose bytes changed); the server keeps it there too.

Archives (RFC 5005): a feed's developments in recording order are cut into pages of
`page_size`; a page is cut only when more than a page remains outside the archives, and
once cut it is frozen: the manifest remembers which ids it holds and it is never rendered
again (a later correction of an archived entry reaches subscribers through the
subscription document, where the corrected entry returns to the top). The subscription
document holds the newest `page_size` entries by `updated`, plus any not yet archived, so
the subscription document and the archives together always cover the feed. Archive pages
link `prev-archive` and `current`; they carry no `next-archive`, which would change a page
after it was frozen.

The manifest is dropped (everything rebuilt, stale files removed) when the settings or the
format change, or when the log it was built from is not a prefix of this one (a build
`--as-of` an earlier time, or another database).

Cost: a build after a few events (at most `FEW_CHANGES` developments changed) reads, per
touched feed, only the members changed since (through the views' `last_position` index),
its left-over entries and its previous newest page (`top`, `floor` in the manifest), so it
does not grow with the log; what it still pays per build is one pass over the manifest and
the index, i.e. per feed, not per event. A first build streams each feed's members once in
recording order, keeping one page and the newest page in memory; each development's entry
is made once for all the feeds that hold it (`feeds.shared_entries`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from feeds import FORMAT, pages_apart
from feeds.entries import parse_time
from feeds.layout import EPOCH, FACETS, STORY, Output, feed_path, sidecar_path
from feeds.manifest import FeedRecord, PreviousBuild, Records, fingerprint, records, removed, usable
from feeds.planning import FEW_CHANGES, FeedPlan, Since
from feeds.rendering import FeedJob, FeedRenderer, index_outputs
from feeds.settings import FeedSettings
from feeds.shared_entries import Entries
from feeds.spool import Paths
from timeline.views import queries

if TYPE_CHECKING:
    from timeline.reading import Reader


# Each entry made once for all its feeds (`feeds.shared_entries`); the feeds tests turn it
# off so that every document they render goes through `feeds.build.render` and is compared
# with feedgen's (tests/feeds/conftest.py), and compare builds with it and without.
SHARED_ENTRIES = True


@dataclass(frozen=True)
class Result:
    outputs: list[Output]  # every document rendered this time, unless they went to `emit`
    removed: list[str]  # paths the previous build wrote that this one no longer has
    manifest: dict[str, Any]
    rebuilt: list[str]  # feed names rendered
    written_apart: Paths | None = None  # the pages another process wrote (`feeds.pages_apart`)


@dataclass(frozen=True)
class _Continue:
    """The previous build, as far as this one may build on it."""

    feeds: dict[str, FeedRecord]
    since: int  # the views' position it saw (0: none usable)
    folder: PreviousBuild

    def stale(self, name: str, position: int) -> bool:
        record = self.feeds.get(name)
        if record is None or record.position != position:
            return True
        damaged = self.folder.damaged
        if damaged and any(p in damaged for p in record.files()):
            return True
        return not all(self.folder.have(p) for p in record.current_files())

    def plan_from(self, name: str, recut: set[str], indexed: bool) -> Since | None:
        """Where the feed's plan continues from, or None when its pages must be cut afresh:
        nothing was built, its archive ids or pages are lost, or the registry moved its members."""
        record = self.feeds.get(name)
        damaged = self.folder.damaged
        if (
            record is None
            or name in recut
            or (record.archived_bytes and not self.folder.have(sidecar_path(record.path)))
            or (damaged and any(p in damaged for p in record.files()[2:]))
        ):
            return None
        return Since(record, self.since, self.folder.read, indexed)


def build_site(
    reader: Reader,
    settings: FeedSettings,
    folder: PreviousBuild = PreviousBuild(),  # noqa: B008 - frozen, so one default is safe to share
    emit: Callable[[Output], None] | None = None,
    root: str | None = None,
) -> Result:
    """Render the stale feeds. Documents go to `emit` as they are rendered (or, without it,
    into `Result.outputs`). `folder` is what is known of the previous build: a feed whose
    files are missing or damaged is rendered again, from its first page when an archive
    page or id list is among them (archive pages are otherwise never rendered again).
    With `root` (the folder `emit` writes into), a large build's story pages are written
    there by a second process while this one renders the feeds (`feeds.pages_apart`)."""
    manifest = folder.manifest
    fp = fingerprint(settings)
    still_usable = usable(reader, manifest, fp)
    old_records = records(manifest)
    since = int((manifest or {}).get("position") or 0) if still_usable else 0
    previous = _Continue(old_records if still_usable else {}, since, folder)
    positions = queries.feed_positions(reader.sql)
    positions.setdefault(STORY, 0)
    head = reader.head()

    todo = sorted(n for n in positions if previous.stale(n, positions[n]))
    feeds_out = {n: r for n, r in previous.feeds.items() if n in positions and n not in todo}
    modified = {n: _modified(reader, positions[n]) for n in todo}
    # The index's and the pages' time: the latest of every feed's.
    known = [parse_time(r.modified) for r in feeds_out.values()] + list(modified.values())
    index_modified = max(known, default=EPOCH) if head else EPOCH
    paths = {n: feed_path(n) for n in positions}  # as each feed's record names it
    collected: list[Output] = []
    sink = emit or collected.append
    where = reader.elsewhere()
    apart = None

    def pages_here() -> list[str]:
        """The story pages rendered in this process: the pages to remove."""
        from feeds.page import site_outputs  # the story pages (Jinja2), beside the feeds

        gone: list[str] = []
        for path, data in site_outputs(reader, settings, paths, todo, folder):
            if data is None:
                gone.append(path)
            else:  # ledger.html comes in chunks, written as they are rendered (held whole only in `collected`)
                sink(Output(path, data if emit or isinstance(data, bytes) else b"".join(data), index_modified))
        return gone

    try:
        if root is not None and where is not None and pages_apart.wanted(reader.position):
            job = pages_apart.Job(where, settings, root, paths, todo, folder.damaged, index_modified)
            apart = pages_apart.Apart(job)
        kept = _feeds(reader, settings, previous, _Todo(todo, positions, modified), sink)
        feeds_out.update(kept.light)
        assert {n: r.path for n, r in feeds_out.items()} == paths, "a feed's path is feed_path(name)"
        for out in index_outputs(settings, feeds_out, head, reader.position, index_modified):
            sink(out)
        written_apart = None
        if apart is not None:
            written_apart, gone_pages = apart.result()
        else:
            gone_pages = pages_here()
    finally:
        if apart is not None:
            apart.close()
    new_manifest = {
        "format": FORMAT,
        "fingerprint": fp,
        "head": head,
        "position": reader.position,
        "feeds": kept.records,  # every record of feeds_out, in full, as JSON (`manifest_chunks` writes it)
    }
    gone = removed(old_records, feeds_out, still_usable) + gone_pages
    return Result(collected, sorted(gone), new_manifest, todo, written_apart)


@dataclass(frozen=True)
class _Todo:
    names: list[str]  # the feeds to render, in order
    positions: dict[str, int]  # every feed's: the log position that last changed it
    modified: dict[str, Any]  # each feed to render's time (`_modified`)


@dataclass
class _Rendered:
    records: Records  # every feed's record in full, as JSON, on disk
    light: dict[str, FeedRecord] = field(default_factory=dict)  # the rendered feeds' light records


def _feeds(
    reader: Reader, settings: FeedSettings, previous: _Continue, todo: _Todo, sink: Callable[[Output], None]
) -> _Rendered:
    """Render the feeds to do into `sink`: their records, in full and light."""
    since = previous.since
    recut = reader.recut_since(since) if since else set()
    # The manifest's records go to disk as they are made; the build keeps each rendered
    # feed's light record only (an archive page's sums, per page, grow with the log).
    out = _Rendered(Records())
    for n, r in previous.feeds.items():  # the feeds not rendered again keep their records
        if n in todo.positions and n not in todo.modified:
            out.records.add(n, r)
    if not todo.names:
        return out
    # After few events, each feed reads what changed through the views' last_position
    # index; after many (or for a first build) it reads its members in recording order.
    indexed = bool(since) and queries.feed_changed_count(reader.sql, since) <= FEW_CHANGES
    first = queries.first_document(reader.sql)
    year = first["recorded"][:4] if first else "1970"
    registry = reader.registry()  # the same for every feed of this build
    entries = Entries(settings, registry, shared=SHARED_ENTRIES)
    try:
        for name in todo.names:
            start = previous.plan_from(name, recut, indexed)
            job = FeedJob(name, _title(reader, settings, name), year, todo.modified[name],
                          start.record if start else None, registry, entries)  # fmt: skip
            plan = FeedPlan(reader, name, settings.page_size, start)
            record = FeedRenderer(reader, settings, job, sink).render(plan)
            record.position = todo.positions[name]
            out.records.add(name, record)
            out.light[name] = record.light()
            del record
    finally:
        entries.close()
    return out


def _modified(reader: Reader, position: int) -> Any:
    """When the event at `position` (the last to change a feed) was recorded: a development's
    update or a registry event; 1970 for a feed nothing changed."""
    if not position:
        return EPOCH
    at = queries.document_at(reader.sql, position)
    stamp = at["updated"] if at else reader.registry_recorded(position)
    return parse_time(stamp) if stamp else EPOCH


def _title(reader: Reader, settings: FeedSettings, name: str) -> str:
    if name == STORY:
        return settings.title
    facet, _, slug = name.partition("/")
    display = (queries.name(reader.sql, facet, slug) if facet in FACETS else None) or slug
    return f"{settings.title}: {display}" if facet == "actor" else f"{settings.title}: {display} ({facet})"

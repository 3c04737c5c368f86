"""Every feed of a timeline, built incrementally, into a directory or into memory.

`build_site(reader, settings, manifest, have)` decides what to (re)build from the views'
`feed_positions` (the log position that last changed each feed) and the previous build's
manifest, and returns the documents to write plus the new manifest. A feed whose position,
settings and files are unchanged is not even rendered. `Directory` writes the result
inside one folder (atomically, only files whose bytes changed); the server keeps it in
memory.

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
recording order, keeping one page and the newest page in memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import html
import json
import os
import re
import secrets
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from feeds import CHECKPOINT_FILE, FORMAT
from feeds.actors import feed_notes, follow_registry
from feeds.entries import entry, parse_time, tag_uri, xml_text
from feeds.settings import FeedSettings
from timeline import __version__
from timeline.views import queries
from timeline.views.registry import recorded_at, recut_since

MANIFEST = ".timeline-feeds.json"
ARCHIVED = ".timeline-archived"
STORY = "story"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MEDIA_TYPES = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
}
_SAFE = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
_FACETS = ("topic", "actor")


@dataclass(frozen=True)
class Output:
    path: str  # relative, '/'-separated, always made of safe segments
    data: bytes
    modified: datetime  # for Last-Modified: the time of the event that last changed it
    append_at: int | None = None  # a sidecar: cut the file to this many bytes, then append data

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.path.rsplit(".", 1)[-1]]


@dataclass(frozen=True)
class Result:
    outputs: list[Output]  # every document rendered this time, unless they went to `emit`
    removed: list[str]  # paths the previous build wrote that this one no longer has
    manifest: dict[str, Any]
    rebuilt: list[str]  # feed names rendered


def safe_segment(slug: str) -> str:
    """A slug as one path segment: as it is when it is already safe, else a hash of it,
    so no name ('../x', '/etc', 'a\\0b', '') can reach outside the output folder."""
    if _SAFE.match(slug):
        return slug
    return "x-" + hashlib.sha256(slug.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def feed_path(name: str) -> str:
    """'story' -> 'story'; 'topic/<slug>' -> 'topic/<safe slug>'."""
    if name == STORY:
        return STORY
    facet, _, slug = name.partition("/")
    if facet not in _FACETS:
        return "other/" + safe_segment(name)
    return f"{facet}/{safe_segment(slug)}"


def sidecar_path(base: str) -> str:
    """Where a topic or actor feed keeps the ids of its archived entries, one per line,
    page after page (never served: the server refuses paths starting with '.')."""
    return f"{ARCHIVED}/{base}.ids"


def current_files(record: dict[str, Any]) -> list[str]:
    """The files a feed rewrites or appends to; archive pages, written once, are not
    looked for on every build (there are ever more of them)."""
    base = record["path"]
    return [f"{base}.atom", f"{base}.rss"] + ([sidecar_path(base)] if record.get("archived_bytes") else [])


def feed_files(record: dict[str, Any]) -> list[str]:
    return [rel for rel, _, _, _ in expected_files(record)]


def expected_files(record: dict[str, Any]) -> Iterator[tuple[str, int | None, str | None, bool]]:
    """Every file of a feed with what the manifest knows of it: (path, size, digest,
    at_least). The archive id list may have grown past its recorded size (a build killed
    after appending): only its size is checked, as a lower bound. Records from before the
    manifest kept sums give None: only the file's existence is checked."""
    base = record["path"]
    sums = record.get("sums") or {}
    for fmt in ("atom", "rss"):
        size, digest = sums.get(fmt) or (None, None)
        yield f"{base}.{fmt}", size, digest, False
    if record.get("archived_bytes"):
        yield sidecar_path(base), int(record["archived_bytes"]), None, True
    pages = record.get("archive_sums") or []
    for k in range(1, int(record["archives"]) + 1):
        page = pages[k - 1] if k - 1 < len(pages) else None
        yield f"archive/{base}/{k}.atom", *((page[0], page[1]) if page else (None, None)), False
        yield f"archive/{base}/{k}.rss", *((page[2], page[3]) if page else (None, None)), False


def digest(data: bytes) -> str:
    """What the manifest keeps of a file's bytes, with its size: enough to notice damage."""
    return hashlib.sha256(data).hexdigest()[:16]


def url(settings: FeedSettings, path: str) -> str:
    return f"{settings.base_url}/{quote(path)}"


def _fingerprint(settings: FeedSettings) -> str:
    data = {"format": FORMAT, "version": __version__, "settings": settings.fingerprint()}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _chain_hash(reader: Any, position: int) -> str | None:
    # The root of the log's tree over the events up to `position`.
    head = reader.head(position)
    return head["hash"] if head else None


def _manifest_usable(reader: Any, manifest: dict[str, Any] | None, fingerprint: str) -> bool:
    if not manifest or manifest.get("fingerprint") != fingerprint:
        return False
    head = manifest.get("head")
    if head is None:
        return True
    return bool(head["position"] <= reader.position and _chain_hash(reader, head["position"]) == head["hash"])


def build_site(
    reader: Any,
    settings: FeedSettings,
    manifest: dict[str, Any] | None,
    have: Callable[[str], bool] = lambda path: True,
    emit: Callable[[Output], None] | None = None,
    read: Callable[[str], bytes | None] = lambda path: None,
    damaged: frozenset[str] = frozenset(),
) -> Result:
    """Render the stale feeds. Documents go to `emit` as they are rendered (or, without it,
    into `Result.outputs`); `read` returns a file of the previous build (archive sidecars);
    `damaged` names files of the previous build that are missing or not whole: their feeds
    are rendered again, from their first page when an archive page or id list is among
    them (archive pages are otherwise never rendered again)."""
    fingerprint = _fingerprint(settings)
    usable = _manifest_usable(reader, manifest, fingerprint)
    old: dict[str, Any] = manifest if (usable and manifest) else {"feeds": {}, "position": 0}
    since = int(old.get("position") or 0)  # the views' position the previous build saw
    positions = queries.feed_positions(reader.sql)
    positions.setdefault(STORY, 0)
    head = reader.head()

    def stale(name: str) -> bool:
        record = old["feeds"].get(name)
        if record is None or record["position"] != positions[name]:
            return True
        if damaged and any(p in damaged for p in feed_files(record)):
            return True
        return not all(have(p) for p in current_files(record))

    def archive_damaged(record: dict[str, Any]) -> bool:
        return bool(damaged) and any(p in damaged for p in feed_files(record)[2:])

    todo = sorted(n for n in positions if stale(n))
    recut = recut_since(reader.sql, since) if since else set()  # the registry moved their members
    feeds_out: dict[str, Any] = {n: r for n, r in old["feeds"].items() if n in positions and n not in todo}
    collected: list[Output] = []
    sink = emit or collected.append
    # After few events, each feed reads what changed through the views' last_position
    # index; after many (or for a first build) it reads its members in recording order.
    indexed = bool(since) and queries.feed_changed_count(reader.sql, since) <= FEW_CHANGES
    if todo:
        first = queries.first_document(reader.sql)
        year = first["recorded"][:4] if first else "1970"
        for name in todo:
            at = queries.document_at(reader.sql, positions[name]) if positions[name] else None
            stamp = at["updated"] if at else recorded_at(reader.sql, positions[name]) if positions[name] else None
            modified = parse_time(stamp) if stamp else EPOCH  # a registry event changed it last, or nothing
            previous = old["feeds"].get(name)
            if previous and (
                (previous.get("archived_bytes") and not have(sidecar_path(previous["path"])))
                or archive_damaged(previous)
            ):
                previous = None  # its archive ids or pages are lost: cut this feed's pages afresh
            if name in recut:
                previous = None
            record = _build_feed(
                reader.sql, name, _title(reader.sql, settings, name), settings, year,
                previous, since if previous else 0, modified, sink, read, indexed,
            )  # fmt: skip
            record["position"] = positions[name]
            feeds_out[name] = record
    index_modified = EPOCH
    if head:
        index_modified = max((parse_time(r["modified"]) for r in feeds_out.values()), default=EPOCH)
    for out in _index(settings, feeds_out, head, reader.position, index_modified):
        sink(out)
    from feeds.page import site_outputs  # the story pages (Jinja2), beside the feeds

    for path, data in site_outputs(reader, settings, feeds_out, todo, have, read):
        sink(Output(path, data, index_modified))
    new_manifest = {
        "format": FORMAT,
        "fingerprint": fingerprint,
        "head": head,
        "position": reader.position,
        "feeds": {n: feeds_out[n] for n in sorted(feeds_out)},
    }
    return Result(collected, _removed(manifest, new_manifest, usable), new_manifest, todo)


def _removed(manifest: dict[str, Any] | None, new: dict[str, Any], usable: bool) -> list[str]:
    """Files of the previous build this one no longer has. A feed's files only grow while
    the manifest stays usable, so then only feeds that disappeared are looked at."""
    if not manifest or not isinstance(manifest.get("feeds"), dict):
        return []
    gone: set[str] = set()
    for name, record in manifest["feeds"].items():
        now = new["feeds"].get(name)
        if (
            usable
            and now is not None
            and now["path"] == record.get("path")
            and now["archives"] >= record.get("archives", 0)
        ):
            continue
        try:
            files = set(feed_files(record))
        except (KeyError, TypeError):
            continue
        gone |= files - set(feed_files(now) if now else ())
    return sorted(gone)


def _title(sql: Any, settings: FeedSettings, name: str) -> str:
    if name == STORY:
        return settings.title
    facet, _, slug = name.partition("/")
    display = (queries.name(sql, facet, slug) if facet in _FACETS else None) or slug
    return f"{settings.title}: {display}" if facet == "actor" else f"{settings.title}: {display} ({facet})"


def _order(d: dict[str, Any]) -> tuple[str, int]:
    return d["updated"], d["first_position"]


def _newest_first(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(docs, key=_order, reverse=True)


# How far back, in log positions, an event's timestamp may lag behind a later event's. A
# bulk import stamps events before it stores them in batches, so `updated` and
# `last_position` disagree locally (137 inversions in the 10k benchmark log, all within a
# few positions); reading this many more than a page covers that. See `_newest`.
SKEW_ROWS = 1000
# Up to this many developments changed since the previous build, a build reads them (and
# only them) through the last_position index, all at once.
FEW_CHANGES = 5000


def _newest(sql: Any, facet: str | None, slug: str | None, n: int) -> list[dict[str, Any]]:
    """The feed's newest `n` entries by (updated, first_position), as the feed orders them.
    Read by `last_position` (indexed), which orders them the same way except where
    timestamps lag behind positions, so a margin of `SKEW_ROWS` more is read and sorted.
    Exact as long as no timestamp lags more than that many positions (imports store each
    batch in time order, so only concurrent writers can skew); the views keep no
    `updated` column to index."""
    limit = n + SKEW_ROWS
    while True:
        docs = queries.feed_latest(sql, facet, slug, limit)
        if len(docs) < limit or docs[-1]["updated"] != docs[n - 1]["updated"]:
            return _newest_first(docs)[:n]
        limit *= 2


def _newest_since(
    sql: Any, facet: str | None, slug: str | None, n: int, previous: dict[str, Any], seen: list[dict[str, Any]]
) -> list[dict[str, Any]] | None:
    """The newest `n` from the previous build's newest (`top`) and the members changed or
    left over since (`seen`), or None when those may not be enough. A member in neither is
    unchanged, so it still ranks below the previous n-th (`floor`); the answer is exact
    when at least n candidates rank at or above that floor (or the previous build had
    fewer than n: then every member is a candidate)."""
    top, floor = previous.get("top"), previous.get("floor")
    if top is None:
        return None  # a manifest from before `top` was kept
    candidates = {d["id"]: d for d in queries.feed_documents(sql, facet, slug, top)}
    candidates.update((d["id"], d) for d in seen)
    if len(top) >= n and (floor is None or sum(_order(d) >= tuple(floor) for d in candidates.values()) < n):
        return None
    return _newest_first(list(candidates.values()))[:n]


class _Top:
    """The newest `n` of a stream of documents, kept while it passes."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.heap: list[tuple[str, int, dict[str, Any]]] = []

    def watch(self, docs: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for d in docs:
            item = (d["updated"], d["first_position"], d)  # first_position is unique: no dict compared
            if len(self.heap) < self.n:
                heapq.heappush(self.heap, item)
            elif item[:2] > self.heap[0][:2]:
                heapq.heapreplace(self.heap, item)
            yield d

    def newest(self) -> list[dict[str, Any]]:
        return [d for _, _, d in sorted(self.heap, key=lambda i: i[:2], reverse=True)]


def _archived_among(data: bytes | None, ids: set[str]) -> set[str]:
    if not ids or not data:
        return set()
    return (
        {line.decode() for line in data.splitlines()} & ids
        if len(ids) > 64
        else {i for i in ids if (b"\n" + i.encode() + b"\n") in b"\n" + data}
    )


def _build_feed(
    sql: Any,
    name: str,
    title: str,
    settings: FeedSettings,
    year: str,
    previous: dict[str, Any] | None,
    since: int,
    modified: datetime,
    sink: Callable[[Output], None],
    read: Callable[[str], bytes | None],
    indexed: bool = False,
) -> dict[str, Any]:
    """One feed, reading only what it needs: its newest page, its entries not yet archived
    (those left over last time plus those changed since), and new archive pages as they
    fill, one at a time. `indexed`: read the members changed since through the
    last_position index (few changes), not the feed's members in recording order."""
    from feeds.build import Document, render

    n = settings.page_size
    base = feed_path(name)
    facet, slug = (None, None) if name == STORY else name.partition("/")[::2]
    members = name == STORY or facet in _FACETS
    changed = queries.feed_changed(sql, facet, slug, since) if members and since and indexed else None
    total = _total(sql, facet, slug, previous, since) if members else 0

    pages = previous["archives"] if previous else 0
    archive_sums: list[list[Any] | None] = list(previous.get("archive_sums") or []) if previous else []
    archive_sums = (archive_sums + [None] * pages)[:pages]
    archived_bytes = previous.get("archived_bytes", 0) if previous else 0
    rest_ids: list[str] = list(previous["rest"]) if previous else []
    left = set(rest_ids)
    old_rest = (
        sorted(queries.feed_documents(sql, facet, slug, rest_ids), key=lambda d: d["first_position"])
        if members and rest_ids
        else []
    )
    archived: set[str] = set()
    if members and since and name != STORY:
        # Changed since the last build, recorded before it, not left over: archived, unless
        # it joined this feed since (then it is new here, unless it was archived before).
        if changed is not None:
            maybe = {d["id"] for d in changed if d["first_position"] <= since} - left
        else:
            maybe = set(queries.feed_changed_ids(sql, facet, slug, since, since)) - left
        archived = _archived_among(read(sidecar_path(base)) if maybe else None, maybe)

    newest: list[dict[str, Any]] | None = [] if not (members and total) else None
    if newest is None and previous is not None:
        if changed is not None:
            newest = _newest_since(sql, facet, slug, n, previous, [*old_rest, *changed])
        if newest is None:
            newest = _newest(sql, facet, slug, n)
    top = _Top(n)  # a first build streams every member: its newest are taken on the way

    def fresh() -> Iterator[dict[str, Any]]:
        if not members:
            return
        source = changed if changed is not None else queries.iter_feed_recorded(sql, facet, slug, since)
        for d in source:
            if d["id"] in left:
                continue
            if d["first_position"] <= since and (name == STORY or d["id"] in archived):
                continue  # the story loses no member: all of its older ones are archived
            yield d

    feed_id = tag_uri(settings, year, f"feed/{base}")  # the safe path: same as name for real feeds
    subtitle = f"Developments of the story{'' if name == STORY else ' for ' + title.split(': ', 1)[-1]}, newest first."
    registry, note, registry_links, wikidata = feed_notes(sql, name, settings)
    subtitle += note
    current_urls = {fmt: url(settings, f"{base}.{fmt}") for fmt in ("atom", "rss")}

    def page_urls(k: int) -> dict[str, str]:
        return {fmt: url(settings, f"archive/{base}/{k}.{fmt}") for fmt in ("atom", "rss")}

    def document(entries_docs: list[dict[str, Any]], self_urls: dict[str, str], **kw: Any) -> Any:
        entries = [follow_registry(entry(d, settings), d, registry, settings) for d in entries_docs]
        updated = max((e.updated for e in entries), default=modified)
        return Document(
            feed_id=feed_id, title=title, subtitle=subtitle, self_urls=self_urls,
            alternate_url=url(settings, "index.html"), updated=updated, author=settings.author,
            entries=entries, checkpoint_url=url(settings, CHECKPOINT_FILE), **kw,
        )  # fmt: skip

    # Cut pages in recording order while more than a page remains outside the archives.
    rest: list[dict[str, Any]] = []
    stream = heapq.merge(old_rest, fresh(), key=lambda d: d["first_position"])
    for d in top.watch(stream) if newest is None else stream:
        rest.append(d)
        if len(rest) <= n:
            continue
        page, rest = rest[:n], rest[n:]
        pages += 1
        plinks = [("current", current_urls)] + ([("prev-archive", page_urls(pages - 1))] if pages > 1 else [])
        pdoc = document(_newest_first(page), page_urls(pages), archive=True, links=plinks)
        page_sums: list[Any] = []
        for fmt in ("atom", "rss"):
            data = render(pdoc, fmt)
            page_sums += [len(data), digest(data)]
            sink(Output(f"archive/{base}/{pages}.{fmt}", data, pdoc.updated))
        archive_sums.append(page_sums)
        if name != STORY:
            ids = "".join(d["id"] + "\n" for d in page).encode()
            sink(Output(sidecar_path(base), ids, EPOCH, append_at=archived_bytes))
            archived_bytes += len(ids)

    if newest is None:
        newest = top.newest()
    current = _newest_first(list({d["id"]: d for d in [*newest, *rest]}.values()))
    links = [("prev-archive", page_urls(pages))] if pages else []
    doc = document(current, current_urls, links=links + registry_links)
    sums: dict[str, list[Any]] = {}
    for fmt in ("atom", "rss"):
        data = render(doc, fmt)
        sums[fmt] = [len(data), digest(data)]
        sink(Output(f"{base}.{fmt}", data, modified))
    return {
        "title": title,
        "path": base,
        "entries": len(current),
        "total": total,
        "updated": doc.updated.isoformat(),
        "modified": modified.isoformat(),
        "archives": pages,
        "archive_sums": archive_sums,
        "archived_bytes": archived_bytes,
        "rest": [d["id"] for d in rest],
        "top": [d["id"] for d in newest],
        "floor": list(_order(newest[-1])) if len(newest) >= n else None,
        "sums": sums,
        **({"wikidata": wikidata} if wikidata else {}),
    }


def _total(sql: Any, facet: str | None, slug: str | None, previous: dict[str, Any] | None, since: int) -> int:
    """Members now. The story only grows (a development is never removed), so it adds those
    recorded since instead of counting the log."""
    if facet is None and previous is not None and since:
        return int(previous["total"]) + queries.feed_recorded_count(sql, since)
    return queries.feed_count(sql, facet, slug)


def _index(
    settings: FeedSettings, feeds: dict[str, Any], head: dict[str, Any] | None, position: int, modified: datetime
) -> list[Output]:
    rows = []
    for name in sorted(feeds, key=lambda x: (x != STORY, x)):
        r = feeds[name]
        rows.append(
            {
                "name": name,
                "title": r["title"],
                "atom": url(settings, r["path"] + ".atom"),
                "rss": url(settings, r["path"] + ".rss"),
                "developments": r["total"],
                "updated": r["updated"],
                "archives": r["archives"],
                **({"wikidata": r["wikidata"]} if r.get("wikidata") else {}),
            }
        )
    data = {"title": settings.title, "head": head, "position": position, "feeds": rows}
    body = json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False).encode() + b"\n"
    h = html.escape
    story = rows[0] if rows else None
    items = "\n".join(
        f'<li><a href="{h(r["atom"])}">{h(xml_text(r["title"]))}</a> (<a href="{h(r["rss"])}">RSS</a>),'
        f" {r['developments']} development{'' if r['developments'] == 1 else 's'}</li>"
        for r in rows
    )
    head_text = f"#{head['position']} {head['hash']}" if head else "(empty log)"
    autodiscovery = (
        f'<link rel="alternate" type="application/atom+xml" title="{h(story["title"])}" href="{h(story["atom"])}">\n'
        f'<link rel="alternate" type="application/rss+xml" title="{h(story["title"])}" href="{h(story["rss"])}">\n'
        if story
        else ""
    )
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{h(settings.title)}: feeds</title>\n{autodiscovery}</head>\n<body>\n"
        f"<h1>{h(settings.title)}</h1>\n<p>Log head: <code>{h(head_text)}</code></p>\n"
        f"<ul>\n{items}\n</ul>\n</body>\n</html>\n"
    )
    return [Output("index.json", body, modified), Output("feeds.html", page.encode(), modified)]


class UnsafePath(ValueError):
    """An output path that would leave the folder (through '..' or a link)."""


class Directory:
    """Writes a build into one folder, never outside it, rewriting only changed files.

    Every file is written under a temporary name (hidden: it starts with '.') and renamed
    into place, and the manifest is written last, so a build stopped at any moment (killed,
    or the disk full) leaves every visible file whole, the old one or the new one, and the
    manifest of the last build that finished: the next build redoes what it names as stale.
    A build with `check` also looks at every file that manifest names (its size, and its
    hash when it changed since the manifest was written, by ctime, which nothing but a
    change to the file moves) and renders again what is missing or damaged, and removes
    the temporary files of builds that died."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._real = root.resolve()
        self._folders: dict[str, str] = {}  # checked folders, relative -> absolute
        self._serial = 0
        self._token = secrets.token_hex(4)
        self._sweep = False  # remove dead builds' temporary files from folders written to

    @staticmethod
    def _parts(rel: str) -> list[str]:
        parts = rel.split("/")
        if "\0" in rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise UnsafePath(f"unsafe output path {rel!r}")
        return parts

    def path(self, rel: str) -> Path:
        parts = self._parts(rel)
        target = (self._real / Path(*parts)).resolve()
        if not target.is_relative_to(self._real):
            raise UnsafePath(f"output path {rel!r} leads outside {str(self.root)!r}")
        return target

    def have(self, rel: str) -> bool:
        # Asked for every file of every feed on each build: a plain stat, no resolve().
        parts = rel.split("/")
        if "\0" in rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
            return False
        return os.path.isfile(os.path.join(self._real, *parts))

    def manifest(self) -> dict[str, Any] | None:
        try:
            data = json.loads((self._real / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("format") == FORMAT else None

    def damaged(self, manifest: dict[str, Any] | None) -> frozenset[str]:
        """The files `manifest` names that are missing, not regular files, or not what it
        recorded (size; hash, for files changed since the manifest was written)."""
        if not manifest or not isinstance(manifest.get("feeds"), dict):
            return frozenset()
        try:
            since = os.stat(self._real / MANIFEST).st_ctime_ns
        except OSError:
            return frozenset()
        bad: set[str] = set()
        for record in manifest["feeds"].values():
            try:
                files = list(expected_files(record))
            except (KeyError, TypeError, ValueError, IndexError):
                continue  # a record this version cannot read: its feed is rebuilt anyway
            for rel, size, want, at_least in files:
                try:
                    full = os.path.join(self._real, *self._parts(rel))
                    st = os.lstat(full)
                except (OSError, ValueError):
                    bad.add(rel)
                    continue
                if not self._whole(full, st, size, want, at_least, since):
                    bad.add(rel)
        return frozenset(bad)

    def _whole(
        self, full: str, st: os.stat_result, size: int | None, want: str | None, at_least: bool, since: int
    ) -> bool:
        if not stat.S_ISREG(st.st_mode):
            return False
        if size is None:
            return True
        if st.st_size < size if at_least else st.st_size != size:
            return False
        return want is None or st.st_ctime_ns <= since or self._digest(full) == want

    @staticmethod
    def _digest(full: str) -> str | None:
        try:
            with open(full, "rb") as f:
                return digest(f.read())
        except OSError:
            return None

    def read(self, rel: str) -> bytes | None:
        try:
            return self.path(rel).read_bytes()
        except (OSError, ValueError):
            return None

    def append(self, rel: str, data: bytes, at: int) -> None:
        """Cut the file to `at` bytes (what the manifest knows of), then add `data`."""
        target = self.path(rel)
        self._folder(rel.rpartition("/")[0])
        with open(target, "ab") as f:
            f.truncate(at)
            f.write(data)

    def write(self, rel: str, data: bytes, mtime: int | None = None) -> bool:
        """Write `data` at `rel` unless the file already holds it (then only set `mtime`,
        seconds, when given); True when the file changed."""
        self._parts(rel)
        folder, _, name = rel.rpartition("/")
        parent = self._folder(folder)
        target = os.path.join(parent, name)
        try:
            with open(target, "rb") as f:
                same = f.read() == data
                st = os.fstat(f.fileno())
            if same and stat.S_ISREG(os.lstat(target).st_mode):
                if mtime is not None and st.st_mtime_ns != mtime * 1_000_000_000:
                    os.utime(target, (mtime, mtime))
                return False
        except OSError:
            pass
        # A fresh name in the same folder, then an atomic rename: readers (`serve`) see the
        # old file or the new one, never a partial one. Cheaper than mkstemp per file.
        # A random part too: a file left by a killed build must not block a later process
        # that happens to get the same pid.
        self._serial += 1
        tmp = os.path.join(parent, f"{_TMP}{os.getpid()}-{self._token}-{self._serial}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                os.fchmod(f.fileno(), 0o644)
                f.write(data)
                f.flush()
                if mtime is not None:
                    os.utime(f.fileno(), (mtime, mtime))
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return True

    def _folder(self, rel: str) -> str:
        """A folder inside the root (made if missing), checked once per build: `write`
        replaces files by rename, which never follows a link in the file's own place."""
        known = self._folders.get(rel)
        if known is None:
            if rel:
                self.path(rel).mkdir(parents=True, exist_ok=True)
            known = self._folders[rel] = str(self.path(rel)) if rel else str(self._real)
            if self._sweep:
                self._remove_dead_temporaries(known)
        return known

    def _remove_dead_temporaries(self, folder: str) -> None:
        """Temporary files whose writer is gone (a build killed, or stopped by a full
        disk before it could clean up); a live process's are left alone."""
        with os.scandir(folder) as entries:
            names = [e.name for e in entries if e.name.startswith(_TMP)]
        for name in names:
            pid, _, rest = name.removeprefix(_TMP).partition("-")
            if pid == str(os.getpid()) and rest.startswith(self._token + "-"):
                continue
            if pid.isdigit() and _alive(int(pid)) and pid != str(os.getpid()):
                continue
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(folder, name))

    def emit(self, out: Output) -> bool:
        """Write one output as soon as it is rendered; True when the file changed."""
        if out.append_at is not None:
            self.append(out.path, out.data, out.append_at)
            return False  # bookkeeping, not a feed: not reported as written
        return self.write(out.path, out.data)

    def build(self, reader: Any, settings: FeedSettings, check: bool = True) -> tuple[Result, list[str]]:
        """Build into this folder, writing each document as it is rendered, so a build holds
        one feed's page at a time; returns the result and the paths written. With `check`,
        first find what the folder lost (see the class)."""
        written: list[str] = []
        self._folders.clear()  # folders may have gone since the last build
        self._sweep = check

        def sink(out: Output) -> None:
            if self.emit(out):
                written.append(out.path)

        manifest = self.manifest()
        damaged = self.damaged(manifest) if check else frozenset()
        if check:
            self._folder("")
        result = build_site(reader, settings, manifest, self.have, sink, self.read, damaged)
        self.finish(result)
        return result, written

    def finish(self, result: Result) -> None:
        for rel in result.removed:
            self.path(rel).unlink(missing_ok=True)
        # Compact, so json's C encoder writes it (indent= falls back to pure Python).
        data = json.dumps(result.manifest, sort_keys=True, separators=(",", ":")).encode() + b"\n"
        if not self.write(MANIFEST, data):
            # Unchanged: touch it, so every file this build wrote or set a time on is older
            # (by ctime) than the manifest, and the next check need not hash it.
            st = os.stat(self._real / MANIFEST)
            os.utime(self._real / MANIFEST, ns=(st.st_atime_ns, st.st_mtime_ns))


_TMP = ".tmp-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True

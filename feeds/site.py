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
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from feeds import FORMAT
from feeds.entries import entry, parse_time, tag_uri, xml_text
from feeds.settings import FeedSettings
from timeline import __version__
from timeline.views import queries
from timeline.views.project import facets

MANIFEST = ".timeline-feeds.json"
STORY = "story"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MEDIA_TYPES = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/json",
    "html": "text/html; charset=utf-8",
}
_SAFE = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
_FACETS = ("topic", "actor")


@dataclass(frozen=True)
class Output:
    path: str  # relative, '/'-separated, always made of safe segments
    data: bytes
    modified: datetime  # for Last-Modified: the time of the event that last changed it

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.path.rsplit(".", 1)[-1]]


@dataclass(frozen=True)
class Result:
    outputs: list[Output]  # every document rendered this time (a sink keeps unchanged bytes)
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


def url(settings: FeedSettings, path: str) -> str:
    return f"{settings.base_url}/{quote(path)}"


def _fingerprint(settings: FeedSettings) -> str:
    data = {"format": FORMAT, "version": __version__, "settings": settings.fingerprint()}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _chain_hash(reader: Any, position: int) -> str | None:
    # The views keep the hash chain; queries.head() gives only its newest link.
    sql = reader.sql
    with sql.transaction(commit=False) as c:
        rows = sql.rows(c, "SELECT hash FROM timeline_chain WHERE position = ?", [position])
    return rows[0]["hash"] if rows else None


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
) -> Result:
    fingerprint = _fingerprint(settings)
    usable = _manifest_usable(reader, manifest, fingerprint)
    old = manifest if (usable and manifest) else {"feeds": {}, "files": []}
    positions = queries.feed_positions(reader.sql)
    positions.setdefault(STORY, 0)
    head = reader.head()

    def stale(name: str) -> bool:
        record = old["feeds"].get(name)
        if record is None or record["position"] != positions[name]:
            return True
        return not all(have(p) for p in record["files"])

    todo = sorted(n for n in positions if stale(n))
    feeds_out: dict[str, Any] = {n: r for n, r in old["feeds"].items() if n in positions and n not in todo}
    outputs: list[Output] = []
    if todo:
        docs = list(reader.timeline(queries.Filter()))
        members: dict[str, list[dict[str, Any]]] = defaultdict(list)
        updated_at = {d["last_position"]: d["updated"] for d in docs}
        for d in docs:
            members[STORY].append(d)
            for facet, slug, _ in sorted(facets(d)):
                members[f"{facet}/{slug}"].append(d)
        first = min(docs, key=lambda d: d["first_position"], default=None)
        year = first["recorded"][:4] if first else "1970"
        names = {facet: queries.names(reader.sql, facet) for facet in _FACETS}
        for name in todo:
            modified = parse_time(updated_at[positions[name]]) if positions[name] in updated_at else EPOCH
            chain = _chain_hash(reader, positions[name]) if positions[name] else None
            feed_head = {"position": positions[name], "hash": chain} if chain else None
            record, docs_out = _build_feed(
                name, _title(settings, name, names), members.get(name, []), settings, year,
                old["feeds"].get(name), feed_head, modified,
            )  # fmt: skip
            record["position"] = positions[name]
            feeds_out[name] = record
            outputs += docs_out
    index_modified = EPOCH
    if head:
        index_modified = max((parse_time(r["modified"]) for r in feeds_out.values()), default=EPOCH)
    outputs += _index(settings, feeds_out, head, reader.position, index_modified)
    files = sorted({p for r in feeds_out.values() for p in r["files"]} | {"index.html", "index.json"})
    new_manifest = {
        "format": FORMAT,
        "fingerprint": fingerprint,
        "head": head,
        "position": reader.position,
        "feeds": {n: feeds_out[n] for n in sorted(feeds_out)},
        "files": files,
    }
    removed = sorted(set(manifest.get("files", []) if manifest else []) - set(files))
    return Result(outputs, removed, new_manifest, todo)


def _title(settings: FeedSettings, name: str, names: dict[str, dict[str, str]]) -> str:
    if name == STORY:
        return settings.title
    facet, _, slug = name.partition("/")
    display = names.get(facet, {}).get(slug, slug)
    return f"{settings.title}: {display}" if facet == "actor" else f"{settings.title}: {display} ({facet})"


def _newest_first(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(docs, key=lambda d: (d["updated"], d["first_position"]), reverse=True)


def _build_feed(
    name: str,
    title: str,
    docs: list[dict[str, Any]],
    settings: FeedSettings,
    year: str,
    previous: dict[str, Any] | None,
    head: dict[str, Any] | None,
    modified: datetime,
) -> tuple[dict[str, Any], list[Output]]:
    from feeds.build import Document, render

    n = settings.page_size
    base = feed_path(name)
    by_id = {d["id"]: d for d in docs}
    pages: list[list[str]] = [list(p) for p in (previous or {}).get("archives", [])]
    archived = {i for p in pages for i in p}
    rest = sorted((d for d in docs if d["id"] not in archived), key=lambda d: d["first_position"])
    fresh_pages: list[int] = []
    while len(rest) > n:
        pages.append([d["id"] for d in rest[:n]])
        fresh_pages.append(len(pages))
        rest = rest[n:]
    current = _newest_first(list({d["id"]: d for d in [*_newest_first(docs)[:n], *rest]}.values()))

    feed_id = tag_uri(settings, year, f"feed/{base}")  # the safe path: same as name for real feeds
    subtitle = f"Developments of the story{'' if name == STORY else ' for ' + title.split(': ', 1)[-1]}, newest first."
    current_urls = {fmt: url(settings, f"{base}.{fmt}") for fmt in ("atom", "rss")}

    def page_urls(k: int) -> dict[str, str]:
        return {fmt: url(settings, f"archive/{base}/{k}.{fmt}") for fmt in ("atom", "rss")}

    def document(entries_docs: list[dict[str, Any]], self_urls: dict[str, str], **kw: Any) -> Any:
        entries = [entry(d, settings) for d in entries_docs]
        updated = max((e.updated for e in entries), default=modified)
        return Document(
            feed_id=feed_id, title=title, subtitle=subtitle, self_urls=self_urls,
            alternate_url=url(settings, "index.html"), updated=updated, author=settings.author,
            entries=entries, **kw,
        )  # fmt: skip

    outputs = []
    links = [("prev-archive", page_urls(len(pages)))] if pages else []
    doc = document(current, current_urls, head=head, links=links)
    for fmt in ("atom", "rss"):
        outputs.append(Output(f"{base}.{fmt}", render(doc, fmt), modified))
    files = [f"{base}.{fmt}" for fmt in ("atom", "rss")]
    for k in range(1, len(pages) + 1):
        files += [f"archive/{base}/{k}.{fmt}" for fmt in ("atom", "rss")]
        if k not in fresh_pages:
            continue  # frozen: written once, never again
        page_docs = _newest_first([by_id[i] for i in pages[k - 1] if i in by_id])
        plinks = [("current", current_urls)] + ([("prev-archive", page_urls(k - 1))] if k > 1 else [])
        pdoc = document(page_docs, page_urls(k), archive=True, links=plinks)
        for fmt in ("atom", "rss"):
            outputs.append(Output(f"archive/{base}/{k}.{fmt}", render(pdoc, fmt), pdoc.updated))
    record = {
        "title": title,
        "path": base,
        "entries": len(current),
        "total": len(docs),
        "updated": doc.updated.isoformat(),
        "modified": modified.isoformat(),
        "archives": pages,
        "files": files,
    }
    return record, outputs


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
                "archives": len(r["archives"]),
            }
        )
    data = {"title": settings.title, "head": head, "position": position, "feeds": rows}
    body = json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False).encode() + b"\n"
    h = html.escape
    story = rows[0] if rows else None
    items = "\n".join(
        f'<li><a href="{h(r["atom"])}">{h(xml_text(r["title"]))}</a> (<a href="{h(r["rss"])}">RSS</a>),'
        f" {r['developments']} developments</li>"
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
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{h(settings.title)}: feeds</title>\n{autodiscovery}</head>\n<body>\n"
        f"<h1>{h(settings.title)}</h1>\n<p>Log head: <code>{h(head_text)}</code></p>\n"
        f"<ul>\n{items}\n</ul>\n</body>\n</html>\n"
    )
    return [Output("index.json", body, modified), Output("index.html", page.encode(), modified)]


class Directory:
    """Writes a build into one folder, never outside it, rewriting only changed files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._real = root.resolve()

    def path(self, rel: str) -> Path:
        parts = rel.split("/")
        if "\0" in rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"unsafe output path {rel!r}")
        target = (self._real / Path(*parts)).resolve()
        if not target.is_relative_to(self._real):
            raise ValueError(f"output path {rel!r} leaves {self.root}")
        return target

    def have(self, rel: str) -> bool:
        return self.path(rel).is_file()

    def manifest(self) -> dict[str, Any] | None:
        try:
            data = json.loads((self._real / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("format") == FORMAT else None

    def write(self, rel: str, data: bytes) -> bool:
        target = self.path(rel)
        try:
            if target.read_bytes() == data:
                return False
        except OSError:
            pass
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return True

    def apply(self, result: Result) -> list[str]:
        """Write what changed; returns the paths written (removed ones are in result)."""
        written = [o.path for o in result.outputs if self.write(o.path, o.data)]
        for rel in result.removed:
            self.path(rel).unlink(missing_ok=True)
        self.write(MANIFEST, json.dumps(result.manifest, sort_keys=True, indent=1).encode() + b"\n")
        return written

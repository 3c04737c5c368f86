"""A feed's documents rendered as the plan cuts them (`feeds.planning`): each new archive
page as it fills (RFC 5005: `prev-archive` and `current` links, never `next-archive`,
which would change a page after it was frozen), then the subscription document; and the
index of every feed (`index.json`, `feeds.html`).
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from feeds import CHECKPOINT_FILE
from feeds.actors import feed_notes
from feeds.entries import tag_uri, xml_text
from feeds.layout import EPOCH, FORMATS, STORY, Output, archive_path, digest, feed_path, sidecar_path, url
from feeds.manifest import FeedRecord
from feeds.planning import Doc, FeedPlan, newest_first
from feeds.settings import FeedSettings
from feeds.shared_entries import Entries

if TYPE_CHECKING:
    from timeline.reading import Reader, Registry

Link = tuple[str, dict[str, str]]  # (rel, format -> URL)


@dataclass(frozen=True)
class FeedJob:
    """What one feed's rendering is told by the build."""

    name: str
    title: str
    year: str  # of the log's first development: in the feed's tag URI
    modified: datetime  # when the event that last changed the feed was recorded
    previous: FeedRecord | None  # its record from the last build (None: cut its pages afresh)
    registry: Registry | None = None  # the actor registry, read once per build (None: read it here)
    entries: Entries | None = None  # the build's entries, made once for every feed (None: made here)


class FeedRenderer:
    """Renders one feed's documents into `sink`, returning its new record."""

    def __init__(self, reader: Reader, settings: FeedSettings, job: FeedJob, sink: Callable[[Output], None]) -> None:
        self.settings, self.job, self.sink = settings, job, sink
        self.base = base = feed_path(job.name)
        self.feed_id = tag_uri(settings, job.year, f"feed/{base}")  # the safe path: the name for real feeds
        scope = "" if job.name == STORY else " for " + job.title.split(": ", 1)[-1]
        self.registry, note, self.registry_links, self.wikidata = feed_notes(reader, job.name, settings, job.registry)
        self.subtitle = f"Developments of the story{scope}, newest first.{note}"
        self.current_urls = {fmt: url(settings, f"{base}.{fmt}") for fmt in FORMATS}
        self.entries = job.entries or Entries(settings, self.registry, shared=False)

    def page_urls(self, k: int) -> dict[str, str]:
        return {fmt: url(self.settings, archive_path(self.base, k, fmt)) for fmt in FORMATS}

    def document(
        self, docs: list[Doc], self_urls: dict[str, str], archive: bool = False, links: Sequence[Link] = ()
    ) -> Any:
        from feeds.build import Document

        s = self.settings
        entries = [self.entries.of(d) for d in docs]
        return Document(
            feed_id=self.feed_id, title=self.job.title, subtitle=self.subtitle, self_urls=self_urls,
            alternate_url=url(s, "index.html"), updated=max((e.updated for e in entries), default=self.job.modified),
            author=s.author, entries=entries, checkpoint_url=url(s, CHECKPOINT_FILE), archive=archive, links=links,
        )  # fmt: skip

    def written(self, doc: Any, fmt: str, docs: list[Doc]) -> bytes:
        """The document's bytes: from the entries written once for the build, unless the
        text writer leaves the document to feedgen, which is given the whole entries."""
        from feeds import xml_text
        from feeds.build import render

        if self.entries.shared:
            data = xml_text.render(doc, fmt)
            if data is not None:
                return data
            doc = replace(doc, entries=[self.entries.whole(d) for d in docs])
        return render(doc, fmt)

    def render(self, plan: FeedPlan) -> FeedRecord:
        previous = self.job.previous
        archive_sums: list[list[Any] | None] = list(previous.archive_sums) if previous else []
        archive_sums = (archive_sums + [None] * plan.archives)[: plan.archives]
        archived_bytes = previous.archived_bytes if previous else 0
        for page in plan.pages():
            k = plan.archives
            links = [("current", self.current_urls)] + ([("prev-archive", self.page_urls(k - 1))] if k > 1 else [])
            docs = newest_first(page)
            pdoc = self.document(docs, self.page_urls(k), archive=True, links=links)
            page_sums: list[Any] = []
            for fmt in FORMATS:
                data = self.written(pdoc, fmt, docs)
                page_sums += [len(data), digest(data)]
                self.sink(Output(archive_path(self.base, k, fmt), data, pdoc.updated))
            archive_sums.append(page_sums)
            if self.job.name != STORY:
                ids = "".join(d["id"] + "\n" for d in page).encode()
                self.sink(Output(sidecar_path(self.base), ids, EPOCH, append_at=archived_bytes))
                archived_bytes += len(ids)
        current = plan.current()
        prev = [("prev-archive", self.page_urls(plan.archives))] if plan.archives else []
        doc = self.document(current, self.current_urls, links=prev + self.registry_links)
        sums: dict[str, list[Any]] = {}
        for fmt in FORMATS:
            data = self.written(doc, fmt, current)
            sums[fmt] = [len(data), digest(data)]
            self.sink(Output(f"{self.base}.{fmt}", data, self.job.modified))
        assert plan.newest is not None
        return FeedRecord(
            title=self.job.title, path=self.base, entries=len(current), total=plan.total,
            updated=doc.updated.isoformat(), modified=self.job.modified.isoformat(), archives=plan.archives,
            archive_sums=archive_sums, archived_bytes=archived_bytes, rest=[d["id"] for d in plan.rest],
            top=[d["id"] for d in plan.newest], floor=plan.floor(), sums=sums, wikidata=self.wikidata,
        )  # fmt: skip


def index_outputs(
    settings: FeedSettings, feeds: dict[str, FeedRecord], head: dict[str, Any] | None, position: int, modified: datetime
) -> list[Output]:
    """`index.json` (every feed, with the log head) and `feeds.html` (the same as links)."""
    rows = []
    for name in sorted(feeds, key=lambda x: (x != STORY, x)):
        r = feeds[name]
        rows.append(
            {
                "name": name,
                "title": r.title,
                "atom": url(settings, r.path + ".atom"),
                "rss": url(settings, r.path + ".rss"),
                "developments": r.total,
                "updated": r.updated,
                "archives": r.archives,
                **({"wikidata": r.wikidata} if r.wikidata else {}),
            }
        )
    data = {"title": settings.title, "head": head, "position": position, "feeds": rows}
    body = json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False).encode() + b"\n"
    return [Output("index.json", body, modified), Output("feeds.html", _feeds_html(settings, rows, head), modified)]


def _feeds_html(settings: FeedSettings, rows: list[dict[str, Any]], head: dict[str, Any] | None) -> bytes:
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
    return page.encode()

"""One feed document (a subscription document or an archive page) as Atom or RSS bytes.

Built with feedgen; what feedgen lacks (RFC 6721 tombstones, RFC 5005 `fh:archive`, the
archive links in RSS, the link to the log's checkpoint, whose relation is a URI) is added
through its extension mechanism.
Deterministic: every date comes from the events, entries are appended in the order given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from feeds import ATOM_NS, CHECKPOINT_REL, CHECKPOINT_TYPE, HISTORY_NS, TOMBSTONES_NS
from feeds.entries import Entry, Tombstone, xml_text
from feeds.layout import MEDIA_TYPES
from feeds.xml_text import Written
from timeline import __version__


@dataclass(frozen=True)
class Document:
    feed_id: str
    title: str
    subtitle: str
    self_urls: dict[str, str]  # format -> URL of this document in that format
    alternate_url: str  # the human page (the index)
    updated: datetime
    author: str
    entries: Sequence[Entry | Written]  # Written: the text writer's already (`feeds.shared_entries`)
    checkpoint_url: str | None = None  # the log's current checkpoint (C2SP tlog-checkpoint)
    archive: bool = False  # an RFC 5005 archive page
    links: Sequence[tuple[str, dict[str, str]]] = field(default_factory=tuple)  # (rel, format -> URL)


class _Extras(BaseExtension):
    """Feed-level elements feedgen does not know. Data is set on the instance per build."""

    def __init__(self) -> None:
        self.doc: Document | None = None
        self.fmt = "atom"

    def extend_ns(self) -> dict[str, str]:
        ns = {"fh": HISTORY_NS}
        if self.fmt == "atom":
            ns["at"] = TOMBSTONES_NS
        return ns

    def _common(self, parent: Any) -> None:
        doc = self.doc
        assert doc is not None
        if doc.archive:
            etree.SubElement(parent, f"{{{HISTORY_NS}}}archive")

    def extend_atom(self, feed: Any) -> Any:
        self._common(feed)
        assert self.doc is not None
        if self.doc.checkpoint_url:  # feedgen refuses a URI as rel; beside its links, before the entries
            link = etree.Element("link", href=self.doc.checkpoint_url, rel=CHECKPOINT_REL, type=CHECKPOINT_TYPE)
            feed.findall("link")[-1].addnext(link)
        for stone in tombstones(self.doc.entries):
            el = etree.SubElement(feed, f"{{{TOMBSTONES_NS}}}deleted-entry", ref=stone.ref, when=stone.when.isoformat())
            etree.SubElement(el, f"{{{TOMBSTONES_NS}}}comment").text = stone.comment
        return feed

    def extend_rss(self, feed: Any) -> Any:
        channel = feed.find("channel")
        assert self.doc is not None
        for rel, urls in self.doc.links:  # feedgen writes only the self link into RSS
            etree.SubElement(channel, f"{{{ATOM_NS}}}link", href=urls["rss"], rel=rel, type=MEDIA_TYPES["rss"])
        if self.doc.checkpoint_url:
            etree.SubElement(
                channel, f"{{{ATOM_NS}}}link", href=self.doc.checkpoint_url, rel=CHECKPOINT_REL, type=CHECKPOINT_TYPE
            )
        self._common(channel)
        return feed


class _EntryExtras(BaseEntryExtension):
    """Links feedgen cannot write: its entry links lose every attribute but href. The
    alternate link is the development's own page (which never moves); each source is a
    `related` link. In RSS the item's link is that page; the sources are in its content."""

    def __init__(self) -> None:
        self.alternate: str | None = None
        self.links: Sequence[Any] = ()

    def extend_atom(self, entry: Any) -> Any:
        # feedgen builds entries unqualified, like these
        if self.alternate:
            etree.SubElement(entry, "link", {"href": self.alternate, "rel": "alternate", "type": "text/html"})
        for link in self.links:
            attrs = {"href": link.href, "rel": "related"}
            if link.title:
                attrs["title"] = link.title
            etree.SubElement(entry, "link", attrs)
        return entry

    def extend_rss(self, item: Any) -> Any:
        if self.alternate:
            etree.SubElement(item, "link").text = self.alternate
        return item


def tombstones(entries: Sequence[Entry | Written]) -> list[Tombstone]:
    return [e.tombstone for e in entries if e.tombstone is not None]


def render(doc: Document, fmt: str) -> bytes:
    """The document as `render_feedgen` writes it: written as text by `feeds.xml_text`
    when it can, else through feedgen."""
    from feeds import xml_text

    fast = xml_text.render(doc, fmt)
    return fast if fast is not None else render_feedgen(doc, fmt)


def render_feedgen(doc: Document, fmt: str) -> bytes:
    fg = FeedGenerator()
    fg.register_extension("timeline", _Extras, _EntryExtras, atom=True, rss=True)
    fg.timeline.doc = doc
    fg.timeline.fmt = fmt
    fg.id(doc.feed_id)
    fg.title(xml_text(doc.title))
    fg.subtitle(xml_text(doc.subtitle))  # RSS description
    fg.description(xml_text(doc.subtitle))
    fg.author({"name": xml_text(doc.author)})
    fg.updated(doc.updated)
    fg.lastBuildDate(doc.updated)
    fg.generator("news-timeline", __version__)
    fg.language("en")
    # The RSS channel link is the last link added: self first, alternate last.
    fg.link(href=doc.self_urls[fmt], rel="self", type=MEDIA_TYPES[fmt])
    if fmt == "atom":
        for rel, urls in doc.links:
            fg.link(href=urls["atom"], rel=rel, type=MEDIA_TYPES["atom"])
    fg.link(href=doc.alternate_url, rel="alternate", type="text/html")
    for e in doc.entries:
        assert isinstance(e, Entry), "feedgen is given whole entries (`FeedRenderer.written`)"
        fe = fg.add_entry(order="append")
        fe.id(e.id)
        fe.title(e.title)
        fe.published(e.published)
        fe.updated(e.updated)
        fe.author({"name": e.author})
        fe.summary(e.summary)
        fe.content(e.content, type="html")
        fe.timeline.alternate = e.alternate
        fe.timeline.links = e.links
        for c in e.categories:
            fe.category(term=c.term, scheme=c.scheme, label=c.label)
    if fmt == "atom":
        return bytes(fg.atom_str(pretty=True))
    return bytes(fg.rss_str(pretty=True))

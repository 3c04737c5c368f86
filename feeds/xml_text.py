"""A feed document as Atom or RSS bytes, written as text: the bytes `feeds.build`'s
feedgen path writes (feedgen building an lxml tree, serialised with `pretty_print`),
without building the tree.

With feedgen every entry became about twenty lxml elements once per feed it is in and
per format; here it is a few string joins (the feeds' CPU of a 10,000-event build, writes
aside, went from 13.6 s to 6.6 s). The layout is fixed (feedgen's element
order, lxml's two-space indentation and escaping), so `render` answers None for anything
outside what it knows (an empty field feedgen would leave out or refuse, text XML does
not allow), and the caller renders that document through feedgen. Tests compare both
paths byte for byte (tests/feeds/test_xml_text.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from feeds import ATOM_NS, CHECKPOINT_REL, CHECKPOINT_TYPE, HISTORY_NS, TOMBSTONES_NS
from feeds.layout import MEDIA_TYPES
from timeline import __version__

if TYPE_CHECKING:
    from feeds.build import Document
    from feeds.entries import Entry, Tombstone

CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
RSS_DOCS = "http://www.rssboard.org/rss-specification"  # feedgen's default <docs>
DECLARATION = "<?xml version='1.0' encoding='UTF-8'?>\n"
ATOM_ROOT = f'<feed xmlns:fh="{HISTORY_NS}" xmlns:at="{TOMBSTONES_NS}" xmlns="{ATOM_NS}" xml:lang="en">\n'
RSS_ROOT = f'<rss xmlns:fh="{HISTORY_NS}" xmlns:atom="{ATOM_NS}" xmlns:content="{CONTENT_NS}" version="2.0">\n'
# What lxml refuses in text (XML 1.0's Char production), and lone surrogates, which do
# not encode: either sends the document to feedgen, which says so as before.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# What libxml2 escapes in character data, and in an attribute value (in double quotes).
_TEXT = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;"))
_ATTR = (*_TEXT, ('"', "&quot;"), ("\n", "&#10;"), ("\t", "&#9;"))


def _escaped(s: str, table: tuple[tuple[str, str], ...]) -> str:
    for char, entity in table:
        if char in s:  # most text has none of them: a search is cheaper than a copy
            s = s.replace(char, entity)
    return s


def text(s: str) -> str:
    return _escaped(s, _TEXT)


def attr(s: str) -> str:
    return _escaped(s, _ATTR)


def element(indent: str, name: str, value: str) -> str:
    """One element holding only text (lxml writes `<x></x>` for empty text)."""
    return f"{indent}<{name}>{text(value)}</{name}>\n"


def rfc2822(d: datetime) -> str:
    """feedgen's `formatRFC2822` (strftime in the C locale), without changing the locale."""
    # glibc's %Y does not pad a year before 1000; neither does str()
    return f"{_DAYS[d.weekday()]}, {d.day:02d} {_MONTHS[d.month - 1]} {d.year} {d:%H:%M:%S} {d:%z}"


def _plain(e: Entry) -> bool:
    """Whether feedgen writes every part of the entry, each in its place (else: None)."""
    return (
        bool(e.id and e.title and e.summary and e.content and e.author)
        and (e.updated.tzinfo is not None and e.published.tzinfo is not None)
        and all(c.term and c.scheme and c.label for c in e.categories)
    )


@dataclass(frozen=True)
class Written:
    """An entry already written as Atom and RSS text (`written`), with what its document
    still reads of it: `feeds.shared_entries` makes each once per build."""

    development: str  # the development's id
    updated: datetime
    tombstone: Tombstone | None
    atom: str
    rss: str


def written(development: str, e: Entry) -> Written | None:
    """The entry's text in both formats, or None when its documents must go to feedgen."""
    if not _plain(e):
        return None
    atom, rss = atom_entry(e), rss_item(e)
    if _NOT_XML.search(atom) or _NOT_XML.search(rss):
        return None
    return Written(development, e.updated, e.tombstone, atom, rss)


def atom_entry(e: Entry) -> str:
    parts = [
        "  <entry>\n",
        element("    ", "id", e.id),
        element("    ", "title", e.title),
        element("    ", "updated", e.updated.isoformat()),
        f"    <author>\n      <name>{text(e.author)}</name>\n    </author>\n",
        f'    <content type="html">{text(e.content)}</content>\n',
        element("    ", "summary", e.summary),
    ]
    parts += [
        f'    <category term="{attr(c.term)}" scheme="{attr(c.scheme)}" label="{attr(c.label)}"/>\n'
        for c in e.categories
    ]
    parts.append(element("    ", "published", e.published.isoformat()))
    if e.alternate:
        parts.append(f'    <link href="{attr(e.alternate)}" rel="alternate" type="text/html"/>\n')
    for link in e.links:
        title = f' title="{attr(link.title)}"' if link.title else ""
        parts.append(f'    <link href="{attr(link.href)}" rel="related"{title}/>\n')
    parts.append("  </entry>\n")
    return "".join(parts)


def rss_item(e: Entry) -> str:
    parts = [
        "    <item>\n",
        element("      ", "title", e.title),
        element("      ", "description", e.summary),
        element("      ", "content:encoded", e.content),
        f'      <guid isPermaLink="false">{text(e.id)}</guid>\n',
    ]
    parts += [f'      <category domain="{attr(c.scheme)}">{text(c.label)}</category>\n' for c in e.categories]
    parts.append(element("      ", "pubDate", rfc2822(e.published)))
    if e.alternate:
        parts.append(element("      ", "link", e.alternate))
    parts.append("    </item>\n")
    return "".join(parts)


def link(indent: str, tag: str, href: str, rel: str, media_type: str) -> str:
    return f'{indent}<{tag} href="{attr(href)}" rel="{attr(rel)}" type="{attr(media_type)}"/>\n'


def _links(doc: Document, fmt: str, indent: str, tag: str) -> list[str]:
    """The self link, then the document's other links to feeds (`Document.links`)."""
    own = [link(indent, tag, doc.self_urls[fmt], "self", MEDIA_TYPES[fmt])]
    return own + [link(indent, tag, urls[fmt], rel, MEDIA_TYPES[fmt]) for rel, urls in doc.links]


def _entries(doc: Document, fmt: str) -> tuple[list[str], list[str]]:
    """Each entry's text, and those of entries not written before (`Written` ones were
    checked for what XML does not allow when they were written)."""
    texts, fresh = [], []
    for e in doc.entries:
        if isinstance(e, Written):
            texts.append(e.atom if fmt == "atom" else e.rss)
        else:
            texts.append(atom_entry(e) if fmt == "atom" else rss_item(e))
            fresh.append(texts[-1])
    return texts, fresh


def _atom(doc: Document) -> tuple[str, str]:
    """The document's text, and what of it is still to check."""
    parts = [
        DECLARATION,
        ATOM_ROOT,
        element("  ", "id", doc.feed_id),
        element("  ", "title", doc.title),
        element("  ", "updated", doc.updated.isoformat()),
        f"  <author>\n    <name>{text(doc.author)}</name>\n  </author>\n",
        *_links(doc, "atom", "  ", "link"),
        link("  ", "link", doc.alternate_url, "alternate", "text/html"),
    ]
    if doc.checkpoint_url:
        parts.append(link("  ", "link", doc.checkpoint_url, CHECKPOINT_REL, CHECKPOINT_TYPE))
    parts.append(f'  <generator version="{attr(__version__)}">news-timeline</generator>\n')
    parts.append(element("  ", "subtitle", doc.subtitle))
    if doc.archive:
        parts.append("  <fh:archive/>\n")
    for e in doc.entries:
        stone = e.tombstone
        if stone is not None:
            parts.append(f'  <at:deleted-entry ref="{attr(stone.ref)}" when="{attr(stone.when.isoformat())}">\n')
            parts.append(element("    ", "at:comment", stone.comment))
            parts.append("  </at:deleted-entry>\n")
    texts, fresh = _entries(doc, "atom")
    return "".join([*parts, *texts, "</feed>\n"]), "".join(parts + fresh)


def _rss(doc: Document) -> tuple[str, str]:
    self_link, *others = _links(doc, "rss", "    ", "atom:link")
    parts = [
        DECLARATION,
        RSS_ROOT,
        "  <channel>\n",
        element("    ", "title", doc.title),
        element("    ", "link", doc.alternate_url),
        element("    ", "description", doc.subtitle),
        self_link,
        element("    ", "docs", RSS_DOCS),
        "    <generator>news-timeline</generator>\n",
        "    <language>en</language>\n",
        element("    ", "lastBuildDate", rfc2822(doc.updated)),
        *others,  # feedgen writes only the self link; the extension adds these after its own
    ]
    if doc.checkpoint_url:
        parts.append(link("    ", "atom:link", doc.checkpoint_url, CHECKPOINT_REL, CHECKPOINT_TYPE))
    if doc.archive:
        parts.append("    <fh:archive/>\n")
    texts, fresh = _entries(doc, "rss")
    return "".join([*parts, *texts, "  </channel>\n</rss>\n"]), "".join(parts + fresh)


def render(doc: Document, fmt: str) -> bytes | None:
    """The document's bytes, or None when feedgen must write it (see the module)."""
    if not (doc.feed_id and doc.title and doc.subtitle and doc.author and doc.alternate_url):
        return None
    if doc.updated.tzinfo is None or not all(isinstance(e, Written) or _plain(e) for e in doc.entries):
        return None
    out, unchecked = _atom(doc) if fmt == "atom" else _rss(doc)
    if _NOT_XML.search(unchecked):
        return None
    return out.encode("utf-8")

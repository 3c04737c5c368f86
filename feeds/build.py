"""One feed document (a subscription document or an archive page) as Atom or RSS bytes.

Written straight from string templates, byte for byte what feedgen 1.0 and lxml's pretty
printer made of the same document (the RFC 6721 tombstones, RFC 5005 `fh:archive` and
archive links, and our log head included); tests/feeds/feedgen_oracle.py keeps that
renderer and the tests compare the two. Building an lxml tree through feedgen for every
entry of every page was most of a full build's time.

An entry does not depend on the feed it appears in, so its Atom and RSS fragments are
rendered once per `Entry` and reused by every document that holds it.
Deterministic: every date comes from the events, entries are written in the order given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from feeds import ATOM_NS, HISTORY_NS, LOG_NS, TOMBSTONES_NS
from feeds.entries import Category, Entry, Tombstone, xml_text
from timeline import __version__

MEDIA_TYPES = {"atom": "application/atom+xml", "rss": "application/rss+xml"}
RSS_DOCS = "http://www.rssboard.org/rss-specification"  # feedgen's default channel <docs>
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DECLARATION = "<?xml version='1.0' encoding='UTF-8'?>\n"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Document:
    feed_id: str
    title: str
    subtitle: str
    self_urls: dict[str, str]  # format -> URL of this document in that format
    alternate_url: str  # the human page (the index)
    updated: datetime
    author: str
    entries: Sequence[Entry]
    head: dict[str, Any] | None = None
    archive: bool = False  # an RFC 5005 archive page
    links: Sequence[tuple[str, dict[str, str]]] = field(default_factory=tuple)  # (rel, format -> URL)


def tombstones(entries: Sequence[Entry]) -> list[Tombstone]:
    return [e.tombstone for e in entries if e.tombstone is not None]


def render(doc: Document, fmt: str) -> bytes:
    return (_atom(doc) if fmt == "atom" else _rss(doc)).encode("utf-8")


# --- serialisation as libxml2 does it -------------------------------------------------------


def _t(text: str) -> str:
    # chained replace: several times faster than str.translate for mostly clean text
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\r", "&#13;") if "\r" in text else text


def _a(value: str) -> str:
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    if "\n" in value or "\r" in value or "\t" in value:
        value = value.replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    return value


def _leaf(indent: str, tag: str, text: str | None, attrs: str = "") -> str:
    """One element on its own line: `<tag/>` without text, `<tag></tag>` with empty text."""
    if text is None:
        return f"{indent}<{tag}{attrs}/>\n"
    return f"{indent}<{tag}{attrs}>{_t(text)}</{tag}>\n"


def _attrs(*pairs: tuple[str, str]) -> str:
    return "".join(f' {k}="{_a(v)}"' for k, v in pairs)


def rfc2822(d: datetime) -> str:
    """feedgen's formatRFC2822 ('%a, %d %b %Y %H:%M:%S %z' in the C locale), without
    switching the process locale."""
    return f"{_DAYS[d.weekday()]}, {d.day:02d} {_MONTHS[d.month - 1]} {d.year:04d} {d:%H:%M:%S %z}"


def _author(indent: str, name: str) -> str:
    # feedgen leaves out an author without a name
    return f"{indent}<author>\n{indent}  <name>{_t(name)}</name>\n{indent}</author>\n" if name else ""


def _head(indent: str, doc: Document) -> str:
    out = f"{indent}<fh:archive/>\n" if doc.archive else ""
    if doc.head:
        out += _leaf(indent, "tl:log-head", doc.head["hash"], _attrs(("position", str(doc.head["position"]))))
    return out


# --- Atom -----------------------------------------------------------------------------------


def _atom(doc: Document) -> str:
    parts = [
        DECLARATION,
        f'<feed xmlns:tl="{_a(LOG_NS)}" xmlns:fh="{_a(HISTORY_NS)}" xmlns:at="{_a(TOMBSTONES_NS)}"'
        f' xmlns="{_a(ATOM_NS)}" xml:lang="en">\n',
        _leaf("  ", "id", doc.feed_id),
        _leaf("  ", "title", xml_text(doc.title)),
        _leaf("  ", "updated", doc.updated.isoformat()),
        _author("  ", xml_text(doc.author)),
        _leaf(
            "  ", "link", None, _attrs(("href", doc.self_urls["atom"]), ("rel", "self"), ("type", MEDIA_TYPES["atom"]))
        ),
    ]
    for rel, urls in doc.links:
        parts.append(
            _leaf("  ", "link", None, _attrs(("href", urls["atom"]), ("rel", rel), ("type", MEDIA_TYPES["atom"])))
        )
    parts.append(
        _leaf("  ", "link", None, _attrs(("href", doc.alternate_url), ("rel", "alternate"), ("type", "text/html")))
    )
    parts.append(_leaf("  ", "generator", "news-timeline", _attrs(("version", __version__))))
    subtitle = xml_text(doc.subtitle)
    if subtitle:
        parts.append(_leaf("  ", "subtitle", subtitle))
    parts.append(_head("  ", doc))
    for stone in tombstones(doc.entries):
        parts.append(
            f"  <at:deleted-entry{_attrs(('ref', stone.ref), ('when', stone.when.isoformat()))}>\n"
            + _leaf("    ", "at:comment", stone.comment)
            + "  </at:deleted-entry>\n"
        )
    parts += [atom_entry(e) for e in doc.entries]
    parts.append("</feed>\n")
    return "".join(parts)


def atom_entry(e: Entry) -> str:
    cached = e.rendered.get("atom")
    if cached is not None:
        return cached
    parts = [
        "  <entry>\n",
        _leaf("    ", "id", e.id),
        _leaf("    ", "title", e.title),
        _leaf("    ", "updated", e.updated.isoformat()),
        _author("    ", e.author),
        _leaf("    ", "content", e.content or None, ' type="html"'),
        _leaf("    ", "summary", e.summary or None),
    ]
    parts += [_atom_category(c) for c in e.categories]
    parts.append(_leaf("    ", "published", e.published.isoformat()))
    for i, link in enumerate(e.links):
        pairs = [("href", link.href), ("rel", "alternate" if i == 0 else "related")]
        parts.append(_leaf("    ", "link", None, _attrs(*pairs, *([("title", link.title)] if link.title else []))))
    parts.append("  </entry>\n")
    text = "".join(parts)
    e.rendered["atom"] = text
    return text


@lru_cache(maxsize=65536)
def _atom_category(c: Category) -> str:
    pairs = (
        [("term", c.term)] + ([("scheme", c.scheme)] if c.scheme else []) + ([("label", c.label)] if c.label else [])
    )
    return _leaf("    ", "category", None, _attrs(*pairs))


# --- RSS 2.0 --------------------------------------------------------------------------------


def _rss(doc: Document) -> str:
    subtitle = xml_text(doc.subtitle)
    parts = [
        DECLARATION,
        f'<rss xmlns:tl="{_a(LOG_NS)}" xmlns:fh="{_a(HISTORY_NS)}" xmlns:atom="{_a(ATOM_NS)}"'
        f' xmlns:content="{_a(CONTENT_NS)}" version="2.0">\n',
        "  <channel>\n",
        _leaf("    ", "title", xml_text(doc.title)),
        _leaf("    ", "link", doc.alternate_url),  # feedgen: the last link added
        _leaf("    ", "description", subtitle),
        _leaf(
            "    ",
            "atom:link",
            None,
            _attrs(("href", doc.self_urls["rss"]), ("rel", "self"), ("type", MEDIA_TYPES["rss"])),
        ),
        _leaf("    ", "docs", RSS_DOCS),
        _leaf("    ", "generator", "news-timeline"),
        _leaf("    ", "language", "en"),
        _leaf("    ", "lastBuildDate", rfc2822(doc.updated)),
    ]
    for rel, urls in doc.links:
        parts.append(
            _leaf("    ", "atom:link", None, _attrs(("href", urls["rss"]), ("rel", rel), ("type", MEDIA_TYPES["rss"])))
        )
    parts.append(_head("    ", doc))
    parts += [rss_item(e) for e in doc.entries]
    parts.append("  </channel>\n</rss>\n")
    return "".join(parts)


@lru_cache(maxsize=65536)
def _rss_category(c: Category) -> str:
    # feedgen: the label is the text (even when empty), the scheme the domain
    return _leaf("      ", "category", c.label, _attrs(("domain", c.scheme)) if c.scheme else "")


def rss_item(e: Entry) -> str:
    cached = e.rendered.get("rss")
    if cached is not None:
        return cached
    parts = ["    <item>\n", _leaf("      ", "title", e.title) if e.title else ""]
    # feedgen: the summary is the description and the content content:encoded; without a
    # summary the content is the description
    if e.summary:
        parts += [_leaf("      ", "description", e.summary), _leaf("      ", "content:encoded", e.content)]
    else:
        parts.append(_leaf("      ", "description", e.content))
    parts.append(_leaf("      ", "guid", e.id, ' isPermaLink="false"'))
    parts += [_rss_category(c) for c in e.categories]
    parts.append(_leaf("      ", "pubDate", rfc2822(e.published)))
    if e.links:
        parts.append(_leaf("      ", "link", e.links[0].href))
    parts.append("    </item>\n")
    text = "".join(parts)
    e.rendered["rss"] = text
    return text

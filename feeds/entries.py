"""A development's document turned into feed entry content. Pure: no feedgen, no I/O.

Everything a feed says about a development is decided here (ids, title, the readable
summary, the correction and retraction notices), so it is tested without building a feed.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from events import KINDS, OccurredDate, display
from events.fields import source_text, xml_safe
from events.slugs import slugify
from feeds.layout import permalink_path, url
from feeds.settings import FeedSettings

# The characters XML 1.0 does not allow anywhere: the only thing a feed strips (the
# domain's own rule, which already keeps them out of stored text).
xml_text = xml_safe


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def tag_uri(settings: FeedSettings, year: str, specific: str) -> str:
    return f"tag:{settings.authority},{year}:{specific}"


def entry_id(settings: FeedSettings, doc: dict[str, Any]) -> str:
    """Permanent: the authority, the year first recorded and the development id."""
    return tag_uri(settings, doc["recorded"][:4], f"development/{doc['id']}")


@dataclass(frozen=True)
class Category:
    term: str
    scheme: str
    label: str


@dataclass(frozen=True)
class Link:
    href: str
    title: str


@dataclass(frozen=True)
class Tombstone:
    """RFC 6721: `ref` is the retracted entry's id, `when` the retraction time."""

    ref: str
    when: datetime
    comment: str


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    published: datetime
    updated: datetime
    summary: str  # plain text
    content: str  # HTML
    alternate: str  # the development's own page (`feeds.layout.permalink_path`), which never moves
    links: tuple[Link, ...]  # the sources, each a related link
    categories: tuple[Category, ...]
    author: str
    tombstone: Tombstone | None


def entry(doc: dict[str, Any], settings: FeedSettings) -> Entry:
    f = doc["fields"]
    kind = KINDS[doc["kind"]]
    occurred = _humane(doc["occurred"])
    retraction = retraction_notice(doc)
    corrections = [correction_notice(c) for c in doc["corrections"]]
    details = kind.describe(f)
    base = settings.base_url

    # A visit held as a summit, a meeting or a call says so ("Summit, 4-5 June 2024.").
    label = str(f.get("format") or doc["kind"]).capitalize()
    summary_parts = [p for p in (retraction, f"{label}, {occurred}.", f.get("summary")) if p]
    summary_parts += corrections

    h = html.escape
    body: list[str] = []
    if retraction:
        body.append(f'<p dir="auto"><strong>{h(retraction)}</strong></p>')
    body.append(f'<p dir="auto">{h(label)}, occurred {h(occurred)} ({h(doc["precision"])} precision)'
                + (f", in {h(f['place'])}" if f.get("place") else "") + ".</p>")  # fmt: skip
    if f.get("summary"):
        body.append(f'<p dir="auto">{h(f["summary"])}</p>')
    if details:
        body.append("<ul>" + "".join(f'<li dir="auto">{h(line)}</li>' for line in details) + "</ul>")
    if doc["actors"]:
        body.append(f'<p dir="auto">Actors: {h(", ".join(doc["actors"]))}</p>')
    if doc["topics"]:
        body.append(f'<p dir="auto">Topics: {h(", ".join(doc["topics"]))}</p>')
    sources = f.get("sources", [])
    if sources:
        items = "".join(
            f'<li><a href="{h(s["url"])}">{h(s.get("publisher") or s["url"])}</a>'
            + (f" ({h(s['published'])})" if s.get("published") else "") + "</li>"
            for s in sources
        )  # fmt: skip
        body.append(f"<p>Sources:</p><ul>{items}</ul>")
    for note in corrections:
        body.append(f'<p dir="auto"><em>{h(note)}</em></p>')

    links = tuple(Link(s["url"], s.get("publisher") or "") for s in sources)
    categories = [_category(doc["kind"], f"{base}/kind/", doc["kind"])]
    categories += [_category(t, f"{base}/topic/", t) for t in doc["topics"]]
    categories += [_actor_category(a, f"{base}/actor/") for a in doc["actors"]]
    title = doc["title"]
    tombstone = None
    if doc["retracted"]:
        title = f"Retracted: {title}"
        tombstone = Tombstone(entry_id(settings, doc), parse_time(doc["retracted"]["recorded"]), retraction or "")
    return Entry(
        id=entry_id(settings, doc),
        title=xml_text(title),
        published=parse_time(doc["recorded"]),
        updated=parse_time(doc["updated"]),
        summary=xml_text(" ".join(summary_parts)),
        content=xml_text("\n".join(body)),
        alternate=url(settings, permalink_path(doc["id"])),
        links=tuple(Link(xml_text(x.href), xml_text(x.title)) for x in links),
        categories=tuple(dict.fromkeys(categories)),
        author=xml_text(settings.author),
        tombstone=tombstone,
    )


# Topics, actors and dates recur across entries (and an entry is made once per feed it is
# in): their text is worked out once per build.
@lru_cache(maxsize=65536)
def _category(term: str, scheme: str, label: str) -> Category:
    return Category(xml_text(term), scheme, xml_text(label))


@lru_cache(maxsize=65536)
def _actor_category(name: str, scheme: str) -> Category:
    return _category(slugify(name), scheme, name)


@lru_cache(maxsize=65536)
def _humane(occurred: str) -> str:
    return OccurredDate.from_canonical(occurred).humane()


def retraction_notice(doc: dict[str, Any]) -> str | None:
    r = doc["retracted"]
    if not r:
        return None
    source = f" (source: {source_text(r['source'])})" if r.get("source") else ""
    return f"Retracted on {r['recorded'][:10]}: {r['reason']}{source}. This development is withdrawn; it is kept here so the record stays complete."


def correction_notice(note: dict[str, Any]) -> str:
    """'Corrected on 2024-07-08: title: "old" → "new"; reason: ...'."""
    changes = "; ".join(
        f"{name}: {value_text(name, ch.get('before'))} → {value_text(name, ch.get('after'))}"
        for name, ch in sorted(note["changes"].items())
    )
    source = f" (source: {source_text(note['source'])})" if note.get("source") else ""
    return f"Corrected on {note['recorded'][:10]}: {changes}; reason: {note['reason']}{source}."


def value_text(name: str, value: Any) -> str:
    return display.value_text(name, value)

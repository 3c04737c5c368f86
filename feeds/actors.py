"""Per-actor feeds follow the actor registry: an entry's actor categories name the actors
the registry resolves its names to, with their Wikidata ids as a category scheme of their
own (`http://www.wikidata.org/entity/`, so other tools can join on them), and the feed of
a merged actor says where its entries went."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from feeds.entries import Category, Entry, _actor_category, xml_text
from feeds.settings import FeedSettings
from timeline.reading import Reader, Registry, period

WIKIDATA_SCHEME = "http://www.wikidata.org/entity/"


def follow_registry(e: Entry, doc: dict[str, Any], reg: Registry, settings: FeedSettings) -> Entry:
    if not reg.actors:
        return e
    scheme = f"{settings.base_url}/actor/"
    categories = [c for c in e.categories if c.scheme != scheme]
    span = period(doc)
    for name in doc["actors"]:
        actor = reg.resolve(name, *span)
        if actor is None:
            categories.append(_actor_category(name, scheme))
            continue
        categories.append(Category(xml_text(actor.slug), scheme, xml_text(actor.name)))
        if actor.wikidata:
            categories.append(Category(actor.wikidata, WIKIDATA_SCHEME, xml_text(actor.name)))
    return replace(e, categories=tuple(dict.fromkeys(categories)))


def feed_notes(
    reader: Reader, name: str, settings: FeedSettings, reg: Registry | None = None
) -> tuple[Registry, str, list[tuple[str, dict[str, str]]], str | None]:
    """For one feed: the registry (`reg`, when the build read it already), a subtitle note,
    extra links and the actor's Wikidata id."""
    reg = reader.registry() if reg is None else reg
    facet, _, slug = name.partition("/")
    if facet != "actor":
        return reg, "", [], None
    own = next((a for a in reg.actors.values() if a.slug == slug), None)
    note = reader.merged_note(slug, reg)
    if note is None:
        return reg, "", [], own.wikidata if own else None
    urls = {fmt: f"{settings.base_url}/actor/{note['slug']}.{fmt}" for fmt in ("atom", "rss")}
    text = f" Merged into {note['name']} ({note['reason']}): its developments are now in {urls['atom']}."
    return reg, text, [("related", urls)], None

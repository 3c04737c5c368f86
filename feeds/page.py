"""The story as pages people look at: `index.html` and one page set per topic, actor and kind.

Everything shown is read through the views' read interface (`timeline.reading.Reader` and
`timeline.views.queries`) and rendered by Jinja2 templates with autoescaping on, so a
field holding HTML or script is shown as text. The pages are static HTML and CSS with no
external requests, readable without JavaScript (filters are links to the other page
sets); `page.js` only filters the page in place. Charts are inline SVG made here.

A page set holds its developments in occurred order, `PAGE` to a page: its newest page
is the set's own file (`index.html`, `topic/<slug>.html`, ...), earlier ones live under
`pages/<set>/<n>.html` (n = 1, oldest), so a page stays small however long the story.
A development's place among those pages moves as the story grows; its own page,
`d/<id>.html`, does not, and is what the feeds link to.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from importlib.resources import files
from itertools import islice
from typing import Any

import jinja2
from markupsafe import Markup

from events import KINDS, OccurredDate
from events.display import value_text
from events.ledger import Ledger, LedgerPledge, pledge_ledger
from events.money import Total
from feeds import fragments
from feeds.layout import permalink_path
from feeds.ledger_chart import ledger_svg
from feeds.ledger_page import CHART, Shown, StoryLedger, ledger_pledge
from feeds.manifest import PreviousBuild
from feeds.signatures import FORMER, Signatures
from feeds.spool import ByPosition
from timeline.views import queries
from timeline.views.queries import Filter

_NOT_GIVEN = object()  # a set with no ledger of its own (the kinds but pledges)
PAGE = 200  # developments per page
_SITES = 1024  # sites kept by position (`PageBuild.at`): the oldest goes, so a million pages hold no million
NAV = 15  # topics and actors linked from every page (the most used); directory.html has all
CHANGES = 1000  # rows per page of the changes
WINDOW = 2  # pages the pager links on either side of the current one
_HIDDEN = {"title", "summary", "sources", "topics", "actors", "occurred"}
KIND_LABELS = {"visit": "Visit", "pledge": "Pledge", "statement": "Statement", "agreement": "Agreement"}


@dataclass(frozen=True)
class PageSet:
    """One set of pages: the story, or the developments of one topic, actor or kind."""

    name: str  # 'story', 'topic/<slug>', 'actor/<slug>' (as the feeds name them), 'kind/<kind>'
    base: str  # 'index', then the feed's own (safe) path, or 'kind/<kind>'
    title: str
    filter: Filter
    feed: str | None  # the feed path without extension ('story', 'topic/<slug>'), when there is one
    count: int

    def page_path(self, number: int, pages: int) -> str:
        if number >= pages:
            return f"{self.base}.html"
        return f"pages/{self.base}/{number}.html"


@dataclass
class Site:
    """What every page shows besides its own developments."""

    title: str
    base_url: str
    position: int
    head: dict[str, Any] | None
    topics: list[dict[str, Any]]
    actors: list[dict[str, Any]]
    kinds: dict[str, int]
    feeds: dict[str, str] = field(default_factory=dict)  # feed name -> path without extension
    embed: bool = False
    as_of: str | None = None
    # The most used topics and actors per (facet, limit), chosen once: see `_links`.
    most_used: dict[tuple[str, int], list[dict[str, Any]]] = field(default_factory=dict, repr=False, compare=False)
    # A build's development parts, each rendered once for every page (`feeds.fragments`).
    parts: fragments.Fragments | None = field(default=None, repr=False, compare=False)


_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Environment(jinja2.Environment):
    """Jinja2's, with `d.key` on a plain dict looked up as a key first. Jinja2 tries the
    attribute first and the key after the AttributeError: the templates read dicts
    (documents, items, links) about a hundred times per development, a tenth of a page's
    time. The same value either way: a plain dict has no attribute of its own but
    `dict`'s (`kind_labels.get` stays the method)."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


@cache
def _environment() -> jinja2.Environment:
    env = _Environment(
        loader=jinja2.PackageLoader("feeds", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # the templates are the installed package's: no stat per include
    )
    env.filters["value"] = show_value
    env.globals["development"] = _development
    env.filters["total"] = lambda t: Total.from_primitive(t).humane()
    return env


@jinja2.pass_context
def _development(context: Any, it: dict[str, Any]) -> Markup:
    """`{% include "development.html" %}` inside the loop over a page's developments, as one
    string: an include hands each of its ~90 pieces up through every enclosing template's
    generator (story, its block, base), a third of a page's time."""
    template = context.environment.get_template("development.html")
    names = {**context.get_all(), "it": it}
    kept = names["site"].parts  # the build's (`feeds.fragments`): each part rendered once
    return kept.part(template, names) if kept is not None else Markup(fragments.render(template, names))


@cache
def _templates_digest() -> str:
    """The templates and assets themselves: a changed template writes every page again."""
    h = hashlib.sha256()
    for folder in ("templates", "static"):
        for item in sorted(files("feeds").joinpath(folder).iterdir(), key=lambda x: x.name):
            h.update(item.name.encode() + b"\0" + item.read_bytes())
    return h.hexdigest()


@cache
def asset(name: str) -> str:
    return files("feeds").joinpath("static", name).read_text(encoding="utf-8")


def assets() -> list[tuple[str, bytes]]:
    """The stylesheet and script every (not embedded) page links."""
    return [("page.css", asset("page.css").encode()), ("page.js", asset("page.js").encode())]


def page_sources() -> str:
    """CSP sources that let a page use its stylesheet and script and nothing else: the
    files beside it, or the same text inline (embed.html), allowed by its SHA-256."""

    def sha(name: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(asset(name).encode()).digest()).decode() + "'"

    return f"style-src 'self' {sha('page.css')}; script-src 'self' {sha('page.js')}"


def site_of(reader: Any, title: str, base_url: str, feeds: dict[str, str] | None = None, **kw: Any) -> Site:
    return Site(
        title=title,
        base_url=base_url,
        position=reader.position,
        head=reader.head(),
        topics=reader.topics(),
        actors=reader.actors(),
        kinds=queries.kind_counts(reader.sql),
        feeds=feeds or {},
        **kw,
    )


def page_sets(site: Site) -> list[PageSet]:
    total = sum(site.kinds.values())
    sets = [PageSet("story", "index", site.title, queries.EVERYTHING, site.feeds.get("story"), total)]
    for t in site.topics:
        name = f"topic/{t['slug']}"
        sets.append(PageSet(name, _set_base(name, site), f"{t['name']} (topic)", Filter(topic=t["slug"]),
                            site.feeds.get(name), t["developments"]))  # fmt: skip
    for a in site.actors:
        name = f"actor/{a['slug']}"
        sets.append(PageSet(name, _set_base(name, site), f"{a['name']} (actor)", Filter(actor=a["name"]),
                            site.feeds.get(name), a["developments"]))  # fmt: skip
    for kind, n in site.kinds.items():
        sets.append(
            PageSet(f"kind/{kind}", f"kind/{kind}", f"{KIND_LABELS.get(kind, kind)}s", Filter(kind=kind), None, n)
        )
    return sets


def _set_base(name: str, site: Site) -> str:
    # The feed's own (safe) path when there is a feed, so a page sits beside its feeds.
    return site.feeds.get(name) or name


@dataclass(frozen=True)
class Place:
    """Which page of its set a page is: `number` of `pages` (the newest is the last)."""

    number: int
    pages: int


def pages_for(count: int) -> int:
    return max(1, -(-count // PAGE))


class PageBuild:
    """One build's pages: the page signatures (`feeds.signatures`: the previous build's,
    then this one's), the pages this build has (rendered now or kept from before), and each
    page's checkpoint.

    A page's inputs (its developments' versions, its place among the pages, what it links)
    are hashed into its signature; a page whose signature and file are those of the
    previous build is not rendered again. The checkpoint in its footer is the log's head
    at the latest change to the developments it shows (for a set's newest page, which
    shows the set's count and ledger: to any of the set's developments), a function of
    those inputs, so an incremental build writes the bytes a fresh build writes."""

    def __init__(self, reader: Any, site: Site, signatures: Signatures, have: Callable[[str], bool]) -> None:
        site = replace(site, parts=fragments.Fragments())  # closed by the caller, after the pages
        self.reader, self.site, self.signatures, self.have = reader, site, signatures, have
        self._sites: dict[int, Site] = {}
        self.registry = reader.registry()  # read once: it resolves every actor set's filter

    def at(self, position: int) -> Site:
        """The site as a page whose latest development change is at `position` shows it."""
        found = self._sites.get(position)
        if found is None:
            head = self.reader.head(position) if position else None
            found = self._sites[position] = replace(self.site, position=position, head=head)
            if len(self._sites) > _SITES:  # every development's own page has a position of its own
                del self._sites[next(iter(self._sites))]
        return found

    def page(
        self, path: str, inputs: list[Any], position: int, render: Callable[[Site], bytes]
    ) -> Iterator[tuple[str, bytes]]:
        """The page at `path`, unless its inputs and file are the previous build's."""
        sig = hashlib.sha256(json.dumps([*inputs, position], sort_keys=True, default=str).encode()).hexdigest()[:32]
        if self.signatures.same(path, sig) and self.have(path):
            return
        self.signatures.set(path, sig)
        yield path, render(self.at(position))

    def keep_set(self, ps: PageSet) -> None:
        """A set not looked at this build: its pages stay as they are."""
        pages = pages_for(ps.count)
        self.keep(ps.page_path(n, pages) for n in range(1, pages + 1))

    def keep(self, paths: Iterable[str]) -> None:
        """Pages this build has, rendered or not."""
        self.signatures.keep(paths)

    def gone(self) -> list[str]:
        """Pages the previous build wrote that this one has not (a set that lost its last
        development, such as an actor merged into another; a set with fewer pages)."""
        return self.signatures.gone()


def site_outputs(
    reader: Any,
    settings: Any,
    feeds: dict[str, str],
    todo: list[str],
    folder: PreviousBuild,
) -> Iterator[tuple[str, bytes | Iterator[bytes] | None]]:
    """The pages a feeds build writes, as (path, bytes), and (path, None) for a page to
    remove: after any change the story, kind, changes, directory and ledger pages, every
    development's own page (`d/<id>.html`) whose development or place in the story changed,
    and the pages of the topics and actors whose feeds changed (or whose page is missing);
    the stylesheet and script every time (unchanged bytes are not written again). A page
    whose inputs are those of the previous build is not even rendered (see `PageBuild`)."""
    site = site_of(reader, settings.title, settings.base_url, feeds)
    have = folder.have
    yield from assets()
    signatures = Signatures(folder.signatures, folder.temporary)
    try:
        yield from _site_pages(reader, site, todo, have, signatures)
        signatures.save()  # after the pages it describes, before the manifest
    finally:
        signatures.close()
    if folder.signatures and have(FORMER):
        yield FORMER, None


def _site_pages(
    reader: Any, site: Site, todo: list[str], have: Callable[[str], bool], signatures: Signatures
) -> Iterator[tuple[str, bytes | Iterator[bytes] | None]]:
    build = PageBuild(reader, site, signatures, have)
    try:
        yield from _set_pages(build, todo)
    finally:
        parts = build.site.parts
        assert parts is not None
        parts.close()


def _set_pages(build: PageBuild, todo: list[str]) -> Iterator[tuple[str, bytes | Iterator[bytes] | None]]:
    reader, site, have = build.reader, build.site, build.have
    changed = bool(todo) or not have("index.html") or not have("changes.html")
    stale = set(todo)
    cached: list[StoryLedger | None] = []
    shown: list[Shown | None] = []

    def story_ledger() -> StoryLedger | None:
        if not cached:  # once per build: the story's, for its page, the pledges' and ledger.html
            cached.append(StoryLedger.of(reader, reader.iter_timeline(Filter(kind="pledge"))))
        return cached[0]

    def story_shown() -> Shown | None:
        if not shown:
            whole = story_ledger()
            shown.append(whole.shown() if whole else None)
        return shown[0]

    newest = 0  # the latest change to any development
    for ps in page_sets(site):
        own = ps.name.startswith(("topic/", "actor/"))
        if (changed and not own) or ps.name in stale or not have(f"{ps.base}.html"):
            # The story's ledger, once; a topic's or actor's own (None: computed); no other kind has one.
            given = story_shown() if ps.name in ("story", "kind/pledge") else (None if own else _NOT_GIVEN)
            story = ps.name == "story"
            rendered = SetPages(build, ps, given, permalinks=story)
            yield from rendered
            if story:
                newest = rendered.newest
        else:
            build.keep_set(ps)
    if changed:
        yield from render_changes(build)
        build.keep(("directory.html", "ledger.html"))
        yield "directory.html", render_directory(build.at(newest))
        yield "ledger.html", ledger_chunks(build.at(newest), story_ledger())
        for path in build.gone():
            yield path, None


def embedded_page(
    reader: Any, title: str, base_url: str, as_of: str | None = None, only: Filter = queries.EVERYTHING
) -> bytes:
    """The whole story as one self-contained file: stylesheet and script inline, every
    development on it (no pages), feed links absolute under `base_url`."""
    feeds = {"story": "story"}
    site = site_of(reader, title, base_url.rstrip("/"), feeds, embed=True, as_of=as_of)
    docs = list(reader.iter_timeline(only))
    ps = PageSet("story", "index", title, only, "story", len(docs))
    pledges = [d for d in docs if d["kind"] == "pledge"]
    return render_page(site, ps, docs, Place(1, 1), Shown.of(queries.pledge_ledger(pledges)) if pledges else None)


class SetPages:
    """The pages of one set, oldest first, as (path, bytes): only those whose inputs changed
    since the previous build (see `PageBuild`). `given` is what its newest page shows of
    the set's ledger (`Shown`) when the caller has it already. With `permalinks` (the
    story), each development's own page too, which links to the story page it is on. After iterating, `newest` is the latest change to
    any of the set's developments."""

    def __init__(self, build: PageBuild, ps: PageSet, given: Any = None, permalinks: bool = False) -> None:
        self.build, self.ps, self.given, self.permalinks = build, ps, given, permalinks
        self.newest = 0

    def __iter__(self) -> Iterator[tuple[str, bytes]]:
        build, ps, given = self.build, self.ps, self.given
        pages = pages_for(ps.count)
        common = _common_signature(build.site, ps, pages)

        def page(number: int, docs: list[dict[str, Any]], shown: Shown | None) -> Iterator[tuple[str, bytes]]:
            place = Place(number, pages)
            versions = [(d["id"], d["last_position"]) for d in docs]
            last = number == pages
            position = self.newest if last else max((d["last_position"] for d in docs), default=0)
            inputs = [common, number, versions, shown.key if shown else None, ps.count if last else None]
            yield from build.page(ps.page_path(number, pages), inputs, position,
                                  lambda site: render_page(site, ps, docs, place, shown))  # fmt: skip

        shown: Shown | None = None if given is _NOT_GIVEN else given
        own_ledger = given is None and (
            ps.filter.topic or ps.filter.actor or ps.filter.kind == "pledge" or ps.base == "index"
        )
        # The set's ledger is that of its pledges: taken from its own developments as they
        # pass (the same, in the same order) unless its filter holds other than those.
        pledges: Ledger | None = None
        pledge_count = 0
        if own_ledger:
            f = ps.filter
            if f.start or f.end or f.kind not in (None, "pledge"):
                pledges_only = Filter(topic=f.topic, actor=f.actor, kind="pledge")
                whole = ledger_of(build.reader.iter_timeline(pledges_only, build.registry))
                shown = Shown.of(whole) if whole else None
            else:
                pledges = Ledger()
        chunk: list[dict[str, Any]] = []
        number = 0
        for doc in build.reader.iter_timeline(ps.filter, build.registry):
            self.newest = max(self.newest, int(doc["last_position"]))
            if pledges is not None and doc["kind"] == "pledge":
                pledges.add(ledger_pledge(doc))
                pledge_count += 1
            if self.permalinks:
                yield from permalink_page(build, doc, ps.page_path(min(number + 1, pages), pages))
            chunk.append(doc)
            if len(chunk) == PAGE and number + 1 < pages:
                number += 1
                yield from page(number, chunk, None)
                chunk = []
        if pledges is not None:
            shown = Shown.of(pledges.result()) if pledge_count else None
        yield from page(pages, chunk, shown)


def ledger_of(docs: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """The ledger of the pledges among these documents (None when there are none), each
    read as it passes."""
    seen = 0

    def pledges() -> Iterator[LedgerPledge]:
        nonlocal seen
        for d in docs:
            if d["kind"] == "pledge":
                seen += 1
                yield ledger_pledge(d)

    ledger = pledge_ledger(pledges())
    return ledger if seen else None


def permalink_page(build: PageBuild, doc: dict[str, Any], place: str) -> Iterator[tuple[str, bytes]]:
    """`d/<id>.html`: one development at a link that never moves (the feeds' entries link
    here), with a link to the story page it is on now. Rendered again only when the
    development changed or moved to another story page."""
    path = permalink_path(doc["id"])
    site = build.site
    inputs = [_templates_digest(), site.title, site.base_url, site.feeds.get("story"), doc["id"], place]

    def render(at: Site) -> bytes:
        root = "../" * path.count("/")
        it = _item(doc)
        it["bar"] = _bar(it, _axis([it]))
        story_feed = site.feeds.get("story")
        feed_links = (
            [(f"{root}{story_feed}.atom", "application/atom+xml", f"{site.title} (Atom)"),
             (f"{root}{story_feed}.rss", "application/rss+xml", f"{site.title} (RSS)")]
            if story_feed else []
        )  # fmt: skip
        context = {"site": at, "root": root, "it": it, "place": place, "feed_links": feed_links,
                   "kind_labels": KIND_LABELS, "permalink": False, "css": None, "js": None}  # fmt: skip
        return _environment().get_template("development_page.html").render(context).encode("utf-8")

    yield from build.page(path, inputs, int(doc["last_position"]), render)


def _common_signature(site: Site, ps: PageSet, pages: int) -> str:
    """What every page of a set shows besides its own developments (not the checkpoint)."""
    facets = [(n, h) for n, h, _ in _links(site, "topic", "", NAV) + _links(site, "actor", "", NAV)]
    data = [_templates_digest(), site.title, site.base_url, site.embed, site.as_of, ps.title, ps.base, ps.feed,
            site.feeds.get("story"), pages, facets, sorted(site.kinds),
            len(site.topics) > NAV or len(site.actors) > NAV]  # fmt: skip
    return hashlib.sha256(json.dumps(data, default=str).encode()).hexdigest()


def render_page(site: Site, ps: PageSet, docs: list[dict[str, Any]], place: Place, ledger: Shown | None) -> bytes:
    number, pages = place.number, place.pages
    path = ps.page_path(number, pages)
    # Links between pages are relative, so the folder works from disk, `serve` or any
    # server; an embedded page (one file, put anywhere) links the published site instead.
    root = site.base_url + "/" if site.embed else "../" * path.count("/")
    items = [_item(d) for d in docs]
    shown, omitted = (ledger.ledger, ledger.omitted) if ledger and number == pages else (None, 0)
    axis = _axis(items)
    for it in items:
        it["bar"] = _bar(it, axis)
    feed_links = []
    if ps.feed:
        feed_links = [(f"{root}{ps.feed}.atom", "application/atom+xml", f"{ps.title} (Atom)"),
                      (f"{root}{ps.feed}.rss", "application/rss+xml", f"{ps.title} (RSS)")]  # fmt: skip
    story_feed = site.feeds.get("story")
    if story_feed and ps.feed != story_feed:
        feed_links += [(f"{root}{story_feed}.atom", "application/atom+xml", f"{site.title} (Atom)"),
                       (f"{root}{story_feed}.rss", "application/rss+xml", f"{site.title} (RSS)")]  # fmt: skip
    context = {
        "site": site,
        "set": ps,
        "root": root,
        "items": items,
        "axis": axis,
        "number": number,
        "pages": pages,
        "nav": pager(number, pages, lambda n: root + ps.page_path(n, pages)),
        "feed_links": feed_links,
        "ledger_svg": [ledger_svg(shown)] if shown else None,  # in pieces on ledger.html: see ledger_chunks
        "ledger": shown,
        "ledger_omitted": omitted,
        "chart_rows": CHART,
        "kind_labels": KIND_LABELS,
        "kinds": list(KINDS),
        "permalink": True,
        "topic_links": _links(site, "topic", root, NAV),
        "actor_links": _links(site, "actor", root, NAV),
        "more_facets": len(site.topics) > NAV or len(site.actors) > NAV,
        "kind_links": [(KIND_LABELS.get(k, k), f"{root}kind/{k}.html", n) for k, n in site.kinds.items()],
        "jsonld": _json_ld(site, ps, items, root),
        "css": asset("page.css") if site.embed else None,
        "js": asset("page.js") if site.embed else None,
    }
    html = _environment().get_template("story.html").render(context)
    return html.encode("utf-8")


def pager(number: int, pages: int, href: Callable[[int], str]) -> list[dict[str, Any]]:
    """The links between a set's pages, as large sites show them: previous, the first page,
    the `WINDOW` pages either side of the current one, the last page, next, and a gap (…)
    where pages are left out (a single page left out is shown instead). At most
    2 * WINDOW + 7 items however many pages the set has, so a page does not grow with its
    set, and every page is still reached by following next (or previous) from any page.
    Empty for a set of one page."""
    if pages <= 1:
        return []
    numbers = {1, pages, *range(max(1, number - WINDOW), min(pages, number + WINDOW) + 1)}
    numbers |= {n + 1 for n in numbers if n + 2 in numbers}
    items: list[dict[str, Any]] = []
    if number > 1:
        items.append({"rel": "prev", "label": "Previous", "href": href(number - 1)})
    last = 0
    for n in sorted(numbers):
        if n > last + 1:
            items.append({"gap": True})
        items.append({"number": n, "href": href(n), "current": n == number})
        last = n
    if number < pages:
        items.append({"rel": "next", "label": "Next", "href": href(number + 1)})
    return items


def _links(site: Site, facet: str, root: str, limit: int | None) -> list[tuple[str, str, int]]:
    rows = site.topics if facet == "topic" else site.actors
    if limit is not None:
        # Every page links the same most used ones: chosen once per site, not per page
        # (sorting every actor for each of thousands of pages was a fifth of a build).
        if (facet, limit) not in site.most_used:
            top = sorted(rows, key=lambda r: (-r["developments"], r["slug"]))[:limit]
            site.most_used[facet, limit] = sorted(top, key=lambda r: r["slug"])
        rows = site.most_used[facet, limit]
    return [(r["name"], f"{root}{_set_base(f'{facet}/' + r['slug'], site)}.html", r["developments"]) for r in rows]


def render_directory(site: Site) -> bytes:
    """Every topic and actor with a link to its pages."""
    context = {"site": site, "root": "", "feed_links": [], "css": None, "js": None,
               "topic_links": _links(site, "topic", "", None), "actor_links": _links(site, "actor", "", None)}  # fmt: skip
    return _environment().get_template("directory.html").render(context).encode("utf-8")


def ledger_chunks(site: Site, ledger: StoryLedger | None) -> Iterator[bytes]:
    """The whole story's ledger (every row of the chart and of the tables) in chunks of
    about `_CHUNK` bytes, rendered as they are asked for, its rows read from the views as
    they are rendered (`StoryLedger.page`): at a million events the page is some 100 MB."""
    context = {"site": site, "root": "", "feed_links": [], "css": None, "js": None, "ledger_omitted": 0,
               **(ledger.page() if ledger else {"ledger": None, "ledger_svg": None})}  # fmt: skip
    pending: list[str] = []
    size = 0
    for text in _environment().get_template("ledger.html").generate(context):
        if len(text) >= _CHUNK:  # the chart, one string: not copied whole into a join and its encoding
            if pending:
                yield "".join(pending).encode("utf-8")
                pending, size = [], 0
            for at in range(0, len(text), _CHUNK):
                yield text[at : at + _CHUNK].encode("utf-8")
            continue
        pending.append(text)
        size += len(text)
        if size >= _CHUNK:
            yield "".join(pending).encode("utf-8")
            pending, size = [], 0
    if pending:
        yield "".join(pending).encode("utf-8")


_CHUNK = 1 << 16


def render_changes(build: PageBuild) -> Iterator[tuple[str, bytes]]:
    """The page history: every addition, correction (field by field) and retraction, newest
    first, each with its log position and recorded time; `page.js` narrows it to the span
    between two positions or dates. Each page's checkpoint is at its newest row. The rows
    wait on disk (`feeds.spool`), not in memory, until they are read back newest first."""
    site = build.site
    story = page_sets(site)[0]
    pages_of_story = pages_for(story.count)
    with ByPosition(build.reader.position) as rows:
        for i, doc in enumerate(build.reader.iter_timeline()):
            anchor = f"{story.page_path(i // PAGE + 1, pages_of_story)}#d-{doc['id']}"  # the page it is on
            shown_doc = {"title": doc["title"]}  # all a row shows of its development
            rows.add(int(doc["first_position"]), {"position": doc["first_position"], "recorded": doc["recorded"],
                     "what": "added", "doc": shown_doc, "anchor": anchor, "changes": [], "reason": None})  # fmt: skip
            for c in doc["corrections"]:
                changes = [{"field": k, "before": show_value(v.get("before"), k), "after": show_value(v.get("after"), k)}
                           for k, v in sorted(c["changes"].items())]  # fmt: skip
                rows.add(int(c["position"]), {"position": c["position"], "recorded": c["recorded"], "what": "corrected",
                         "doc": shown_doc, "anchor": anchor, "changes": changes, "reason": c["reason"]})  # fmt: skip
            if doc["retracted"]:
                r = doc["retracted"]
                rows.add(int(r["position"]), {"position": r["position"], "recorded": r["recorded"], "what": "retracted",
                         "doc": shown_doc, "anchor": anchor, "changes": [], "reason": r["reason"]})  # fmt: skip
        pages = max(1, -(-rows.count // CHANGES))
        paths = ["changes.html"] + [f"pages/changes/{n}.html" for n in range(2, pages + 1)]
        newest = rows.newest_first()
        for n, path in enumerate(paths, start=1):
            root = "../" * path.count("/")

            def href(k: int, up: str = root) -> str:
                return up + paths[k - 1]

            nav = pager(n, pages, href)
            shown = list(islice(newest, CHANGES))
            context = {"root": root, "rows": shown, "nav": nav,
                       "number": n, "pages": pages, "css": None, "js": None, "feed_links": []}  # fmt: skip
            build.keep([path])
            at = build.at(max((int(r["position"]) for r in shown), default=0))
            yield path, _environment().get_template("changes.html").render({**context, "site": at}).encode("utf-8")


# --- one development as the templates see it --------------------------------------------


def _item(doc: dict[str, Any]) -> dict[str, Any]:
    when = OccurredDate.from_canonical(doc["occurred"])
    corrected: dict[str, list[dict[str, Any]]] = {}
    for c in doc["corrections"]:
        for name, change in c["changes"].items():
            corrected.setdefault(name, []).append(
                {"before": change.get("before"), "recorded": c["recorded"], "reason": c["reason"]}
            )
    fields = [
        {"name": k, "label": k.replace("_", " "), "value": v, "corrected": corrected.get(k, [])}
        for k, v in doc["fields"].items()
        if k not in _HIDDEN
    ]
    return {
        "doc": doc,
        "id": doc["id"],
        "kind": doc["kind"],
        "title": doc["title"],
        "summary": doc["fields"].get("summary"),
        "sources": doc["fields"].get("sources", []),
        "when": when,
        "when_text": when.humane(),
        "start": when.first_day,
        "end": when.last_day,
        "open": when.open,
        "fields": fields,
        "title_corrections": corrected.get("title", []),
        "occurred_corrections": corrected.get("occurred", []),
        "summary_corrections": corrected.get("summary", []),
    }


@dataclass(frozen=True)
class Axis:
    start: date
    end: date

    @property
    def days(self) -> int:
        return max(1, (self.end - self.start).days + 1)


def _axis(items: list[dict[str, Any]]) -> Axis | None:
    if not items:
        return None
    start = min(it["start"] for it in items)
    end = max(it["end"] for it in items)
    return Axis(date(start.year, 1, 1), date(end.year, 12, 31))


def _bar(it: dict[str, Any], axis: Axis | None) -> dict[str, Any] | None:
    """Where the development's period sits on the page's axis, in percent: a day a thin
    mark, a month its month, a year its year; an open interval runs to the axis' end (or
    from its start) and fades towards the open side."""
    if axis is None:
        return None
    start, end = it["start"], it["end"]
    if it["open"] == "after":
        end = axis.end
    elif it["open"] == "before":
        start = axis.start
    x = 100 * (start - axis.start).days / axis.days
    width = 100 * ((end - start).days + 1) / axis.days
    fill = {"after": "url(#fade-after)", "before": "url(#fade-before)"}.get(it["open"] or "", "currentColor")
    return {"x": f"{x:.3f}%", "width": f"{max(width, 0.4):.3f}%", "fill": fill}


def show_value(value: Any, name: str = "") -> str:
    """A stored field value as a reader of the page reads it (text only: the templates
    escape it): the domain's `value_text`, unquoted (the markup sets it apart), a source
    with its publisher."""
    return value_text(name, value, quoted=False, publisher=True)


def _json_ld(site: Site, ps: PageSet, items: Iterable[dict[str, Any]], root: str) -> str:
    """schema.org: the page, its developments as creative works with their sources as
    citations, corrections as `correction` (CorrectionComment) and retraction as status."""
    here = site.base_url + "/" + ("index.html" if ps.base == "index" else ps.base + ".html")
    works = []
    for it in items:
        d = it["doc"]
        work: dict[str, Any] = {
            "@type": "CreativeWork",
            "@id": f"{here}#d-{d['id']}",
            "identifier": d["id"],
            "headline": d["title"],
            "genre": d["kind"],
            "temporalCoverage": d["occurred"],
            "dateCreated": d["recorded"],
            "dateModified": d["updated"],
            "citation": [s["url"] for s in it["sources"]],
        }
        if it["summary"]:
            work["abstract"] = it["summary"]
        if d["corrections"]:
            work["correction"] = [
                {
                    "@type": "CorrectionComment",
                    "datePublished": c["recorded"],
                    "text": "; ".join(
                        f"{k}: {show_value(v.get('before'), k)} -> {show_value(v.get('after'), k)}"
                        for k, v in sorted(c["changes"].items())
                    )
                    + f" (reason: {c['reason']})",
                }
                for c in d["corrections"]
            ]
        if d["retracted"]:
            work["creativeWorkStatus"] = "Retracted"
        works.append(work)
    data = {
        "@context": "https://schema.org",
        "@type": "CollectionPage",
        "name": ps.title,
        "url": here,
        "hasPart": works,
    }
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    # Inside <script>: no '<' may end it early; JSON reads the escapes back as the same text.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")

"""Atom 1.0 and RSS 2.0 feeds of the timeline: the story, every topic and every actor.

Feeds depend on the read models (`timeline.reading.Reader`) and the domain, never the other
way round; feedgen and waitress are imported only by the modules that need them.

Layout (the same paths on disk under `feeds build --out DIR` and over HTTP under `serve`):

    index.html, index.json            every feed, with the log head
    checkpoint                        the log's checkpoint (C2SP tlog-checkpoint), text
    story.atom, story.rss             the whole story
    topic/<slug>.atom, .rss           one topic
    actor/<slug>.atom, .rss           one actor
    archive/<feed>/<n>.atom, .rss     RFC 5005 archive pages, n = 1 (oldest), 2, ...
    d/<id>.html                       one development's own page, at a link that never moves
    .timeline-feeds.json              the build manifest (what was built from which log position)

Settings (`timeline feeds config set KEY VALUE` stores them per database; command options
override them; see `feeds.settings.DEFAULTS`):

    title        "News timeline"            feed titles ("<title>: <topic or actor>")
    authority    "news-timeline.example"    tag URI authority (RFC 4151): a domain or an email
    base-url     "http://127.0.0.1:8080"    absolute URLs (self links, index); `serve` defaults
                                            to http://HOST:PORT
    author       "News timeline editors"    the atom:author of every feed and entry
    page-size    50                         entries in a subscription document and archive page

Links: an entry's `alternate` link (RSS: the item's `link`) is its development's own
page, `<base-url>/d/<id>.html`, which holds it under `id="d-<id>"` and links to its place
in the story's pages (numbered oldest first, so that place moves); each source is a
`related` link (in RSS, a link in the item's content).

Identity: an entry's id is `tag:<authority>,<year>:development/<uuid>`, where year is the
year the development was first recorded (from `recorded`, so it never changes); a feed's id
is `tag:<authority>,<year>:feed/<name>` with the year of the log's first development.
Neither depends on titles or URLs.

Order and dates: entries are newest first by `updated` (latest correction, retraction or
added source), ties broken by recording order, so a corrected or retracted development
comes back to the top where subscribers see it. `published` is when the development was
first recorded; a feed's `updated` is its newest entry's.

Extensions (declared on the root element):

    at:deleted-entry   RFC 6721 tombstone (Atom only) for each retracted entry in the
                       document; the entry itself stays, with a visible retraction notice.
    fh:archive         RFC 5005 marker on archive pages, with prev-archive/current links.

Checkpoint: every feed links to the log's current checkpoint (the file `checkpoint` in the
folder, a C2SP tlog-checkpoint, signed when a key is configured) with
`<link rel="https://c2sp.org/tlog-checkpoint" type="text/plain" href=".../checkpoint"/>`
(in RSS as an `atom:link`): an extension relation is an absolute URI (RFC 4287 section
4.2.7.2), which feed validators accept without a warning, unlike an unknown namespace.
A subscriber who keeps checkpoints checks with `timeline check` or `timeline witness`
that history was only appended to.
"""

CHECKPOINT_REL = "https://c2sp.org/tlog-checkpoint"
CHECKPOINT_TYPE = "text/plain"
CHECKPOINT_FILE = "checkpoint"
TOMBSTONES_NS = "http://purl.org/atompub/tombstones/1.0"
HISTORY_NS = "http://purl.org/syndication/history/1.0"
ATOM_NS = "http://www.w3.org/2005/Atom"
FORMAT = 4  # bump when the bytes a build writes change for the same log and settings

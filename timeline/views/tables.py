"""The read models' tables: portable SQL for SQLite and PostgreSQL alike.

developments  one row per development as it stands now (`doc` is its JSON document), keyed
              by its first position; ordered by (sort_key, first_position):
              precision-aware occurred order, then recorded order.
memberships   which developments (by first position) belong to which topic or actor (the
              `member` id of its row in `names`), ordered the same way, so one topic's
              latest N developments are read from an index.
names         topics and actors: a small id for each (facet, slug), and its display name.
feeds         the log position at which each feed's content last changed, so a feed
              build rewrites only what changed.
views_schema  the schema version the views were made with (one row).

The log's hash structure is not a view: it is the Merkle tree kept beside the log
(`timeline.proof.tree`). A database from before it may still hold the old chain,
`timeline_chain`, which the tree's migration checked once (`timeline.proof.migrate`).
"""

# The views' schema: a database whose views were made with another is rebuilt by the first
# command that needs them (`Views.catch_up`). Raise it with every change of a view's table,
# index or document. Views made before the version was kept count as 1.
# 2: developments keyed by first position, memberships without ids, documents without the
# copies of their fields, a contentless search index on SQLite (`indexed_text` is part of
# the schema: a change to it must raise the version too).
# 3: mentions by first position, not development id; documents without the values a
# never-changed development implies (`project.stored`).
# 7 (4 to 6 were its steps while it was made, on main between 08d22c6 and 23ee169, so a
# number none of them used): memberships name a topic or actor by its id in `names` (a small integer, not its
# facet and slug: both of the memberships' B-trees were two thirds text), keyed by first
# position, then member; documents without their id, kind and first position (their row's
# columns) nor a version of 1.
SCHEMA_VERSION = 7
VERSION_TABLE = "timeline_views_schema"

TABLES = ("timeline_developments", "timeline_memberships", "timeline_names", "timeline_feeds", VERSION_TABLE)


def create_statements(*, postgres: bool) -> list[str]:
    """The tables and indexes, for one back end: SQLite's key-only tables are WITHOUT
    ROWID (one B-tree instead of a table and its key's index) and a development's rowid is
    its first position; PostgreSQL's are plain tables with their keys."""
    key = "BIGINT PRIMARY KEY" if postgres else "INTEGER PRIMARY KEY"
    lean = "" if postgres else " WITHOUT ROWID"
    return [
        # Keyed by first position (recording order): a rebuild appends to the table, and
        # memberships and the search index name a development by it (8 bytes, not 36).
        "CREATE TABLE IF NOT EXISTS timeline_developments ("
        f" first_position {key}, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, sort_key TEXT NOT NULL,"
        " last_position BIGINT NOT NULL,"
        " start_day TEXT NOT NULL, end_day TEXT NOT NULL, retracted INTEGER NOT NULL, doc TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS timeline_developments_order ON timeline_developments (sort_key, first_position)",
        "CREATE INDEX IF NOT EXISTS timeline_developments_kind ON timeline_developments (kind, sort_key, first_position)",
        # Feeds read the newest entries (by the event that last changed them) from this one,
        # the oldest not yet archived (by recording order) from the key.
        "CREATE INDEX IF NOT EXISTS timeline_developments_last ON timeline_developments (last_position)",
        # Keyed by recording order, then topic or actor: a rebuild appends to it. Keyed by
        # topic or actor first, each transaction of a rebuild wrote a page in every feed's
        # range, which was nearly every page of the table, every time (the WAL and its
        # checkpoint wrote it twice). One feed's members are read from the order index.
        "CREATE TABLE IF NOT EXISTS timeline_memberships ("
        " first_position BIGINT NOT NULL, member BIGINT NOT NULL, sort_key TEXT NOT NULL,"
        f" PRIMARY KEY (first_position, member)){lean}",
        "CREATE INDEX IF NOT EXISTS timeline_memberships_order"
        " ON timeline_memberships (member, sort_key, first_position)",
        # Ids in the order the log first names each topic or actor (ties by facet and slug),
        # given by the writer, not by a sequence: the same in a rebuild as when caught up.
        "CREATE TABLE IF NOT EXISTS timeline_names ("
        f" id {key}, facet TEXT NOT NULL, slug TEXT NOT NULL, name TEXT NOT NULL, UNIQUE (facet, slug))",
        f"CREATE TABLE IF NOT EXISTS timeline_feeds (feed TEXT PRIMARY KEY, last_position BIGINT NOT NULL){lean}",
        f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version INTEGER NOT NULL)",
    ]


CREATE = create_statements(postgres=False)

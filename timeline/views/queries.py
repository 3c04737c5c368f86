"""Questions asked of the read models. Each returns plain, JSON-ready values.

The same functions answer for the live views and for a replay's scratch views, so `show`
and `replay --as-of` give the same shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from events.ledger import LedgerPledge
from events.ledger import pledge_ledger as ledger_of
from timeline.store import Sql, in_parts
from timeline.views.project import read_row
from timeline.views.registry import Registry, actor_slug


@dataclass(frozen=True)
class Filter:
    topic: str | None = None
    actor: str | None = None
    kind: str | None = None
    start: date | None = None  # occurred on or after (precision-aware overlap)
    end: date | None = None


EVERYTHING = Filter()
# The id of one topic or actor in `timeline_names` (memberships name it by its id).
MEMBER = "(SELECT n.id FROM timeline_names n WHERE n.facet = ? AND n.slug = ?)"


def document(sql: Sql, dev_id: str) -> dict[str, Any] | None:
    with sql.transaction(commit=False) as c:
        rows = sql.rows(c, "SELECT doc, id, kind, first_position FROM timeline_developments WHERE id = ?", [dev_id])
    return read_row(rows[0]) if rows else None


def parts_of(sql: Sql, package_id: str) -> list[dict[str, Any]]:
    """The pledges whose `part_of` names `package_id`, in timeline order. Read from the
    pledges whose document mentions the id at all (a text match over the pledges, which
    has no index; for `show` of one pledge, not for feeds)."""
    with sql.transaction(commit=False) as c:
        rows = sql.rows(
            c,
            "SELECT doc, id, kind, first_position FROM timeline_developments WHERE kind = 'pledge' AND id <> ? AND doc LIKE ?"
            " ORDER BY sort_key, first_position",
            [package_id, f"%{package_id}%"],
        )
    docs = (read_row(r) for r in rows)
    return [d for d in docs if d["fields"].get("part_of") == package_id]


def timeline(sql: Sql, f: Filter = EVERYTHING) -> list[dict[str, Any]]:
    """Developments in timeline order: occurred (precision-aware), then recorded order."""
    return list(iter_timeline(sql, f))


def iter_timeline(
    sql: Sql, f: Filter = EVERYTHING, page: int = 500, registry: Registry | None = None
) -> Iterator[dict[str, Any]]:
    """The same, read in pages, so a million developments never sit in memory at once.
    `registry`: the actor registry, when the caller read it already (else read here)."""
    params: list[Any] = []
    if f.topic or f.actor:
        facet, slug = ("topic", f.topic) if f.topic else ("actor", actor_slug(sql, f.actor or "", registry))
        statement = (
            "SELECT d.doc, d.id, d.kind, d.first_position FROM timeline_memberships m JOIN timeline_developments d ON d.first_position = m.first_position"
            f" WHERE m.member = {MEMBER}"
        )
        params += [facet, slug]
        order = "m.sort_key, m.first_position"
        if f.topic and f.actor:
            statement += (
                " AND EXISTS (SELECT 1 FROM timeline_memberships a"
                f" WHERE a.member = {MEMBER} AND a.first_position = m.first_position)"
            )
            params += ["actor", actor_slug(sql, f.actor, registry)]
    else:
        statement = "SELECT d.doc, d.id, d.kind, d.first_position FROM timeline_developments d WHERE 1 = 1"
        order = "d.sort_key, d.first_position"
    if f.kind:
        statement += " AND d.kind = ?"
        params.append(f.kind)
    if f.start:
        statement += " AND d.end_day >= ?"
        params.append(f.start.isoformat())
    if f.end:
        statement += " AND d.start_day <= ?"
        params.append(f.end.isoformat())
    statement += " ORDER BY " + order
    with sql.transaction(commit=False) as c:
        sql.execute(c, statement, params)
        while rows := sql.fetchmany(c, page):
            for r in rows:
                yield read_row(r)


def facet_counts(sql: Sql, facet: str) -> list[dict[str, Any]]:
    """Topics or actors with how many developments name them (and how many are retracted)."""
    with sql.transaction(commit=False) as c:
        rows = sql.rows(
            c,
            "SELECT n.slug AS slug, n.name AS name, COUNT(*) AS developments,"
            " SUM(d.retracted) AS retracted"
            " FROM timeline_names n"
            " JOIN timeline_memberships m ON m.member = n.id"
            " JOIN timeline_developments d ON d.first_position = m.first_position"
            " WHERE n.facet = ? GROUP BY n.slug, n.name ORDER BY n.slug",
            [facet],
        )
    return [
        {"slug": r["slug"], "name": r["name"], "developments": int(r["developments"]), "retracted": int(r["retracted"])}
        for r in rows
    ]


def kind_counts(sql: Sql) -> dict[str, int]:
    with sql.transaction(commit=False) as c:
        rows = sql.rows(c, "SELECT kind, COUNT(*) AS n FROM timeline_developments GROUP BY kind ORDER BY kind")
    return {r["kind"]: int(r["n"]) for r in rows}


def retracted_count(sql: Sql) -> int:
    with sql.transaction(commit=False) as c:
        return int(sql.scalar(c, "SELECT COUNT(*) FROM timeline_developments WHERE retracted = 1") or 0)


def feed_positions(sql: Sql) -> dict[str, int]:
    with sql.transaction(commit=False) as c:
        return {
            r["feed"]: int(r["last_position"]) for r in sql.rows(c, "SELECT feed, last_position FROM timeline_feeds")
        }


def ledger(sql: Sql) -> dict[str, Any]:
    return pledge_ledger(timeline(sql, Filter(kind="pledge")))


def pledge_ledger(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """The ledger (`events.ledger`) of the pledges among these view documents."""
    return ledger_of(
        LedgerPledge(d["id"], d["title"], d["fields"], d["retracted"] is not None)
        for d in docs
        if d["kind"] == "pledge"
    )


# --- one feed's members, read in the orders a feed needs ----------------------------------
# A feed is the story (facet None: every development) or one topic or actor. These read
# only what one feed build needs, in bounded pages, never the whole log.


def _feed_source(facet: str | None, slug: str | None) -> tuple[str, str, list[Any]]:
    if facet is None:
        return "timeline_developments d", "1 = 1", []
    return (
        "timeline_memberships m JOIN timeline_developments d ON d.first_position = m.first_position",
        f"m.member = {MEMBER}",
        [facet, slug],
    )


def feed_count(sql: Sql, facet: str | None, slug: str | None = None) -> int:
    source, where, params = _feed_source(facet, slug)
    with sql.transaction(commit=False) as c:
        return int(sql.scalar(c, f"SELECT COUNT(*) FROM {source} WHERE {where}", params) or 0)


def feed_latest(sql: Sql, facet: str | None, slug: str | None, limit: int) -> list[dict[str, Any]]:
    """At most `limit` members, the one changed last first (by `last_position`)."""
    source, where, params = _feed_source(facet, slug)
    with sql.transaction(commit=False) as c:
        rows = sql.rows(
            c,
            f"SELECT d.doc, d.id, d.kind, d.first_position FROM {source} WHERE {where} ORDER BY d.last_position DESC LIMIT ?",
            [*params, limit],
        )
    return [read_row(r) for r in rows]


def iter_feed_recorded(
    sql: Sql, facet: str | None, slug: str | None, changed_after: int = 0, page: int = 200
) -> Iterator[dict[str, Any]]:
    """Members last changed after position `changed_after`, in recording order
    (`first_position`), read in pages so no page stays open or grows."""
    if facet is not None:
        yield from _iter_members_recorded(sql, facet, slug, changed_after, page)
        return
    statement = (
        "SELECT d.doc, d.id, d.kind, d.first_position FROM timeline_developments d WHERE d.last_position > ? AND d.first_position > ?"
        " ORDER BY d.first_position LIMIT ?"
    )
    start = -1
    while True:
        with sql.transaction(commit=False) as c:
            rows = sql.rows(c, statement, [changed_after, start, page])
        for r in rows:
            doc = read_row(r)
            start = doc["first_position"]
            yield doc
        if len(rows) < page:
            return


def _iter_members_recorded(
    sql: Sql, facet: str, slug: str | None, changed_after: int, page: int
) -> Iterator[dict[str, Any]]:
    """One topic's or actor's members in recording order: their first positions read once
    (from the memberships' key), then the documents by their key, a page at a time, so no
    page stays open or grows; a sorted list of numbers (about 8 MB for the largest feed at
    1M events)."""
    with sql.transaction(commit=False) as c:
        rows = sql.rows(
            c,
            f"SELECT m.first_position FROM timeline_memberships m WHERE m.member = {MEMBER} ORDER BY m.first_position",
            [facet, slug],
        )
    positions = [int(r["first_position"]) for r in rows]
    del rows
    for part, marks in in_parts(positions, page):
        with sql.transaction(commit=False) as c:
            found = sql.rows(
                c,
                f"SELECT d.doc, d.id, d.kind, d.first_position FROM timeline_developments d WHERE d.first_position IN ({marks}) AND d.last_position > ?"
                " ORDER BY d.first_position",
                [*part, changed_after],
            )
        yield from (read_row(r) for r in found)


def feed_changed_ids(
    sql: Sql, facet: str | None, slug: str | None, changed_after: int, recorded_upto: int
) -> list[str]:
    """Ids of members recorded at or before `recorded_upto` and changed after `changed_after`."""
    source, where, params = _feed_source(facet, slug)
    with sql.transaction(commit=False) as c:
        rows = sql.rows(
            c,
            f"SELECT d.id FROM {source} WHERE {where} AND d.last_position > ? AND d.first_position <= ?",
            [*params, changed_after, recorded_upto],
        )
    return [r["id"] for r in rows]


def feed_documents(sql: Sql, facet: str | None, slug: str | None, ids: list[str]) -> list[dict[str, Any]]:
    """Those of `ids` that are members of the feed now."""
    source, where, params = _feed_source(facet, slug)
    docs = []
    with sql.transaction(commit=False) as c:
        for part, marks in in_parts(ids):
            rows = sql.rows(
                c,
                f"SELECT d.doc, d.id, d.kind, d.first_position FROM {source} WHERE {where} AND d.id IN ({marks})",
                [*params, *part],
            )
            docs += [read_row(r) for r in rows]
    return docs


def document_at(sql: Sql, position: int) -> dict[str, Any] | None:
    """The development the event at `position` changed, if that event is its latest."""
    with sql.transaction(commit=False) as c:
        rows = sql.rows(
            c, "SELECT doc, id, kind, first_position FROM timeline_developments WHERE last_position = ?", [position]
        )
    return read_row(rows[0]) if rows else None


def first_document(sql: Sql) -> dict[str, Any] | None:
    """The development recorded first."""
    with sql.transaction(commit=False) as c:
        rows = sql.rows(
            c, "SELECT doc, id, kind, first_position FROM timeline_developments ORDER BY first_position LIMIT 1"
        )
    return read_row(rows[0]) if rows else None


def name(sql: Sql, facet: str, slug: str) -> str | None:
    with sql.transaction(commit=False) as c:
        rows = sql.rows(c, "SELECT name FROM timeline_names WHERE facet = ? AND slug = ?", [facet, slug])
    return rows[0]["name"] if rows else None


# A build after few events reads what changed through `timeline_developments_last`, so its
# cost follows the events since the previous build, not the size of the log or the feed.


def feed_changed_count(sql: Sql, changed_after: int) -> int:
    """How many developments changed after position `changed_after` (an index range)."""
    with sql.transaction(commit=False) as c:
        statement = "SELECT COUNT(*) FROM timeline_developments WHERE last_position > ?"
        return int(sql.scalar(c, statement, [changed_after]) or 0)


def feed_recorded_count(sql: Sql, recorded_after: int) -> int:
    """How many developments were first recorded after position `recorded_after`."""
    with sql.transaction(commit=False) as c:
        statement = "SELECT COUNT(*) FROM timeline_developments WHERE first_position > ?"
        return int(sql.scalar(c, statement, [recorded_after]) or 0)


def feed_changed(sql: Sql, facet: str | None, slug: str | None, changed_after: int) -> list[dict[str, Any]]:
    """The feed's members changed after position `changed_after`, in recording order. Read
    from the developments changed since (`CROSS JOIN` keeps SQLite from scanning the whole
    feed's memberships instead); for few changes only: they are all in memory at once."""
    params: list[Any] = [changed_after]
    if facet is None:
        statement = (
            "SELECT d.doc, d.id, d.kind, d.first_position FROM timeline_developments d WHERE d.last_position > ?"
        )
    else:
        statement = (
            "SELECT d.doc, d.id, d.kind, d.first_position FROM timeline_developments d CROSS JOIN timeline_memberships m"
            f" WHERE d.last_position > ? AND m.member = {MEMBER} AND m.first_position = d.first_position"
        )
        params += [facet, slug]
    with sql.transaction(commit=False) as c:
        rows = sql.rows(c, statement, params)
    return sorted((read_row(r) for r in rows), key=lambda d: int(d["first_position"]))

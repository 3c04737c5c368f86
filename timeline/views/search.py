"""The search index as a read model: SQLite FTS5 or PostgreSQL full-text search.

Each development's words (title, summary, quote, paraphrase, names as reported, place,
purpose, subject, role) are folded here, in Python, before either back end sees them, so
both index the same tokens and answer a query alike:

- case-insensitive (`casefold`), width-insensitive (NFKC);
- accent-insensitive: a Latin letter is read through `anyascii` (é → e, ł → l, ß → ss,
  æ → ae), Greek and Cyrillic lose their combining marks; other scripts keep theirs;
- a token is a run of letters and digits; Han, Hiragana and Katakana, written without
  spaces, are indexed one character per token and a query's run of them is a phrase
  (上川陽子 finds 上川陽子, not 上 … 子 apart). Scripts written without spaces that are
  not segmented here (Thai, Khmer, Lao, Burmese) match whole runs only.

The index holds these tokens only (one row per development, keyed by its first position);
what a result shows is read from the development's document. Queries are built from the
same tokens, each quoted, so no user text ever reaches the FTS query syntax.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from timeline.store import Sql

TABLE = "timeline_search"
TEXT_FIELDS = ("title", "summary", "quote", "paraphrase", "place", "purpose", "subject", "role")
_TEXT_REST = TEXT_FIELDS[1:]
_TOKEN = re.compile(r"[^\W_]+")
_CJK = re.compile(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f])")
_MAX_WORDS = 200
_MAX_LETTERS = 100  # no query longer than this many words


@functools.lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    name = unicodedata.name(ch, "")
    if name.startswith("LATIN"):
        from anyascii import anyascii

        return anyascii(ch)
    if name.startswith(("GREEK", "CYRILLIC")):
        return "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if unicodedata.combining(ch) and ch < "\u0370":
        return ""  # a combining accent left over after a Latin letter
    return ch


def fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKC", text)
    return "".join(c if c < "\x80" else _fold_char(c) for c in text).casefold()


def runs(text: str) -> list[list[str]]:
    """Tokens in order, grouped: a run of CJK characters is one group of single-character
    tokens (a phrase); every other token is a group of its own."""
    out: list[list[str]] = []
    for token in _TOKEN.findall(fold(text)):
        parts = [p for p in _CJK.split(token) if p]
        if len(parts) == 1:
            out.append(parts)
            continue
        group: list[str] = []
        for p in parts:
            if _CJK.fullmatch(p):
                group.append(p)
                continue
            if group:
                out.append(group)
                group = []
            out.append([p])
        if group:
            out.append(group)
    return out


# ASCII letters and digits lowercased, every other byte a space: what `fold` and `_TOKEN`
# make of ASCII text, several times faster than the regex (the index's main cost in a rebuild).
_ASCII_TOKENS = bytes(c | 0x20 if chr(c).isalpha() else c if chr(c).isdigit() else 32 for c in range(128)) + b" " * 128


def tokens(text: str) -> list[str]:
    """What `runs` gives, as one list."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_TOKENS).decode("ascii").split()
    folded = fold(text)
    if not _CJK.search(folded):
        return _TOKEN.findall(folded)  # no run of CJK characters to keep together
    return [t for group in runs(text) for t in group]


def indexed_text(doc: dict[str, Any]) -> str:
    get = doc["fields"].get
    parts = [doc["title"]]
    parts += [v for k in _TEXT_REST if isinstance(v := get(k), str)]
    parts += doc["actors"]
    found = tokens(" ".join(parts))
    # A word no query may hold is not indexed (PostgreSQL would drop one over 2,047 bytes).
    # Rare: the words are filtered one by one only when there is one (the filter was a
    # third of a rebuild's indexing).
    if found and len(max(found, key=len)) > _MAX_LETTERS:
        found = [t for t in found if len(t) <= _MAX_LETTERS]
    return " ".join(found)


class BadQuery(ValueError):
    pass


@dataclass(frozen=True)
class Query:
    """What someone typed, as groups of folded tokens: every group must match; a group of
    several tokens is a phrase; a token typed with a trailing * matches as a prefix."""

    groups: tuple[tuple[str, ...], ...]
    prefix: frozenset[int]  # indexes of single-token groups that are prefixes

    @classmethod
    def read(cls, text: str) -> Query:
        groups: list[tuple[str, ...]] = []
        prefix: set[int] = set()
        for word in text.split():
            star = word.endswith("*")
            found = runs(word)
            for i, g in enumerate(found):
                if star and i == len(found) - 1 and len(g) == 1:
                    prefix.add(len(groups))
                groups.append(tuple(g))
        if not groups:
            raise BadQuery("the query has no words to search for (letters or digits)")
        if any(len(t) > _MAX_LETTERS for g in groups for t in g):
            # PostgreSQL indexes no word longer than 2,047 bytes; nothing real is this long.
            raise BadQuery(f"a word of the query is longer than {_MAX_LETTERS} letters")
        if len(groups) > _MAX_WORDS:
            raise BadQuery(f"the query has more than {_MAX_WORDS} words")
        return cls(tuple(groups), frozenset(prefix))

    def fts5(self) -> str:
        # Tokens hold letters and digits only, so a quoted token is always a valid string.
        return " ".join(f'"{" ".join(g)}"' + ("*" if i in self.prefix else "") for i, g in enumerate(self.groups))

    def tsquery(self) -> str:
        parts = []
        for i, g in enumerate(self.groups):
            lexemes = [f"'{t}'" for t in g]
            parts.append(
                "(" + " <-> ".join(lexemes) + ")" if len(g) > 1 else lexemes[0] + (":*" if i in self.prefix else "")
            )
        return " & ".join(parts)

    def words(self) -> set[str]:
        return {t for g in self.groups for t in g}


class SearchWriter:
    """Keeps the index in step with the developments, inside the views' transaction."""

    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def statements(self, *, tables: bool = True, indexes: bool = True) -> list[str]:
        """What makes the index: its table (`tables`) and its indexes (`indexes`)."""
        if not self.sql.postgres:
            # The tokens are folded already; the tokenizer only splits them again. Contentless
            # (`content=''`): the index keeps its tokens only, not a copy of the text, as on
            # PostgreSQL; results are read from the documents.
            return [
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5(body, content = '',"
                " tokenize = 'unicode61 remove_diacritics 0')"
            ] if tables else []  # fmt: skip
        return [
            *([f"CREATE TABLE IF NOT EXISTS {TABLE} (first_position BIGINT PRIMARY KEY, tsv TSVECTOR NOT NULL)"]
              if tables else []),
            *([f"CREATE INDEX IF NOT EXISTS {TABLE}_tsv ON {TABLE} USING GIN (tsv)"] if indexes else []),
        ]  # fmt: skip

    def drop_tables(self, c: Any) -> None:
        self.sql.execute(c, f"DROP TABLE IF EXISTS {TABLE}")

    def write(self, c: Any, changed: Iterable[tuple[dict[str, Any] | None, dict[str, Any]]]) -> None:
        """Index each document as it is now, given as (before, now); `before` is None for a
        development not indexed yet."""
        changed = list(changed)
        if not changed:
            return
        rows = [(d["first_position"], indexed_text(d)) for _, d in changed]
        if self.sql.postgres:
            self.sql.insert_rows(
                c,
                f"INSERT INTO {TABLE} (first_position, tsv) VALUES (?, to_tsvector('simple', ?))"
                " ON CONFLICT (first_position) DO UPDATE SET tsv = excluded.tsv",
                rows,
                ("bigint", "text"),
            )
            return
        # A contentless index forgets a row through FTS5's 'delete' command given the text
        # it indexed: the document's before this batch, folded the same way (a NULL command
        # is a plain insert). One statement, in rowid order, each delete before its insert:
        # FTS5 writes its pending terms out as a new segment whenever a rowid comes below
        # the one before it, and segments are merged again and again as they pile up. In
        # the batch's order, a rebuild's corrections of earlier developments made one tiny
        # segment each (a third of the index's time, and its merges' writes).
        forget = [(old["first_position"], 0, "delete", indexed_text(old)) for old, _ in changed if old is not None]
        add = [(at, 1, None, text) for at, text in rows]
        ops = sorted([*forget, *add], key=lambda op: (op[0], op[1]))
        self.sql.executemany(c, f"INSERT INTO {TABLE} ({TABLE}, rowid, body) VALUES (?, ?, ?)",
                             [(command, at, text) for at, _, command, text in ops])  # fmt: skip


def search(  # noqa: PLR0913 - the query, the three filters `search` takes, and a limit
    sql: Sql,
    query: Query,
    kind: str | None = None,
    topic: str | None = None,
    actor_slug: str | None = None,
    limit: int = 20,
) -> list[dict[str, Any]]:
    """The best `limit` matches, best first (FTS5's bm25 on SQLite, `ts_rank_cd` on
    PostgreSQL; ties in recording order). Every input is a bound parameter.

    Ranking reads every match, so a word in most developments would cost time in
    proportion to the log; only the `RANKED` most recently recorded matches are ranked
    (and then filtered), which bounds a query however long the log grows."""
    from timeline.views.project import read_row

    where, params = "", list[Any]()
    floor = _floor(sql, query)
    if floor is not None:
        # On the index's own key, so that FTS5 reads (and ranks) only that rowid range.
        where += " AND s.first_position >= ?" if sql.postgres else " AND s.rowid >= ?"
        params.append(floor)
    if kind:
        where += " AND d.kind = ?"
        params.append(kind)
    for facet, slug in (("topic", topic), ("actor", actor_slug)):
        if slug:
            where += (
                " AND EXISTS (SELECT 1 FROM timeline_memberships m WHERE m.first_position = d.first_position"
                " AND m.member = (SELECT n.id FROM timeline_names n WHERE n.facet = ? AND n.slug = ?))"
            )
            params += [facet, slug]
    if sql.postgres:
        statement = (
            f"SELECT d.doc AS doc, d.id AS id, d.kind AS kind, d.first_position AS first_position, ts_rank_cd(s.tsv, q.q) AS rank FROM {TABLE} s"
            " CROSS JOIN (SELECT CAST(? AS tsquery) AS q) q"
            " JOIN timeline_developments d ON d.first_position = s.first_position"
            f" WHERE s.tsv @@ q.q{where} ORDER BY rank DESC, d.first_position LIMIT ?"
        )
        args = [query.tsquery(), *params, limit]
    else:
        statement = (
            f"SELECT d.doc AS doc, d.id AS id, d.kind AS kind, d.first_position AS first_position, -bm25({TABLE}) AS rank FROM {TABLE} s"
            " JOIN timeline_developments d ON d.first_position = s.rowid"
            f" WHERE {TABLE} MATCH ?{where} ORDER BY rank DESC, d.first_position LIMIT ?"
        )
        args = [query.fts5(), *params, limit]
    with sql.transaction(commit=False) as c:
        rows = sql.rows(c, statement, args)
    return [{**read_row(r), "rank": round(float(r["rank"]), 6)} for r in rows]


RANKED = 10_000


def _floor(sql: Sql, query: Query) -> int | None:
    """The first position of the RANKED-th most recent match, when there are more."""
    if sql.postgres:
        statement = (
            f"SELECT first_position FROM {TABLE} WHERE tsv @@ CAST(? AS tsquery)"
            " ORDER BY first_position DESC LIMIT 1 OFFSET ?"
        )
        args: list[Any] = [query.tsquery(), RANKED - 1]
    else:
        statement = f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?"
        args = [query.fts5(), RANKED - 1]
    with sql.transaction(commit=False) as c:
        found = sql.scalar(c, statement, args)
    return int(found) if found is not None else None


def like_scan(sql: Sql, word: str, limit: int = 20) -> list[str]:
    """The baseline the benchmark measures search against: a plain LIKE over the stored
    documents, no index (case-insensitive for ASCII only)."""
    with sql.transaction(commit=False) as c:
        op = "ILIKE" if sql.postgres else "LIKE"
        rows = sql.rows(
            c,
            f"SELECT id FROM timeline_developments WHERE doc {op} ? ORDER BY first_position LIMIT ?",
            [f"%{word}%", limit],
        )
    return [r["id"] for r in rows]


def highlight(text: str, query: Query, mark: Any) -> str:
    """`text` with each word the query matches passed through `mark`."""
    words = query.words()
    prefixes = [query.groups[i][0] for i in query.prefix]
    out, last = [], 0
    for m in _TOKEN.finditer(text):
        token = m.group()
        folded = tokens(token)
        if len(folded) > 1 and any(_CJK.fullmatch(t) for t in folded):
            # Mark each run of matching characters once: 上川陽子外務大臣 → [上川陽子]外務大臣.
            out.append(text[last : m.start()])
            run: list[str] = []
            for p in (p for p in _CJK.split(token) if p):
                if _CJK.fullmatch(p) and set(tokens(p)) <= words:
                    run.append(p)
                    continue
                if run:
                    out.append(mark("".join(run)))
                    run = []
                out.append(p)
            if run:
                out.append(mark("".join(run)))
            last = m.end()
            continue
        if any(t in words or any(t.startswith(p) for p in prefixes) for t in folded):
            out.append(text[last : m.start()] + mark(token))
            last = m.end()
    out.append(text[last:])
    return "".join(out)


def snippet(doc: dict[str, Any], query: Query, width: int = 160) -> str | None:
    """The first text field beside the title holding a match, cut around it."""
    fields = doc["fields"]
    for name in TEXT_FIELDS[1:]:
        value = fields.get(name)
        if not isinstance(value, str):
            continue
        marked = highlight(value, query, lambda w: "\0" + w + "\1")
        at = marked.find("\0")
        if at < 0:
            continue
        start = max(0, at - width // 3)
        cut = value[start : start + width]
        return ("…" if start else "") + cut + ("…" if start + width < len(value) else "")
    return None

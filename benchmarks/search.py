"""Search latency against a plain LIKE scan of the same table, in the same run, and the
index's size per development, on SQLite (and PostgreSQL with --postgres URL).

    .venv/bin/python benchmarks/search.py 10000 [--postgres postgresql://postgres@127.0.0.1/db]

Imports a synthetic story of N events (benchmarks/generate.py), catches the views up, then
times each query (median of `--repeat` runs): the FTS query (`timeline.views.search`, top
20 by rank) and the baseline (`LIKE '%word%'` over the stored documents, first 20 by
recording order: less work than ranking, so a conservative baseline).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.generate import write
from timeline import config
from timeline.app import Timeline
from timeline.importer import import_lines
from timeline.views import search as index
from timeline.views.runner import Views

QUERIES = ["bridge", "minister", "vaccine scholarship", "zzzznotthere", "minister ba*"]


def median_ms(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def count(sql: Any, q: index.Query) -> int:
    """Every match, not only those ranked."""
    s = sql
    with s.transaction(commit=False) as c:
        if s.postgres:
            return int(
                s.scalar(c, "SELECT COUNT(*) FROM timeline_search WHERE tsv @@ CAST(? AS tsquery)", [q.tsquery()])
            )
        return int(s.scalar(c, "SELECT COUNT(*) FROM timeline_search WHERE timeline_search MATCH ?", [q.fts5()]))


def size_bytes(app: Timeline) -> tuple[int, int]:
    """(search index bytes, developments)."""
    sql = app.sql()
    with sql.transaction(commit=False) as c:
        n = int(sql.scalar(c, "SELECT COUNT(*) FROM timeline_developments"))
        if sql.postgres:
            size = int(sql.scalar(c, "SELECT pg_total_relation_size('timeline_search')"))
        else:
            page = int(sql.scalar(c, "PRAGMA page_size"))
            pages = sql.rows(c, "SELECT name FROM sqlite_master WHERE name LIKE 'timeline_search%'")
            try:
                size = int(sql.scalar(c, "SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'timeline_search%'"))
            except sqlite3.OperationalError:  # dbstat not compiled in: count the shadow tables' rows' bytes
                size = sum(
                    int(sql.scalar(c, f"SELECT COALESCE(SUM(LENGTH(block)), 0) FROM {r['name']}") or 0)
                    for r in pages
                    if r["name"].endswith("_data")
                )
                size += page  # at least one page each
    return size, n


def run(target_text: str, events: int, repeat: int) -> None:
    target = config.resolve(target_text)
    app = Timeline.open(target)
    with tempfile.TemporaryDirectory() as tmp:
        lines = write(events, Path(tmp) / "story.jsonl")
        with lines.open(encoding="utf-8") as f:
            import_lines(app, f)
    t = time.perf_counter()
    Views(app).catch_up()
    print(f"{target.display}: {events} events, views caught up in {time.perf_counter() - t:.1f} s")
    sql = app.sql()
    for text in QUERIES:
        q = index.Query.read(text)
        fts = median_ms(lambda q=q: index.search(sql, q), repeat)
        hits = count(sql, q)
        word = text.split()[0].rstrip("*")
        like = median_ms(lambda word=word: index.like_scan(sql, word), repeat)
        like_all = median_ms(lambda word=word: index.like_scan(sql, word, limit=10**9), repeat)
        print(
            f"  {text!r:24} {hits:7d} matches  search {fts:8.2f} ms   LIKE first 20 {like:8.2f} ms"
            f"   LIKE all {like_all:8.2f} ms"
        )
    size, n = size_bytes(app)
    print(f"  index: {size / 1e6:.1f} MB for {n} developments, {size / max(n, 1):.0f} bytes per development")
    app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("events", type=int)
    parser.add_argument("--postgres", metavar="URL", help="also measure on this (empty) PostgreSQL database")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(str(Path(tmp) / "bench.db"), args.events, args.repeat)
    if args.postgres:
        run(args.postgres, args.events, args.repeat)


if __name__ == "__main__":
    main()

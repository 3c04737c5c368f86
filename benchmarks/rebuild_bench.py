"""`rebuild` against its floor, in the same run, on SQLite and PostgreSQL (issue #16).

    python benchmarks/rebuild_bench.py [--sizes 10000,100000] [--stores sqlite,postgres]
                                       [--rounds 3] [--workdir /tmp/timeline-rebuild-bench]

The floor does what any rebuild must: read and decode every event (pages of `REBUILD_PAGE`,
in transactions of at most `REBUILD_COMMIT` events or `REBUILD_HOLD` seconds, as the
rebuild does) and write the same final view rows with plain
`executemany` into the same tables, then make the same indexes. The rows are the rebuild's
own, read back after a first rebuild and held in memory before the clock starts, so the
floor does no projection at all. Each round runs the rebuild and the floor in a shuffled
order, each in a child process (timed inside it, without interpreter start); figures are
medians with their range.

Bytes stored per event: the view tables and their indexes (SQLite's `dbstat`, PostgreSQL's
`pg_total_relation_size`). Bytes written per event: on SQLite the child's `write_bytes`
(/proc/self/io: the WAL and its checkpoints into the file); on PostgreSQL the WAL the server
wrote meanwhile (`pg_current_wal_lsn()` before and after: the server is shared, so other
work may add to it).

`measure(...)` returns the figures as a dict, for `benchmarks/run.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import generate  # noqa: E402 - after the sys.path line above

PY = sys.executable
BIN = Path(PY).parent
TIMELINE = [str(BIN / "timeline")] if (BIN / "timeline").exists() else [PY, "-m", "timeline"]
PG_ADMIN = os.environ.get("TIMELINE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
# One database per run, dropped when the run's measurement ends (`_make_store`).
PG_DATABASE = f"timeline_rebuild_bench_{os.getpid()}"
# The log's own tables and the Merkle tree's: not views.
NOT_VIEWS = ("stored_events", "timeline_events", "tracking", "timeline_tracking", "timeline_tree_")


# --- in the child -------------------------------------------------------------------------


def _open(db: str) -> Any:
    from timeline import config
    from timeline.app import Timeline

    return Timeline.open(config.resolve(db))


def _written() -> int:
    with open("/proc/self/io") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("write_bytes"))


def child_rebuild(db: str) -> dict[str, Any]:
    from timeline.views.runner import Views

    app = _open(db)
    views = Views(app)
    before, start = _written(), time.perf_counter()
    n = views.rebuild()
    return {"seconds": time.perf_counter() - start, "written": _written() - before, "events": n}


def _view_tables(sql: Any, c: Any) -> list[str]:
    from timeline.views.writer import ViewWriter

    return [t for t in ViewWriter.table_names() if _exists(sql, c, t)]


def _exists(sql: Any, c: Any, table: str) -> bool:
    if sql.postgres:
        return bool(sql.scalar(c, "SELECT to_regclass(?) IS NOT NULL", [table]))
    return bool(sql.scalar(c, "SELECT COUNT(*) FROM sqlite_master WHERE name = ?", [table]))


def _select(sql: Any, table: str) -> str:
    if table == "timeline_search":
        return f"SELECT first_position, tsv::text AS tsv FROM {table}" if sql.postgres else \
            f"SELECT rowid, body FROM {table}"  # fmt: skip
    return f"SELECT * FROM {table}"


def _insert(sql: Any, table: str, columns: list[str]) -> str:
    if table == "timeline_search":
        return f"INSERT INTO {table} (first_position, tsv) VALUES (?, ?::tsvector)" if sql.postgres else \
            f"INSERT INTO {table} (rowid, body) VALUES (?, ?)"  # fmt: skip
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({','.join('?' * len(columns))})"


def child_dump(db: str, out: str) -> dict[str, Any]:
    """Every view row as it stands (after a rebuild), for the floor to write again."""
    from timeline.views.runner import Views

    app = _open(db)
    views = Views(app)
    sql = views.sql
    dump: dict[str, Any] = {}
    with sql.transaction(commit=False) as c:
        views._tune(c)  # on PostgreSQL, a transaction idle over 5 s between its reads ends
        for table in _view_tables(sql, c):
            sql.execute(c, _select(sql, table) + " LIMIT 0")
            c.fetchall()
            columns = [d[0] for d in getattr(c, "sqlite_cursor", c).description]
            if table == "timeline_search" and not sql.postgres and _contentless(sql, c):
                # A contentless index gives no text back: the text it was given, again.
                from timeline.views.project import read_row
                from timeline.views.search import indexed_text

                found = sql.rows(c, "SELECT doc, id, kind, first_position FROM timeline_developments")
                rows = [(d["first_position"], indexed_text(d)) for d in (read_row(r) for r in found)]
            else:
                found = sql.rows(c, _select(sql, table))
                rows = [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in found]
            dump[table] = (columns, rows)
    with open(out, "wb") as f:
        pickle.dump(dump, f, protocol=pickle.HIGHEST_PROTOCOL)
    return {"tables": {t: len(rows) for t, (_, rows) in dump.items()}}


def _contentless(sql: Any, c: Any) -> bool:
    found = sql.scalar(c, "SELECT sql FROM sqlite_master WHERE name = 'timeline_search'")
    return "content = ''" in str(found)


def _first_position_column(columns: list[str]) -> int | None:
    for name in ("first_position", "rowid"):
        if name in columns:
            return columns.index(name)
    return None


def child_floor(db: str, dump_path: str) -> dict[str, Any]:
    """Read + decode the log in the rebuild's pages and write the same final rows, each
    page's rows (by first position) in that page's transaction; then the same indexes."""
    from eventsourcing.persistence import Tracking

    from timeline.views.runner import REBUILD_COMMIT, REBUILD_HOLD, REBUILD_PAGE, Views

    with open(dump_path, "rb") as f:
        dump: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = pickle.load(f)
    app = _open(db)
    views = Views(app)
    sql, writer, name = views.sql, views.writer, views.name
    # Rows by the page that writes them: those with a first position go with its page, the
    # rest (names, feeds, the registry's) with the last page.
    paged: list[tuple[str, str, int | None, list[tuple[Any, ...]]]] = []
    for table, (columns, rows) in dump.items():
        at = _first_position_column(columns)
        if at is not None:
            rows = sorted(rows, key=lambda r: r[at])
        paged.append((table, _insert(sql, table, columns), at, rows))
    before, start = _written(), time.perf_counter()
    views.reset()
    recorder, mapper = app.recorder, app.mapper
    position, cursors, n, last = 1, [0] * len(paged), 0, False
    while not last:
        # One transaction per REBUILD_COMMIT events or REBUILD_HOLD seconds, as the rebuild.
        with sql.transaction(commit=True) as c:
            views._tune(c)  # the rebuild's settings for its transactions
            deadline, held = time.monotonic() + REBUILD_HOLD, 0
            while True:
                batch = recorder.select_notifications(position, REBUILD_PAGE)
                events = [mapper.to_domain_event(x) for x in batch]
                n += len(events)
                held += len(events)
                last = len(batch) < REBUILD_PAGE
                upto = batch[-1].id if batch else position
                for k, (_table, statement, at, rows) in enumerate(paged):
                    lo = hi = cursors[k]
                    if last:
                        hi = len(rows)
                    elif at is not None:
                        while hi < len(rows) and rows[hi][at] <= upto:
                            hi += 1
                    if hi > lo:
                        sql.executemany(c, statement, rows[lo:hi])
                    cursors[k] = hi
                position = upto + 1
                if last or held + REBUILD_PAGE > REBUILD_COMMIT or time.monotonic() >= deadline:
                    break
            if held:
                views.record(c, Tracking(name, upto))
    with sql.transaction(commit=True) as c:
        writer.create_indexes(c)
    return {"seconds": time.perf_counter() - start, "written": _written() - before, "events": n}


def child_stored(db: str) -> dict[str, Any]:
    """Bytes the view tables and their indexes take."""
    from timeline.views.runner import Views

    app = _open(db)
    sql = Views(app).sql
    with sql.transaction(commit=False) as c:
        if sql.postgres:
            tables = _view_tables(sql, c)
            sizes = {t: int(sql.scalar(c, "SELECT pg_total_relation_size(?)", [t])) for t in tables}
        else:
            rows = sql.rows(c, "SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name")
            sizes = {r["name"]: int(r["bytes"]) for r in rows if _is_view_object(sql, c, r["name"])}
    return {"bytes": sum(sizes.values()), "by_object": sizes, "events": app.event_count()}


def _is_view_object(sql: Any, c: Any, name: str) -> bool:
    if name.startswith(NOT_VIEWS) or name.startswith("sqlite_"):
        table = sql.scalar(c, "SELECT tbl_name FROM sqlite_master WHERE name = ?", [name])
        if table is None or str(table).startswith(NOT_VIEWS) or name.startswith("sqlite_master"):
            return False
    table = sql.scalar(c, "SELECT tbl_name FROM sqlite_master WHERE name = ?", [name]) or name
    return str(table).startswith("timeline_") and not str(table).startswith(NOT_VIEWS)


CHILDREN = {"rebuild": child_rebuild, "dump": child_dump, "floor": child_floor, "stored": child_stored}


# --- in the parent ------------------------------------------------------------------------


def _child(what: str, *args: str) -> dict[str, Any]:
    done = subprocess.run([PY, __file__, "child", what, *args], capture_output=True, text=True, timeout=7200)
    if done.returncode != 0:
        raise RuntimeError(f"{what} {args} failed: {done.stderr.strip()[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _pg_wal() -> Any:
    import psycopg

    def lsn() -> int:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            return int(conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()[0])

    return lsn


def _stats(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def _make_store(store: str, n: int, workdir: Path) -> tuple[str, Any]:
    """A database holding the n-event story, and how to remove it."""
    story = workdir / f"story-{n}.jsonl"
    if not story.exists():
        generate.write(n, story)
    if store == "sqlite":
        db = workdir / f"rebuild-{n}.db"
        for p in workdir.glob(f"rebuild-{n}.db*"):
            p.unlink()
        target = str(db)

        def remove() -> None:
            for p in workdir.glob(f"rebuild-{n}.db*"):
                p.unlink()
    else:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')  # a killed run's
            conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')
        base = f"{PG_ADMIN.rsplit('/', 1)[0]}/{PG_DATABASE}"
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "r{n}"')
        target = f"{base}?schema=r{n}"

        def remove() -> None:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')

    env = {**os.environ, "TIMELINE_IMPORT_BATCH": "2000"}  # PostgreSQL hangs on larger ones (#16)
    done = subprocess.run([*TIMELINE, "--db", target, "import", str(story)], env=env,
                          capture_output=True, text=True, timeout=7200)  # fmt: skip
    if done.returncode != 0:
        remove()
        raise RuntimeError(f"import of {n} events into {store} failed: {done.stderr.strip()[-2000:]}")
    return target, remove


def measure_one(store: str, n: int, rounds: int = 3, workdir: Path | None = None) -> dict[str, Any]:
    workdir = workdir or Path("/tmp/timeline-rebuild-bench")
    workdir.mkdir(parents=True, exist_ok=True)
    target, remove = _make_store(store, n, workdir)
    dump = workdir / f"rows-{store}-{n}.pickle"
    wal = _pg_wal() if store == "postgres" else None
    try:
        _child("rebuild", target)  # the views as the rebuild makes them, then their rows
        _child("dump", target, str(dump))
        stored = _child("stored", target)
        times: dict[str, list[float]] = {"rebuild": [], "floor": []}
        written: dict[str, list[float]] = {"rebuild": [], "floor": []}
        order = random.Random(n)
        for _ in range(rounds):
            for what in order.sample(["rebuild", "floor"], 2):
                lsn = wal() if wal else 0
                r = _child(what, target, *([str(dump)] if what == "floor" else []))
                times[what].append(r["seconds"] / n * 1e6)
                written[what].append(((wal() - lsn) if wal else r["written"]) / n)
        _child("rebuild", target)  # leave the views the rebuild makes
        return {
            "store": store,
            "events": n,
            "rebuild_us_per_event": _stats(times["rebuild"]),
            "floor_us_per_event": _stats(times["floor"]),
            "ratio": statistics.median(times["floor"]) / statistics.median(times["rebuild"]),
            "stored_bytes_per_event": stored["bytes"] / n,
            "stored_by_object": stored["by_object"],
            "written_bytes_per_event": _stats(written["rebuild"]),
            "floor_written_bytes_per_event": _stats(written["floor"]),
        }
    finally:
        dump.unlink(missing_ok=True)
        remove()


def measure(
    sizes: tuple[int, ...] = (10_000, 100_000),
    stores: tuple[str, ...] = ("sqlite", "postgres"),
    rounds: int = 3,
    workdir: Path | None = None,
    done: Any = None,
) -> dict[str, Any]:
    """Figures per store and size: {"sqlite": {10000: {...}}, ...}; `done(figures)` is
    called after each, so a long run keeps what it measured."""
    out: dict[str, Any] = {}
    for store in stores:
        for n in sizes:
            out.setdefault(store, {})[n] = measure_one(store, n, rounds, workdir)
            if done:
                done(out)
    return out


def _report(figures: dict[str, Any]) -> str:
    lines = ["| store | events | rebuild µs/event | floor µs/event | ratio | stored B/event | written B/event (rebuild; floor) |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip

    def f(s: dict[str, float], digits: int = 0) -> str:
        return f"{s['median']:,.{digits}f} ({s['min']:,.{digits}f}–{s['max']:,.{digits}f}, n={s['n']})"

    for store, by_size in figures.items():
        for n, r in by_size.items():
            lines.append(
                f"| {store} | {int(n):,} | {f(r['rebuild_us_per_event'])} | {f(r['floor_us_per_event'])} |"
                f" {r['ratio']:.2f}× | {r['stored_bytes_per_event']:,.0f} |"
                f" {f(r['written_bytes_per_event'])}; {r['floor_written_bytes_per_event']['median']:,.0f} |"
            )
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "child":
        print(json.dumps(CHILDREN[sys.argv[2]](*sys.argv[3:])))
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10000,100000")
    p.add_argument("--stores", default="sqlite,postgres")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--workdir", type=Path, default=Path("/tmp/timeline-rebuild-bench"))
    p.add_argument("--json", type=Path, help="also write the figures here")
    a = p.parse_args()

    def done(figures: dict[str, Any]) -> None:
        if a.json:
            a.json.write_text(json.dumps(figures, indent=2, default=str))
        print(_report(figures), flush=True)

    measure(tuple(int(s) for s in a.sizes.split(",")), tuple(a.stores.split(",")), a.rounds, a.workdir, done)


if __name__ == "__main__":
    main()

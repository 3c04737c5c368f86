"""`timeline import` against the library's recorder storing the same events, ready made.

    python benchmarks/import_bench.py --sizes 10000,100000 --rounds 3 [--stores sqlite,postgres]

For each size the story of `generate.py` is imported once into a reference database; its
stored events (the exact rows the import made) are what the baselines insert. Then, in
shuffled rounds, each of these runs as a child process:

- `import`: `timeline --db DB import FILE` on a fresh database (start-up included, timed
  from the parent, as `run.py` does; peak RSS from `wait4`);
- `library`: the library's own application recorder (no hooks, no Merkle tree) inserting
  the ready `StoredEvent`s into a fresh database, `SQLITE_CALL` (20,000) per call on
  SQLite, `PG_CALL` (2,000) per call on PostgreSQL (the library's pipelined insert hangs
  at 10,000 or more, psycopg issue 685); only the inserts are timed, inside the child;
- `raw` (SQLite only): plain sqlite3 `executemany` of the same rows, real keys, one
  transaction, into the library's table.

PostgreSQL runs in a database this benchmark creates (`import_bench_<pid>`) and drops at
the end; every run gets a fresh schema. `measure()` returns the figures as a dict for
`run.py`; run alone, it prints them as JSON (and `--markdown` a table).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import generate  # noqa: E402 - after the sys.path line above

PY = sys.executable
BIN = Path(PY).parent
TIMELINE = [str(BIN / "timeline")] if (BIN / "timeline").exists() else [PY, "-m", "timeline"]
SQLITE_CALL = 20_000
PG_CALL = 2_000
PG_SERVER = os.environ.get("IMPORT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")


# --- children -------------------------------------------------------------------------------


def _ready_events(source: str) -> list[Any]:
    from uuid import UUID

    from eventsourcing.persistence import StoredEvent

    conn = sqlite3.connect(source)
    rows = conn.execute("SELECT originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid")
    events = [StoredEvent(UUID(i), v, t, bytes(s)) for i, v, t, s in rows]
    conn.close()
    return events


def _report(t0: float, c0: float, events: int) -> None:
    print(json.dumps({"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0, "events": events}))


def child_library_sqlite(source: str, target: str) -> None:
    from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

    events = _ready_events(source)
    recorder = SQLiteApplicationRecorder(SQLiteDatastore(target))
    recorder.create_table()
    t0, c0 = time.perf_counter(), time.process_time()
    for start in range(0, len(events), SQLITE_CALL):
        recorder.insert_events(events[start : start + SQLITE_CALL])
    _report(t0, c0, len(events))


def child_raw_sqlite(source: str, target: str) -> None:
    events = _ready_events(source)
    conn = sqlite3.connect(target, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(
        "CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, topic TEXT,"
        " state BLOB, PRIMARY KEY (originator_id, originator_version))"  # the library's own table
    )
    rows = [(e.originator_id.hex, e.originator_version, e.topic, e.state) for e in events]
    t0, c0 = time.perf_counter(), time.process_time()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO stored_events (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)", rows
    )
    conn.execute("COMMIT")
    _report(t0, c0, len(events))
    conn.close()


def child_library_postgres(source: str, dbname: str, schema: str) -> None:
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

    events = _ready_events(source)
    datastore = PostgresDatastore(dbname, "127.0.0.1", 5432, "postgres", "", schema=schema)
    recorder = PostgresApplicationRecorder(datastore)
    recorder.create_table()
    t0, c0 = time.perf_counter(), time.process_time()
    for start in range(0, len(events), PG_CALL):
        recorder.insert_events(events[start : start + PG_CALL])
    _report(t0, c0, len(events))
    datastore.close()


CHILDREN = {"library-sqlite": child_library_sqlite, "raw-sqlite": child_raw_sqlite,
            "library-postgres": child_library_postgres}  # fmt: skip


# --- parent ---------------------------------------------------------------------------------


def run_child(
    cmd: list[str], timeout: float = 7200, env: dict[str, str] | None = None
) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds, this child's peak RSS in MB, stdout); raises if it fails."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=ROOT,
                         env=env)  # fmt: skip
    bufs: dict[str, bytes] = {}

    def drain(name: str, pipe: Any) -> None:
        bufs[name] = pipe.read()

    threads = [threading.Thread(target=drain, args=(k, s)) for k, s in (("out", p.stdout), ("err", p.stderr))]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            p.kill()
            os.wait4(p.pid, 0)
            raise RuntimeError(f"{' '.join(cmd[:6])} ... did not finish in {timeout:.0f} s")
        time.sleep(0.002)
    wall = time.perf_counter() - t0
    for t in threads:
        t.join()
    rc = os.waitstatus_to_exitcode(status)
    p.returncode = rc
    if rc != 0:
        raise RuntimeError(f"{' '.join(cmd[:6])} ... exited {rc}: {bufs['err'].decode(errors='replace')[-400:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, bufs["out"].decode()


def _remove_db(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def _stats(values: list[float]) -> dict[str, Any]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def _psql(dbname: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/{dbname}", autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "timeline", "events"], cwd=ROOT,
                               capture_output=True, text=True)  # fmt: skip
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except OSError:
        return "unknown"


def measure(sizes: list[int], rounds: int = 3, stores: tuple[str, ...] = ("sqlite", "postgres"),
            work: Path = Path("/tmp/timeline-import-bench"), log: Any = None,
            before: Path | None = None) -> dict[str, Any]:  # fmt: skip
    """Figures per store and size: seconds per run (medians, min–max, n), µs per event, the
    import's peak RSS and the ratios import/library and import/raw (as rates: > 1 is faster).
    `before`: a source tree of an earlier version (`git archive`), whose import runs in the
    same shuffled rounds as `import_before`."""
    say = log or (lambda text: print(text, file=sys.stderr, flush=True))
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"commit": _commit(), "rounds": rounds, "sqlite": {}, "postgres": {}}
    pg_db = f"import_bench_{os.getpid()}"
    if "postgres" in stores:
        _psql("postgres", f"CREATE DATABASE {pg_db}")
    try:
        for n in sizes:
            story = work / f"story-{n}.jsonl"
            if not story.exists():
                generate.write(n, story)
            reference = work / f"reference-{n}.db"
            _remove_db(reference)
            run_child([*TIMELINE, "--db", str(reference), "import", str(story)])  # the events to insert
            events = sqlite3.connect(reference).execute("SELECT count(*) FROM stored_events").fetchone()[0]
            for store in stores:
                results[store][str(n)] = _one_size(store, n, events, story, reference, rounds, work, pg_db, say,
                                                   before)  # fmt: skip
    finally:
        if "postgres" in stores:
            _psql("postgres", f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)")
    return results


def _one_size(store: str, n: int, events: int, story: Path, reference: Path, rounds: int, work: Path,
              pg_db: str, say: Any, before: Path | None) -> dict[str, Any]:  # fmt: skip
    kinds = ["import", "library"] + (["raw"] if store == "sqlite" else []) + (["import_before"] if before else [])
    envs = {"import": None, "import_before": {**os.environ, "PYTHONPATH": str(before)}}
    seconds: dict[str, list[float]] = {k: [] for k in kinds}
    cpu: dict[str, list[float]] = {k: [] for k in kinds}
    rss: dict[str, list[float]] = {}
    me = [PY, str(Path(__file__).resolve()), "child"]
    for r in range(rounds):
        order = kinds[:]
        random.shuffle(order)
        for kind in order:
            if store == "sqlite":
                db = work / f"{kind}-{n}.db"
                _remove_db(db)
                if kind.startswith("import"):
                    wall, used, peak, _ = run_child([*TIMELINE, "--db", str(db), "import", str(story)], env=envs[kind])
                    seconds[kind].append(wall)
                    cpu[kind].append(used)
                    rss.setdefault(kind, []).append(peak)
                else:
                    out = run_child([*me, f"{kind}-sqlite", str(reference), str(db)])[3]
                    seconds[kind].append(json.loads(out)["seconds"])
                    cpu[kind].append(json.loads(out)["cpu"])
                _remove_db(db)
            else:
                schema = f"s{kind}_{n}_{r}"
                try:
                    if kind.startswith("import"):
                        url = f"{PG_SERVER}/{pg_db}?schema={schema}"
                        wall, used, peak, _ = run_child([*TIMELINE, "--db", url, "import", str(story)], env=envs[kind])
                        seconds[kind].append(wall)
                        cpu[kind].append(used)
                        rss.setdefault(kind, []).append(peak)
                    else:
                        _psql(pg_db, f"CREATE SCHEMA {schema}")
                        out = run_child([*me, "library-postgres", str(reference), pg_db, schema])[3]
                        seconds[kind].append(json.loads(out)["seconds"])
                        cpu[kind].append(json.loads(out)["cpu"])
                finally:
                    _psql(pg_db, f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            say(f"{store} {n:,} round {r + 1}: {kind} {seconds[kind][-1]:.2f} s ({cpu[kind][-1]:.2f} s CPU)")
    out: dict[str, Any] = {"events": events, "seconds": {k: _stats(v) for k, v in seconds.items()},
                           "us_per_event": {k: statistics.median(v) / events * 1e6 for k, v in seconds.items()},
                           "cpu_seconds": {k: _stats(v) for k, v in cpu.items()}, "rss_mb": {k: _stats(v) for k, v in rss.items()}}  # fmt: skip
    med = {k: statistics.median(v) for k, v in seconds.items()}
    out["ratio_vs_library"] = med["library"] / med["import"]
    if "raw" in med:
        out["ratio_vs_raw"] = med["raw"] / med["import"]
    if "import_before" in med:
        out["before_ratio_vs_library"] = med["library"] / med["import_before"]
        out["speed_up"] = med["import_before"] / med["import"]
    # This client's CPU only (the import's includes its start-up; PostgreSQL's own is in neither).
    out["cpu_ratio_vs_library"] = statistics.median(cpu["library"]) / statistics.median(cpu["import"])
    return out


def _cell(s: dict[str, Any], k: str) -> str:
    if k not in s:
        return "–"
    return f"{s[k]['median']:.2f} ({s[k]['min']:.2f}–{s[k]['max']:.2f}, n={s[k]['n']})"


def markdown(results: dict[str, Any]) -> str:
    lines = ["| store | events | import s (min–max, n) | library s | raw sqlite3 s | µs/event import / library / raw"
             " | import vs library | vs raw | CPU: import vs library | import peak RSS |",
             "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for store in ("sqlite", "postgres"):
        for n, f in results.get(store, {}).items():
            s, us = f["seconds"], f["us_per_event"]
            per = " / ".join(f"{us[k]:.0f}" for k in ("import", "library", "raw") if k in us)
            raw = f"{f['ratio_vs_raw']:.2f}×" if "ratio_vs_raw" in f else "–"
            lines.append(f"| {store} | {int(n):,} | {_cell(s, 'import')} | {_cell(s, 'library')} | {_cell(s, 'raw')}"
                         f" | {per} | {f['ratio_vs_library']:.2f}× | {raw} | {f['cpu_ratio_vs_library']:.2f}×"
                         f" | {f['rss_mb']['import']['median']:.0f} MB |")  # fmt: skip
            if "import_before" in s:
                lines.append(f"| {store}, before | {int(n):,} | {_cell(s, 'import_before')} | | | {us['import_before']:.0f}"
                             f" | {f['before_ratio_vs_library']:.2f}× | | | {f['rss_mb']['import_before']['median']:.0f} MB |")  # fmt: skip
    return "\n".join(lines) + f"\n\ncode: {results['commit']}, rounds: {results['rounds']}"


def _bytecode(*trees: Path) -> None:
    """Children run from bytecode, as installed code does (what `run.py` does too)."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    for tree in trees:
        subprocess.run([PY, "-m", "compileall", "-q", "events", "timeline", "feeds"], cwd=tree, capture_output=True,
                       check=False)  # fmt: skip


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        CHILDREN[sys.argv[2]](*sys.argv[3:])
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10000,100000")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--stores", default="sqlite,postgres")
    p.add_argument("--workdir", type=Path, default=Path("/tmp/timeline-import-bench"))
    p.add_argument("--markdown", action="store_true", help="print a table instead of JSON")
    p.add_argument("--before", type=Path, help="a source tree of an earlier version, measured beside")
    a = p.parse_args()
    _bytecode(ROOT, *([a.before] if a.before else []))
    sizes = [int(s) for s in a.sizes.split(",")]
    results = measure(sizes, a.rounds, tuple(a.stores.split(",")), a.workdir, before=a.before)
    print(markdown(results) if a.markdown else json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

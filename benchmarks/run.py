"""Benchmarks: issue 16's goals table, each figure a ratio against a baseline measured in
the same run, on SQLite and PostgreSQL; plus issue 14's page figures, issue 15's search
figures and the numbers `docs/scaling.md` rests on. Writes BENCHMARKS.md.

    python benchmarks/run.py [--sizes 10000,100000,1000000] [--pg-sizes 10000,100000]
                             [--figures add,follow,...] [--rounds 3] [--fresh]

Every command measured is a child process, timed from here (start-up included) unless a
row says otherwise; peak RSS is that child's `ru_maxrss` from `os.wait4`. Within a round
a figure and its baseline run in shuffled order. Results accumulate in
`WORKDIR/results.json` (a partial run replaces only the rows it measures; `--fresh`
starts over) and BENCHMARKS.md is written from it after every figure.

Generated stories are cached in `--cache` (default `benchmarks/.cache/`, gitignored):
`generate.py` takes about a minute per million events.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import queue
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import generate  # noqa: E402 - after the sys.path line above

PY = sys.executable
BIN = Path(PY).parent
TIMELINE = [str(BIN / "timeline")] if (BIN / "timeline").exists() else [PY, "-m", "timeline"]
ME = [PY, str(Path(__file__).resolve())]
SEED = ROOT / "examples" / "japan-cambodia-2024.jsonl"
PG_SERVER = os.environ.get("TIMELINE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
PG_DATABASE = f"timeline_bench_{os.getpid()}"
FIGURES = ("import", "rebuild", "feeds", "pages", "serve", "add", "follow", "rss", "search", "scaling")
RSS_CAP_MB = 6000.0  # a child above this is stopped: the machine is shared (--rss-cap)
RSS_SIZE = 1_000_000  # peak RSS goals are at this size
# What an `add` cannot do without: click and the library's application and recorder.
ADD_FLOOR = {
    store: f"import click, eventsourcing.application, eventsourcing.{store}" for store in ("sqlite", "postgres")
}


# --- measuring ---------------------------------------------------------------------------


@dataclass
class Run:
    wall: float
    rss_mb: float
    rc: int
    stdout: str
    stderr: str


def rss_now_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def run(cmd: list[str], *, timeout: float = 7200, stdin: str | None = None) -> Run:
    """Run a child, return its wall time and its own peak RSS (ru_maxrss from wait4)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL, cwd=ROOT)  # fmt: skip
    bufs: dict[str, bytes] = {"out": b"", "err": b""}

    def drain(name: str, pipe: Any) -> None:  # a chatty child never blocks on a full pipe
        bufs[name] = pipe.read() if pipe else b""

    threads = [threading.Thread(target=drain, args=("out", p.stdout)),
               threading.Thread(target=drain, args=("err", p.stderr))]  # fmt: skip
    for t in threads:
        t.start()
    if stdin is not None and p.stdin:
        p.stdin.write(stdin.encode())
        p.stdin.close()
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline or rss_now_mb(p.pid) > RSS_CAP_MB:
            p.kill()
            pid, status, usage = os.wait4(p.pid, 0)
            break
        time.sleep(0.002)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    for t in threads:
        t.join()
    return Run(wall, usage.ru_maxrss / 1024, p.returncode,
               bufs["out"].decode(errors="replace"), bufs["err"].decode(errors="replace"))  # fmt: skip


def checked(cmd: list[str], **kw: Any) -> Run:
    r = run(cmd, **kw)
    if r.rc != 0:
        raise RuntimeError(f"`{' '.join(Path(c).name for c in cmd[:5])} ...` exited {r.rc}: {last_line(r.stderr)}")
    return r


def child(name: str, *args: str, **kw: Any) -> tuple[dict[str, Any], Run]:
    """One of this file's child modes; it prints its figures as JSON on its last line."""
    r = checked([*ME, "child", name, *args], **kw)
    return json.loads(r.stdout.strip().splitlines()[-1]), r


def last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:240] if lines else "(no output)"


def stats(values: list[float]) -> dict[str, Any]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def fmt(s: dict[str, Any], unit: str = "", scale: float = 1.0, digits: int = 0) -> str:
    m, lo, hi = (s[k] * scale for k in ("median", "min", "max"))
    return f"{m:,.{digits}f}{unit} ({lo:,.{digits}f}–{hi:,.{digits}f}, n={s['n']})"


def shuffled(*names: str) -> list[str]:
    order = list(names)
    random.shuffle(order)
    return order


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def remove_db(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(port: int, path: str, headers: dict[str, str] | None = None, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


@contextlib.contextmanager
def server(target: str, out: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, float]]:
    """`timeline serve` on a free port; yields (process, port, seconds until it answered)."""
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([*TIMELINE, "--db", target, "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)  # fmt: skip
    try:
        deadline = time.monotonic() + 1800
        answered = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                get(port, "/", timeout=5)
                answered = time.perf_counter() - t0
                break
            except OSError:
                time.sleep(0.01)
        if answered is None:
            raise RuntimeError(f"`timeline serve` did not answer (exit {proc.poll()})")
        yield proc, port, answered
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- stores ------------------------------------------------------------------------------


def psql(dbname: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/{dbname}", autocommit=True) as conn:
        conn.execute(statement)


def event_count(target: str) -> int:
    r = checked([PY, "-c", "import sys; from timeline import config; from timeline.app import Timeline; "
                 "a = Timeline.open(config.resolve(sys.argv[1])); print(a.event_count()); a.close()", target])  # fmt: skip
    return int(r.stdout.strip().splitlines()[-1])


@dataclass
class Row:
    figure: str
    store: str
    size: int
    measured: str
    baseline: str = "–"
    ratio: float | None = None
    goal: str = "–"
    met: bool | None = None
    commit: str = ""
    note: str = ""
    when: str = ""

    @property
    def key(self) -> str:
        return f"{self.figure}|{self.store}|{self.size}"


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(args.workdir)
        self.cache = Path(args.cache)
        self.work.mkdir(parents=True, exist_ok=True)
        self.cache.mkdir(parents=True, exist_ok=True)
        self.results_path = self.work / "results.json"
        old = {} if args.fresh or not self.results_path.exists() else json.loads(self.results_path.read_text())
        self.rows: dict[str, dict[str, Any]] = old.get("rows", {})
        self.extra: dict[str, Any] = old.get("extra", {})
        self.commit = code_version()
        self.machine = machine()
        self.pg_created = False
        self.targets: dict[tuple[str, int], str] = {}

    # -- bookkeeping --
    def add(self, row: Row) -> None:
        row.commit = row.commit or code_version()  # the code on disk now: a long run may outlive a rebase
        row.when = datetime.now(UTC).isoformat(timespec="seconds")
        self.rows[row.key] = asdict(row)
        self.save()

    def not_measured(self, figure: str, store: str, size: int, why: str, goal: str = "–") -> None:
        why = " ".join(why.replace("|", "/").split())  # one table cell
        log(f"{figure} {store} {size:,}: not measured: {why}")
        self.add(Row(figure, store, size, f"not measured: {why}", goal=goal))

    def note(self, key: str, value: Any) -> None:
        self.extra[key] = {"value": value, "commit": self.commit, "when": now()}
        self.save()

    def save(self) -> None:
        doc = {"rows": self.rows, "extra": self.extra, "machine": self.machine}
        self.results_path.write_text(json.dumps(doc, indent=1, default=str))
        write_markdown(merged(doc, self.args.merge), Path(self.args.out))

    # -- data --
    def story(self, n: int) -> Path:
        path = self.cache / f"story-{n}-seed6.jsonl"
        if not path.exists():
            t0 = time.perf_counter()
            tmp = path.with_suffix(".part")
            generate.write(n, tmp)
            tmp.rename(path)
            log(f"generated {n:,} events in {time.perf_counter() - t0:.0f} s into {path}")
        return path

    def pg_database(self) -> str:
        if not self.pg_created:
            psql("postgres", f'CREATE DATABASE "{PG_DATABASE}"')
            self.pg_created = True
        return f"{PG_SERVER}/{PG_DATABASE}"

    def fresh_target(self, store: str, name: str) -> str:
        if store == "sqlite":
            db = self.work / f"{name}.db"
            remove_db(db)
            return str(db)
        base = self.pg_database()
        schema = name.replace("-", "_")
        psql(PG_DATABASE, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        psql(PG_DATABASE, f'CREATE SCHEMA "{schema}"')
        return f"{base}?schema={schema}"

    def target(self, store: str, n: int) -> str:
        """A log of n generated events with its views caught up (made once per run)."""
        if (store, n) not in self.targets:
            t = self.fresh_target(store, f"log-{store}-{n}")
            t0 = time.perf_counter()
            checked([*TIMELINE, "--db", t, "import", str(self.story(n))])
            checked([*ME, "child", "catch-up", t])
            log(f"{store} {n:,}: prepared in {time.perf_counter() - t0:.0f} s")
            self.targets[(store, n)] = t
        return self.targets[(store, n)]

    def close(self) -> None:
        if self.pg_created:
            psql("postgres", f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')

    # -- figures --
    def rounds(self, n: int) -> int:
        return self.args.rounds if n <= 100_000 else 1

    def guarded(self, figure: str, store: str, n: int, fn: Callable[[], None], goal: str = "–") -> None:
        try:
            fn()
        except Exception as e:  # one failed figure must not lose the others
            self.not_measured(figure, store, n, f"{type(e).__name__}: {str(e)[:300]}", goal)
        else:  # measured now: an earlier run's failure of this figure is no longer news
            if self.rows.get(f"{figure}|{store}|{n}", {}).get("measured", "").startswith("not measured"):
                del self.rows[f"{figure}|{store}|{n}"]
                self.save()

    def import_(self, store: str, n: int) -> None:
        """HOOK: `benchmarks/import_bench.py` (issue 16's import work) measures import against
        the library's recorder and raw sqlite3; this only files its figures."""
        goal = "≥ 0.33×" if store == "sqlite" else "finishes; ≥ 0.6×"
        try:
            import import_bench  # type: ignore[import-not-found]
        except ImportError:
            return self.not_measured("import", store, n, "benchmarks/import_bench.py has not landed (hook)", goal)
        work = self.work / "import"
        work.mkdir(exist_ok=True)
        link = work / f"story-{n}.jsonl"  # the file it would otherwise generate again
        if not link.exists():
            link.symlink_to(self.story(n))
        res = import_bench.measure([n], self.rounds(n), stores=(store,), work=work, log=log)
        f = res[store][str(n)]
        s = f["seconds"]
        events = f["events"]
        per = {k: f["us_per_event"][k] for k in f["us_per_event"]}
        self.add(Row("import", store, n, f"{fmt(s['import'], ' s', digits=2)}; {per['import']:.0f} µs/event",
                     f"library's recorder, ready events: {fmt(s['library'], ' s', digits=2)}; {per['library']:.0f} µs/event",
                     f["ratio_vs_library"], goal, f["ratio_vs_library"] >= (0.33 if store == "sqlite" else 0.6),
                     res.get("commit", ""), f"{events:,} events"
                     + (f"; CPU of this client only: {f['cpu_ratio_vs_library']:.2f}×" if "cpu_ratio_vs_library" in f else "")))  # fmt: skip
        if "ratio_vs_raw" in f:
            self.add(Row("import vs raw sqlite3 (report)", store, n, f"{per['import']:.0f} µs/event",
                         f"raw sqlite3, real keys, one transaction: {fmt(s['raw'], ' s', digits=2)}; {per['raw']:.0f} µs/event",
                         f["ratio_vs_raw"], "report", None, res.get("commit", "")))  # fmt: skip
        rss = f.get("import_rss_mb") or (f.get("rss_mb") or {}).get("import")
        self.extra.setdefault("import_rss", {})[f"{store}|{n}"] = rss
        self.save()

    def rebuild(self, store: str, n: int) -> None:
        """HOOK: `benchmarks/rebuild_bench.py` (issue 16's views work) measures rebuild
        against read + decode + executemany of the same rows; this only files its figures."""
        try:
            import rebuild_bench  # type: ignore[import-not-found]
        except ImportError:
            return self.not_measured("rebuild", store, n, "benchmarks/rebuild_bench.py has not landed (hook)", "≥ 0.6×")
        f = rebuild_bench.measure_one(store, n, self.rounds(n), self.work / "rebuild")
        us, floor = f["rebuild_us_per_event"], f["floor_us_per_event"]
        self.add(Row("rebuild", store, n, f"{fmt(us, ' µs/event')}", f"read + decode + executemany of the same rows, "
                     f"same indexes: {fmt(floor, ' µs/event')}", f["ratio"], "≥ 0.6×", f["ratio"] >= 0.6))  # fmt: skip
        stored, written = f["stored_bytes_per_event"], f["written_bytes_per_event"]["median"]
        self.add(Row("views stored / written per event", store, n, f"{stored:,.0f} B stored; {written:,.0f} B written",
                     f"floor writes {f['floor_written_bytes_per_event']['median']:,.0f} B", None,
                     "≤ 1,500 B stored, ≤ 3,000 B written", stored <= 1500 and written <= 3000))  # fmt: skip

    def feeds(self, store: str, n: int) -> None:
        """A full build into an empty folder against the floor: read the same members through
        the views' read interface and write the same bytes (held in memory beforehand)."""
        t = self.target(store, n)
        out, floor_out = self.work / f"feeds-{store}-{n}", self.work / f"floor-{store}-{n}"
        builds, floors, rss = [], [], []
        for _ in range(self.rounds(n)):
            for what in shuffled("build", "floor"):
                if what == "build":
                    shutil.rmtree(out, ignore_errors=True)
                    r = checked(
                        [*TIMELINE, "--db", t, "feeds", "build", "--out", str(out)], timeout=self.args.feeds_timeout
                    )
                    builds.append(r.wall)
                    rss.append(r.rss_mb)
                elif out.exists():
                    shutil.rmtree(floor_out, ignore_errors=True)
                    figures, _ = child("feeds-floor", t, str(out), str(floor_out))
                    floors.append(figures["seconds"])
            log(f"{store} {n:,}: feeds build {builds[-1]:.1f} s, floor {floors[-1] if floors else float('nan'):.1f} s")
        if not floors:  # the floor ran before the first build had written anything to copy
            shutil.rmtree(floor_out, ignore_errors=True)
            floors.append(child("feeds-floor", t, str(out), str(floor_out))[0]["seconds"])
        files, size = folder_size(out)
        ratio = statistics.median(floors) / statistics.median(builds)
        goal = "≥ 0.15×" + ("; < 300 s" if n >= RSS_SIZE else "")
        met = ratio >= 0.15 and (n < RSS_SIZE or statistics.median(builds) < 300)
        self.add(Row("full `feeds build`", store, n, fmt(stats(builds), " s", digits=1),
                     f"read the same members, write the same bytes: {fmt(stats(floors), ' s', digits=1)}",
                     ratio, goal, met, note=f"{files:,} files, {size / 1e6:,.0f} MB"))  # fmt: skip
        self.extra.setdefault("feeds_rss", {})[f"{store}|{n}"] = stats(rss)
        shutil.rmtree(floor_out, ignore_errors=True)
        self.save()

    def pages(self, store: str, n: int) -> None:
        """Issue 14: the story page's weight, and the pages' build time against the feeds'
        own in the same build (a child times `feeds.page.site_outputs` inside the build)."""
        t = self.target(store, n)
        out = self.work / f"pages-{store}-{n}"
        walls, pages = [], []
        for _ in range(self.args.rounds):
            shutil.rmtree(out, ignore_errors=True)
            figures, _ = child("pages", t, str(out), timeout=self.args.feeds_timeout)
            walls.append(figures["build"])
            pages.append(figures["pages"])
        feeds_own = [w - p for w, p in zip(walls, pages, strict=True)]
        self.add(Row("story pages' build time", store, n, fmt(stats(pages), " s", digits=2),
                     f"the feeds' own build, same run: {fmt(stats(feeds_own), ' s', digits=2)}",
                     statistics.median(pages) / statistics.median(feeds_own), "report (issue 14)", None,
                     note="time inside feeds.page.site_outputs; the rest of the build is the feeds'"))  # fmt: skip
        self.extra.setdefault("page_weight", {})[f"{store}|{n}"] = page_weight(out)
        shutil.rmtree(out, ignore_errors=True)
        self.save()

    def page_weight_seed(self) -> None:
        t = self.fresh_target("sqlite", "seed")
        checked([*TIMELINE, "--db", t, "import", str(SEED)])
        out = self.work / "pages-seed"
        shutil.rmtree(out, ignore_errors=True)
        checked([*TIMELINE, "--db", t, "feeds", "build", "--out", str(out)])
        self.extra.setdefault("page_weight", {})["sqlite|seed"] = page_weight(out)
        self.save()

    def serve(self, store: str, n: int) -> None:
        """First start on a folder with nothing built: time until it answers, and what it
        answers for the story page and the story feed meanwhile."""
        t = self.target(store, n)
        starts, statuses = [], {}
        for _ in range(self.args.rounds if n <= 100_000 else 2):
            out = self.work / f"serve-{store}-{n}"
            shutil.rmtree(out, ignore_errors=True)
            with server(t, out) as (_, port, answered):
                starts.append(answered)
                for path in ("/", "/story.atom"):
                    code, headers, _ = get(port, path)
                    statuses[path] = f"{code}" + (
                        f" (Retry-After: {headers['retry-after']})" if "retry-after" in headers else ""
                    )
        s = stats(starts)
        self.add(Row("`serve` first start, nothing built", store, n, fmt(s, " s", digits=2), "–", None,
                     "< 2 s" if n >= RSS_SIZE else "< 2 s (goal at 1M)", s["median"] < 2,
                     note="first answers: " + ", ".join(f"{p} → {c}" for p, c in statuses.items())))  # fmt: skip

    def add_one(self, store: str, n: int) -> None:
        t = self.target(store, n)
        adds, base, floor = [], [], []
        for i in range(max(self.args.rounds, 10)):
            for what in shuffled("add", "pass", "floor"):
                if what == "pass":
                    base.append(checked([PY, "-c", "pass"]).wall)
                elif what == "floor":  # what any `add` through the library and click must import
                    floor.append(checked([PY, "-c", ADD_FLOOR[store]]).wall)
                else:
                    adds.append(checked([*TIMELINE, "--db", t, "add", "statement", "--title", f"Benchmark add {i} {uuid.uuid4()}",
                                         "--occurred", "6 July 2024", "--speaker", "Hun Manet", "--quote", "We welcome it.",
                                         "--source", f"https://news.example.org/add/{uuid.uuid4()}"]).wall)  # fmt: skip
        ratio = statistics.median(adds) / statistics.median(base)
        goal = "≤ 4×" if store == "sqlite" else "report"
        self.add(Row("one `add`", store, n, fmt(stats(adds), " ms", 1000), "`python -c pass`: " + fmt(stats(base), " ms", 1000),
                     ratio, goal, ratio <= 4 if store == "sqlite" else None))  # fmt: skip
        self.add(Row("one `add` vs its imports (report)", store, n, fmt(stats(adds), " ms", 1000),
                     f"`python -c \"{ADD_FLOOR[store]}\"`: " + fmt(stats(floor), " ms", 1000),
                     statistics.median(adds) / statistics.median(floor), "report", None,
                     note=f"the imports alone are {statistics.median(floor) / statistics.median(base):.1f}× `python -c pass`"))  # fmt: skip

    def follow(self, store: str, n: int) -> None:
        """`log --follow` in its own process; this process appends one event at a time
        through the application and times from the append's start (so its own transaction
        counts too: the commit cannot be seen from here) to the follower's line arriving. 100 appends, 20–60 ms apart (on SQLite 20, up to 0.6 s
        apart, so that they do not fall in step with its polls)."""
        t = self.target(store, n)
        count = 100 if store == "postgres" else 20
        figures, _ = child("follow", t, str(count), "0.06" if store == "postgres" else "0.6", timeout=600)
        lat = stats(figures["latency"])
        goal = "< 100 ms" if store == "postgres" else "report (polls every 0.5 s)"
        p90 = statistics.quantiles(figures["latency"], n=10)[-1] * 1000
        self.add(Row("`log --follow`: append started → line printed", store, n, fmt(lat, " ms", 1000, 1), "–", None,
                     goal, lat["median"] < 0.1 if store == "postgres" else None,
                     note=f"p90 {p90:.1f} ms; the append itself (its transaction) {statistics.median(figures['appends']) * 1000:.1f} ms"))  # fmt: skip

    def rss(self, store: str, n: int) -> None:
        """Peak RSS at the largest size: import (from the import figure), rebuild (a
        `timeline rebuild` child here), feeds build (from the feeds figure)."""
        t = self.target(store, n)
        r = checked([*TIMELINE, "--db", t, "rebuild"], timeout=self.args.feeds_timeout)
        got = {"rebuild": {"median": r.rss_mb, "min": r.rss_mb, "max": r.rss_mb, "n": 1}}
        if imp := (self.extra.get("import_rss") or {}).get(f"{store}|{n}"):
            got["import"] = imp
        if fd := (self.extra.get("feeds_rss") or {}).get(f"{store}|{n}"):
            got["feeds build"] = fd
        for what, s in got.items():
            self.add(Row(f"peak RSS of `{what}`", store, n, fmt(s, " MB"), "–", None, "< 300 MB", s["median"] < 300,
                         note=f"rebuild took {r.wall:.0f} s" if what == "rebuild" else ""))  # fmt: skip

    def search(self, store: str, n: int) -> None:
        t = self.target(store, n)
        figures, _ = child("search", t, str(max(self.args.rounds, 5)), timeout=3600)
        fts = [q["search_ms"] for q in figures["queries"]]
        like = [q["like_all_ms"] for q in figures["queries"]]  # a scan finds every match, as ranking must
        ratio = statistics.median(fts) / statistics.median(like)
        devs = figures["developments"]
        self.add(Row("`search`, median over the queries", store, n, f"{statistics.median(fts):,.2f} ms ({min(fts):,.2f}–{max(fts):,.2f})",
                     f"LIKE scan of the same table, every match: {statistics.median(like):,.2f} ms ({min(like):,.2f}–{max(like):,.2f})",
                     ratio, "report (issue 15)", None,
                     note=f"{devs:,} developments; index {figures['index_bytes'] / max(devs, 1):,.0f} B per development"))  # fmt: skip
        self.extra.setdefault("search", {})[f"{store}|{n}"] = figures
        self.save()

    def scaling(self, store: str, n: int) -> None:
        """docs/scaling.md: appends per second with 1, 2 and 4 concurrent writer processes
        (single events, as `add` makes them), and bytes on the wire per subscriber poll."""
        t = self.target(store, n)
        rates = {}
        for writers in (1, 2, 4):
            start = time.time() + 3  # every writer begins at once, after its start-up
            procs = [subprocess.Popen([*ME, "child", "appends", t, str(start), "5", f"w{writers}-{i}"],
                                      stdout=subprocess.PIPE, text=True, cwd=ROOT) for i in range(writers)]  # fmt: skip
            done = [json.loads(p.communicate(timeout=120)[0].strip().splitlines()[-1]) for p in procs]
            rates[writers] = sum(d["appends"] for d in done) / max(d["seconds"] for d in done)
            log(f"{store} {n:,}: {writers} writers → {rates[writers]:,.0f} appends/s")
        self.note(f"appends|{store}|{n}", rates)
        self.add(Row("appends/s, concurrent writers (1 / 2 / 4)", store, n,
                     " / ".join(f"{r:,.0f}" for r in rates.values()), "–", None, "report (docs/scaling.md)", None))  # fmt: skip
        if store == "sqlite" and n == min(self.args.size_list):
            self.poll_bytes(t, n)

    def poll_bytes(self, t: str, n: int) -> None:
        out = self.work / f"feeds-sqlite-{n}"  # the feeds figure's build, when it ran
        checked([*TIMELINE, "--db", t, "feeds", "build", "--out", str(out)], timeout=self.args.feeds_timeout)
        with server(t, out) as (_, port, _answered):
            code, headers, body = get(port, "/story.atom")
            cond = {k: v for k, v in (("If-None-Match", headers.get("etag")), ("If-Modified-Since", headers.get("last-modified"))) if v}  # fmt: skip
            full = wire_bytes(port, "/story.atom", {})
            notmod = wire_bytes(port, "/story.atom", cond)
        self.note("poll_bytes", {"size": n, "status": code, "body": len(body), "full": full, "not_modified": notmod})
        self.add(Row("bytes per subscriber poll of /story.atom (304 / 200)", "sqlite", n,
                     f"{notmod['request'] + notmod['response']:,} B / {full['request'] + full['response']:,} B",
                     "–", None, "report (docs/scaling.md)", None,
                     note=f"request {notmod['request']} B + response {notmod['response']} B with validators"))  # fmt: skip


def wire_bytes(port: int, path: str, headers: dict[str, str]) -> dict[str, int]:
    """Bytes of one GET on the wire, both ways, as a feed reader sends it (HTTP/1.1)."""
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "User-Agent: FeedReader/1.0", "Accept: */*",
             *(f"{k}: {v}" for k, v in headers.items()), "Connection: close", "", ""]  # fmt: skip
    request = "\r\n".join(lines).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(request)
        got = b""
        while chunk := s.recv(65536):
            got += chunk
    return {"request": len(request), "response": len(got), "status": int(got.split(b" ", 2)[1])}


def folder_size(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def page_weight(out: Path) -> dict[str, Any]:
    """index.html and the local assets it loads (the page makes no other request)."""
    html = (out / "index.html").read_bytes() if (out / "index.html").exists() else b""
    assets = {
        name: (out / name).stat().st_size
        for name in ("page.css", "page.js")
        if (out / name).exists() and name.encode() in html
    }
    pages = [*out.glob("pages/index/*.html"), out / "index.html"]  # older pages, then the newest (feeds.page)
    return {"html": len(html), "assets": assets, "total": len(html) + sum(assets.values()), "story_pages": len(pages),
            "articles": html.count(b"<article")}  # fmt: skip


# --- child modes (run in their own process by the figures above) ----------------------------


def open_app(target: str) -> Any:
    from timeline import config
    from timeline.app import Timeline

    return Timeline.open(config.resolve(target))


def child_catch_up(target: str) -> dict[str, Any]:
    from timeline.views.runner import Views

    app = open_app(target)
    Views(app).catch_up()
    app.close()
    return {}


def child_feeds_floor(target: str, built: str, out: str) -> dict[str, Any]:
    """Every feed's members read through the views' read interface, as a first build reads
    them (the story's, each topic's and each actor's, in recording order), and every file
    the build wrote written again with the same bytes."""
    from timeline.views import queries

    src = Path(built)
    files = {p.relative_to(src): p.read_bytes() for p in src.rglob("*") if p.is_file()}
    app = open_app(target)
    sql = app.sql()
    start = time.perf_counter()
    feeds: list[tuple[str | None, str | None]] = [(None, None)]
    feeds += [(facet, row["slug"]) for facet in ("topic", "actor") for row in queries.facet_counts(sql, facet)]
    members = sum(1 for facet, slug in feeds for _ in queries.iter_feed_recorded(sql, facet, slug, 0))
    dest = Path(out)
    for rel, data in files.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    seconds = time.perf_counter() - start
    app.close()
    return {"seconds": seconds, "feeds": len(feeds), "members": members, "files": len(files)}


def child_pages(target: str, out: str) -> dict[str, Any]:
    """`feeds build` in this process, with the time spent inside the pages' generator summed."""
    import feeds.page
    from timeline.cli import cli

    original = feeds.page.site_outputs
    spent = [0.0]

    def timed(*args: Any, **kwargs: Any) -> Iterator[tuple[str, bytes]]:
        gen = original(*args, **kwargs)
        while True:
            t0 = time.perf_counter()
            try:
                item = next(gen)
            except StopIteration:
                spent[0] += time.perf_counter() - t0
                return
            spent[0] += time.perf_counter() - t0
            yield item

    feeds.page.site_outputs = timed  # type: ignore[assignment]
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(sys.stderr), contextlib.suppress(SystemExit):
            cli.main(["--db", target, "feeds", "build", "--out", out], standalone_mode=False)
    finally:
        feeds.page.site_outputs = original
    return {"build": time.perf_counter() - start, "pages": spent[0]}


def child_follow(target: str, count: str, gap: str) -> dict[str, Any]:
    app = open_app(target)
    head = app.event_count()
    follower = subprocess.Popen([*TIMELINE, "--db", target, "log", "--follow", "--json", "--from", f"#{head}"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT)  # fmt: skip
    arrived: queue.Queue[tuple[float, bytes]] = queue.Queue()

    def read() -> None:
        assert follower.stdout is not None
        for line in follower.stdout:
            arrived.put((time.perf_counter(), line))

    threading.Thread(target=read, daemon=True).start()
    latency: list[float] = []
    appends: list[float] = []
    try:
        time.sleep(3)  # the follower's start-up and its LISTEN
        for i in range(int(count)):
            report = app.read_report({"kind": "statement", "id": f"bench/follow/{uuid.uuid4()}", "title": f"Followed {i}",
                                      "occurred": "6 July 2024", "speaker": "Hun Manet", "quote": "We welcome it.",
                                      "sources": [{"url": f"https://news.example.org/follow/{uuid.uuid4()}"}]})  # fmt: skip
            started = time.perf_counter()
            app.record(report)
            appends.append(time.perf_counter() - started)
            when, line = arrived.get(timeout=30)
            assert json.loads(line)["data"]["fields"]["title"] == f"Followed {i}", line
            latency.append(when - started)
            time.sleep(random.uniform(0.02, float(gap)))  # not in step with a polling follower
    finally:
        follower.kill()
        follower.wait()
        app.close()
    return {"latency": latency, "appends": appends}


def child_search(target: str, repeat: str) -> dict[str, Any]:
    import search as bench_search

    from timeline.views import search as index

    app = open_app(target)
    sql = app.sql()
    queries = []
    for text in bench_search.QUERIES:
        q = index.Query.read(text)
        word = text.split()[0].rstrip("*")
        queries.append({"query": text, "matches": bench_search.count(sql, q),
                        "search_ms": bench_search.median_ms(lambda q=q: index.search(sql, q), int(repeat)),
                        "like_ms": bench_search.median_ms(lambda w=word: index.like_scan(sql, w), int(repeat)),
                        "like_all_ms": bench_search.median_ms(lambda w=word: index.like_scan(sql, w, limit=10**9), int(repeat))})  # fmt: skip
    size, devs = bench_search.size_bytes(app)
    app.close()
    return {"queries": queries, "index_bytes": size, "developments": devs}


def child_appends(target: str, start_at: str, seconds: str, tag: str) -> dict[str, Any]:
    app = open_app(target)
    raw = [{"kind": "statement", "id": f"bench/append/{tag}/{i}/{uuid.uuid4()}", "title": f"Append {tag} {i}",
            "occurred": "6 July 2024", "speaker": "Hun Manet", "quote": "We welcome it.",
            "sources": [{"url": f"https://news.example.org/append/{tag}/{i}/{uuid.uuid4()}"}]} for i in range(20_000)]  # fmt: skip
    time.sleep(max(0.0, float(start_at) - time.time()))
    t0 = time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < float(seconds) and n < len(raw):
        app.record(app.read_report(raw[n]))
        n += 1
    elapsed = time.perf_counter() - t0
    app.close()
    return {"appends": n, "seconds": elapsed}


CHILDREN: dict[str, Callable[..., dict[str, Any]]] = {
    "catch-up": child_catch_up, "feeds-floor": child_feeds_floor, "pages": child_pages,
    "follow": child_follow, "search": child_search, "appends": child_appends,
}  # fmt: skip


# --- report ------------------------------------------------------------------------------


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def machine() -> dict[str, str]:
    from importlib.metadata import version

    cpu, mem = "unknown", "unknown"
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        )
        kb = next(
            int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal")
        )
        mem = f"{kb / 2**20:.1f} GiB"
    pg = "unknown"
    with contextlib.suppress(Exception):
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", connect_timeout=3) as conn:
            pg = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    return {"nproc": str(os.cpu_count()), "cpu": cpu, "memory": mem, "python": platform.python_version(),
            "eventsourcing": version("eventsourcing"), "sqlite": sqlite3.sqlite_version, "postgres": pg,
            "os": platform.platform(), "date": now(), "code": code_version(),
            "load": " ".join(f"{x:.1f}" for x in os.getloadavg())}  # fmt: skip


def code_version() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "events", "timeline", "feeds"], cwd=ROOT,
                               capture_output=True, text=True, check=False).stdout.strip()  # fmt: skip
    except OSError:
        return "unknown"
    return head + ("+uncommitted" if dirty else "")


ORDER = ["import", "import vs raw sqlite3 (report)", "rebuild", "views stored / written per event", "full `feeds build`",
         "`serve` first start, nothing built", "one `add`", "one `add` vs its imports (report)", "`log --follow`: append started → line printed",
         "peak RSS of `import`", "peak RSS of `rebuild`", "peak RSS of `feeds build`", "story pages' build time",
         "`search`, median over the queries", "appends/s, concurrent writers (1 / 2 / 4)",
         "bytes per subscriber poll of /story.atom (304 / 200)"]  # fmt: skip


def merged(doc: dict[str, Any], others: str) -> dict[str, Any]:
    """This run's results with those of runs in other work folders (`--merge`), run at the
    same time so as not to share one results file: the later measurement of a row wins."""
    rows, extra = dict(doc["rows"]), dict(doc["extra"])
    for folder in filter(None, others.split(",")):
        path = Path(folder) / "results.json"
        if not path.exists():
            continue
        other = json.loads(path.read_text())
        for key, row in other["rows"].items():
            if key not in rows or row.get("when", "") > rows[key].get("when", ""):
                rows[key] = row
        for key, value in other["extra"].items():
            if isinstance(value, dict) and isinstance(extra.get(key), dict) and "value" not in value:
                extra[key] = {**value, **extra[key]}
            else:
                extra.setdefault(key, value)
    return {**doc, "rows": rows, "extra": extra}


def ratio_text(r: float | None) -> str:
    return "–" if r is None else f"{r:.2f}×" if r >= 0.1 else f"{r:.2g}×"


def section(title: str, *columns: str) -> list[str]:
    """A heading and a table's first two lines."""
    return [f"## {title}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]


def write_markdown(doc: dict[str, Any], out: Path) -> None:
    rows = sorted(doc["rows"].values(), key=lambda r: (ORDER.index(r["figure"]) if r["figure"] in ORDER else 99,
                                                       r["store"] != "sqlite", r["size"]))  # fmt: skip
    m = doc["machine"]
    table = ["| figure | store | events | measured | baseline (same run) | ratio | goal | met? | commit | note |",
             "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        met = "–" if r["met"] is None else "yes" if r["met"] else "**no**"
        table.append(f"| {r['figure']} | {r['store']} | {r['size']:,} | {r['measured']} | {r['baseline']} | "
                     f"{ratio_text(r['ratio'])} | {r['goal']} | {met} | {r['commit']} | {r['note']} |")  # fmt: skip
    extra = doc.get("extra", {})
    lines = [
        "# Benchmarks",
        "",
        "Written by `nox -s bench` (`python benchmarks/run.py`) from `results.json` in its work folder. Every goal",
        "is a ratio against a baseline run beside it in the same run; a figure and its baseline alternate in",
        "shuffled order within each round. Measured values are medians (min–max, n = rounds). Commands are child",
        "processes timed from the parent, start-up included, unless the note says otherwise; peak RSS is the",
        "child's `ru_maxrss`. Children run with bytecode caching on (`PYTHONDONTWRITEBYTECODE` is removed from",
        "their environment and the project is compiled first), as an installed package runs.",
        "",
        "**Taken on a shared, busy machine**: 2 CPUs used by about five engineers at once (load average at the",
        f"start of the last run: {m.get('load', '?')}). Absolute times move with the load; the ratios are what to compare.",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']}; {m['os']}.  ",
        f"Versions: Python {m['python']}, eventsourcing {m['eventsourcing']}, SQLite {m['sqlite']}, PostgreSQL {m['postgres']}.  ",
        f"Last run: {m['date']} on {m['code']}; each row names the commit it was measured on.",
        "",
        "## Goals (issue 16) and the other figures",
        "",
        *table,
        "",
    ]
    pw = extra.get("page_weight", {})
    if pw:
        lines += section("Story page weight (issue 14)", "log", "index.html", "assets it loads", "total",
                         "story pages (200 developments each)", "developments on index.html (the newest page)")  # fmt: skip
        for key, w in pw.items():
            assets = ", ".join(f"{k} {v:,} B" for k, v in w["assets"].items()) or "–"
            lines.append(
                f"| {key.replace('|', ' ')} | {w['html']:,} B | {assets} | {w['total']:,} B | {w['story_pages']} | {w['articles']} |"
            )
        lines.append("")
    se = extra.get("search", {})
    if se:
        lines += section("Search, per query (issue 15)", "store, events", "query", "matches",
                         "search (top 20 by rank)", "LIKE, first 20", "LIKE, every match")  # fmt: skip
        for key, f in se.items():
            for q in f["queries"]:
                lines.append(f"| {key.replace('|', ' ')} | `{q['query']}` | {q['matches']:,} | {q['search_ms']:,.2f} ms | "
                             f"{q['like_ms']:,.2f} ms | {q['like_all_ms']:,.2f} ms |")  # fmt: skip
        lines.append("")
    notes = ROOT / "benchmarks" / "NOTES.md"
    if notes.exists():
        lines += [notes.read_text().rstrip(), ""]
    out.write_text("\n".join(lines))


# --- main --------------------------------------------------------------------------------


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "child":
        print(json.dumps(CHILDREN[sys.argv[2]](*sys.argv[3:])))
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10000,100000,1000000", help="Log sizes on SQLite.")
    p.add_argument("--pg-sizes", default="10000,100000", help="Log sizes on PostgreSQL ('' for none).")
    p.add_argument("--figures", default=",".join(FIGURES), help=f"Some of: {','.join(FIGURES)}.")
    p.add_argument("--rounds", type=int, default=3, help="Rounds up to 100,000 events (1–2 above).")
    p.add_argument("--pages-sizes", default="10000", help="Sizes for the story pages' figures (issue 14).")
    p.add_argument("--search-sizes", default="10000,1000000", help="Sizes for the search figures (issue 15).")
    p.add_argument("--scaling-sizes", default="10000", help="Sizes for docs/scaling.md's appends and poll bytes.")
    p.add_argument("--fresh", action="store_true", help="Forget the rows of earlier runs in the work folder.")
    p.add_argument("--merge", default="", help="Work folders of other runs whose rows BENCHMARKS.md shows too.")
    p.add_argument("--report", action="store_true", help="Only write BENCHMARKS.md from the results (and --merge).")
    p.add_argument("--feeds-timeout", type=float, default=3600.0)
    p.add_argument("--rss-cap", type=float, default=RSS_CAP_MB, help="Stop a child whose RSS passes this (MB).")
    p.add_argument("--workdir", default=os.environ.get("TIMELINE_BENCH_DIR", "/tmp/timeline-bench"))
    p.add_argument("--cache", default=str(HERE / ".cache"), help="Generated stories, kept between runs.")
    p.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = p.parse_args()
    globals()["RSS_CAP_MB"] = args.rss_cap
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # children run from bytecode, as installed code does
    subprocess.run(
        [PY, "-m", "compileall", "-q", "events", "timeline", "feeds"], cwd=ROOT, capture_output=True, check=False
    )
    args.size_list = sorted(int(s) for s in args.sizes.split(",") if s)
    pg_sizes = sorted(int(s) for s in args.pg_sizes.split(",") if s)
    want = [f for f in args.figures.split(",") if f]
    unknown = set(want) - set(FIGURES)
    if unknown:
        p.error(f"unknown figures {sorted(unknown)}; choose from {','.join(FIGURES)}")
    only = {"pages": {int(s) for s in args.pages_sizes.split(",") if s},
            "search": {int(s) for s in args.search_sizes.split(",") if s},
            "scaling": {int(s) for s in args.scaling_sizes.split(",") if s},
            "rss": {n for n in args.size_list if n >= RSS_SIZE}}  # fmt: skip
    # A timeout's or kill's SIGTERM still drops the PostgreSQL database (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    bench = Bench(args)
    if args.report:
        bench.save()
        return
    methods = {"import": bench.import_, "rebuild": bench.rebuild, "feeds": bench.feeds, "pages": bench.pages,
               "serve": bench.serve, "add": bench.add_one, "follow": bench.follow, "rss": bench.rss,
               "search": bench.search, "scaling": bench.scaling}  # fmt: skip
    try:
        if "pages" in want:
            bench.guarded("pages", "sqlite", 0, bench.page_weight_seed)
        plan = [(store, n) for n in sorted(set(args.size_list) | set(pg_sizes)) for store in ("sqlite", "postgres")
                if n in (args.size_list if store == "sqlite" else pg_sizes)]  # fmt: skip
        for store, n in plan:
            for figure in want:
                if figure in only and n not in only[figure]:
                    continue
                if figure == "follow" and store == "sqlite" and n != args.size_list[0]:
                    continue  # SQLite's follower polls: one size says it
                log(f"{figure} {store} {n:,}")
                bench.guarded(figure, store, n, lambda f=figure, s=store, k=n: methods[f](s, k))
            bench.targets.pop((store, n), None)
    finally:
        bench.close()
        bench.save()
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()

"""Benchmarks: every figure as a ratio against a baseline measured in the same run.

    python benchmarks/run.py [--quick] [--sizes 10,10000,100000,1000000] [--repeats 3]
                             [--big-repeats 1] [--workdir DIR] [--out BENCHMARKS.md]

Generated stories and databases live under a temporary directory (default
/tmp/timeline-bench), never in the repository. Every command is a child process: wall time
from the parent, peak RSS from os.wait4 (ru_maxrss of that child). Results are written to
BENCHMARKS.md after each size, and to results.json in the work directory.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
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
BASE = [PY, str(HERE / "baselines.py")]
BIG = 100_001  # sizes at or above this use --big-repeats
REPLAY_REFERENCE = "10000"  # replay's peak RSS is compared with its peak at this size


# --- measuring ---------------------------------------------------------------------------


@dataclass
class Run:
    wall: float
    rss_mb: float
    rc: int
    stdout: str
    stderr: str


RSS_CAP_MB = 6000.0  # a child above this is stopped: the machine is shared (set by --rss-cap)


def rss_now_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def run(cmd: list[str], *, timeout: float = 3600, capture: bool = True) -> Run:
    """Run a child, return its wall time and its own peak RSS (ru_maxrss from wait4)."""
    t0 = time.perf_counter()
    out = subprocess.PIPE if capture else subprocess.DEVNULL
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=ROOT)
    # Drain pipes in threads so a chatty child never blocks; reap with wait4 for rusage.
    bufs: dict[str, bytes] = {"out": b"", "err": b""}

    def drain(name: str, pipe: Any) -> None:
        bufs[name] = pipe.read() if pipe else b""

    threads = [
        threading.Thread(target=drain, args=("out", p.stdout)),
        threading.Thread(target=drain, args=("err", p.stderr)),
    ]
    for t in threads:
        t.start()
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
        raise RuntimeError(f"{' '.join(cmd[:6])} ... exited {r.rc}: {first_line(r.stderr)}")
    return r


def first_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:200] if lines else "(no output)"


def stats(values: list[float]) -> dict[str, Any]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def remove_db(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def event_count(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT max(rowid) FROM stored_events").fetchone()[0] or 0)
    finally:
        conn.close()


def has_command(*words: str) -> str | None:
    """None if `timeline WORDS --help` works, else why not."""
    r = run([*TIMELINE, *words, "--help"])
    return None if r.rc == 0 else f"`timeline {' '.join(words)}` is not available ({first_line(r.stderr)})"


# --- figures -----------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(args.workdir)
        (self.work / "data").mkdir(parents=True, exist_ok=True)
        self.results: dict[str, Any] = {"sizes": {}, "notes": []}
        self.add_counter = 0

    def repeats(self, n: int) -> int:
        return self.args.big_repeats if n >= BIG else self.args.repeats

    def story(self, n: int) -> Path:
        path = self.work / "data" / f"story-{n}-seed6.jsonl"
        if not path.exists():
            t0 = time.perf_counter()
            tmp = path.with_suffix(".part")
            generate.write(n, tmp)
            tmp.rename(path)
            log(f"generated {n:,} events in {time.perf_counter() - t0:.1f}s")
        return path

    def size(self, n: int) -> None:
        res: dict[str, Any] = {}
        self.results["sizes"][str(n)] = res
        story = self.story(n)
        db = self.work / f"timeline-{n}.db"
        reps = self.repeats(n)

        want = set(self.args.figures.split(","))
        if "import" not in want and db.exists():
            res["events"] = event_count(db)
            self.size_rest(n, story, db, res, want)
            return
        # import vs raw sqlite3 in one transaction
        walls, rss, base = [], [], []
        for _ in range(reps):
            raw = self.work / f"raw-{n}.db"
            remove_db(raw)
            base.append(checked([*BASE, "raw-insert", str(raw), str(story)]).wall)
            remove_db(raw)
            remove_db(db)
            r = checked([*TIMELINE, "--db", str(db), "import", str(story)])
            walls.append(r.wall)
            rss.append(r.rss_mb)
            log(f"{n:,}: import {r.wall:.1f}s ({n / r.wall:,.0f}/s, {r.rss_mb:.0f} MB), raw {base[-1]:.2f}s")
        events = event_count(db)
        res["events"] = events
        res["import"] = {"rate": stats([events / w for w in walls]), "base": stats([events / w for w in base]),
                         "rss": stats(rss)}  # fmt: skip
        self.save()

        self.size_rest(n, story, db, res, want)

    def size_rest(self, n: int, story: Path, db: Path, res: dict[str, Any], want: set[str]) -> None:
        reps = self.repeats(n)
        events = res["events"]
        # import with synchronous FULL (library default) vs NORMAL, both through the same patch
        if n <= self.args.sync_max and "sync" in want:
            sync: dict[str, list[float]] = {"FULL": [], "NORMAL": []}
            for _ in range(reps if n <= 10_000 else 1):
                for mode in ("FULL", "NORMAL"):
                    tmp = self.work / f"sync-{n}.db"
                    remove_db(tmp)
                    sync[mode].append(events / checked([*BASE, "import-sync", mode, str(tmp), str(story)]).wall)
                    remove_db(tmp)
            res["sync"] = {mode: stats(v) for mode, v in sync.items()}
            log(
                f"{n:,}: sync FULL {res['sync']['FULL']['median']:,.0f}/s NORMAL {res['sync']['NORMAL']['median']:,.0f}/s"
            )
            self.save()

        # rebuild vs library read + decode
        walls, rss, base = [], [], []
        for _ in range(reps if "rebuild" in want else 0):
            b = checked([*BASE, "read-decode", str(db)])
            base.append(b.wall)
            r = checked([*TIMELINE, "--db", str(db), "rebuild"])
            walls.append(r.wall)
            rss.append(r.rss_mb)
            log(f"{n:,}: rebuild {r.wall:.1f}s ({r.rss_mb:.0f} MB), read+decode {b.wall:.1f}s ({b.rss_mb:.0f} MB)")
        if walls:
            res["rebuild"] = {"rate": stats([events / w for w in walls]), "base": stats([events / w for w in base]),
                              "rss": stats(rss)}  # fmt: skip
        self.save()

        # one `timeline add` vs python -c pass
        adds, base = [], []
        for _ in range(max(self.args.repeats, 5) if "add" in want else 0):
            base.append(checked([PY, "-c", "pass"]).wall)
            adds.append(self.add_one(db).wall)
        if not adds:
            return self.size_tail(n, db, res, want)
        res["add"] = {"wall": stats(adds), "base": stats(base)}
        log(
            f"{n:,}: add {statistics.median(adds) * 1000:.0f} ms, python -c pass {statistics.median(base) * 1000:.0f} ms"
        )
        self.save()

        self.size_tail(n, db, res, want)

    def size_tail(self, n: int, db: Path, res: dict[str, Any], want: set[str]) -> None:
        if "replay" in want:
            self.replay(n, db, res)
            self.save()
        if "feeds" in want:
            self.feeds(n, db, res)
        if n <= self.args.serve_max and "serve" in want:
            self.serve(n, db, res)
        self.save()

    def add_one(self, db: Path) -> Run:
        self.add_counter += 1
        i = self.add_counter
        return checked([*TIMELINE, "--db", str(db), "add", "statement", "--id", f"bench/add/{i}/{time.time_ns()}",
                        "--title", f"Benchmark statement {i}", "--occurred", "6 July 2024",
                        "--speaker", "Hun Manet", "--quote", "We welcome the support.",
                        "--topics", "diplomacy", "--source", f"https://news.example.org/add/{i}"])  # fmt: skip

    def feeds(self, n: int, db: Path, res: dict[str, Any]) -> None:
        why = has_command("feeds", "build")
        if why:
            res["feeds"] = {"not_measured": why}
            return
        try:
            out = self.work / f"feeds-{n}"
            full, rss = [], []
            for _ in range(self.repeats(n) if n <= 10_000 else 1):
                shutil.rmtree(out, ignore_errors=True)
                r = run(
                    [*TIMELINE, "--db", str(db), "feeds", "build", "--out", str(out)], timeout=self.args.feeds_timeout
                )
                if r.rc != 0:
                    why = (
                        f"was stopped at the {RSS_CAP_MB:,.0f} MB RSS cap" if r.rss_mb >= RSS_CAP_MB
                        else "timed out" if r.wall >= self.args.feeds_timeout
                        else f"exited {r.rc}: {first_line(r.stderr)}"
                    )  # fmt: skip
                    res["feeds"] = {"not_measured": f"full `feeds build` {why} after {r.wall:.0f} s"}
                    return
                full.append(r.wall)
                rss.append(r.rss_mb)
            incr = []
            for _ in range(max(self.repeats(n), 3)):
                self.add_one(db)
                incr.append(checked([*TIMELINE, "--db", str(db), "feeds", "build", "--out", str(out)]).wall)
            res["feeds"] = {"full": stats(full), "incremental": stats(incr), "rss": stats(rss)}
            log(f"{n:,}: feeds full {statistics.median(full):.2f}s, incremental {statistics.median(incr):.2f}s")
        except RuntimeError as e:
            res["feeds"] = {"not_measured": str(e)}

    def replay(self, n: int, db: Path, res: dict[str, Any]) -> None:
        why = has_command("replay")
        if why:
            res["replay"] = {"not_measured": why}
            return
        try:
            mid = res["events"] // 2
            rss, walls = [], []
            for _ in range(self.repeats(n)):
                r = checked([*TIMELINE, "--db", str(db), "replay", "--as-of", f"#{mid}"], capture=False)
                rss.append(r.rss_mb)
                walls.append(r.wall)
            res["replay"] = {"rss": stats(rss), "wall": stats(walls), "as_of": mid}
            log(f"{n:,}: replay --as-of #{mid}: {statistics.median(rss):.0f} MB, {statistics.median(walls):.1f}s")
        except RuntimeError as e:
            res["replay"] = {"not_measured": str(e)}

    def serve(self, n: int, db: Path, res: dict[str, Any]) -> None:
        why = has_command("serve")
        if why:
            res["serve"] = {"not_measured": why}
            return
        help_text = run([*TIMELINE, "serve", "--help"]).stdout
        port = free_port()
        cmd = [*TIMELINE, "--db", str(db), "serve"]
        if "--host" in help_text:
            cmd += ["--host", "127.0.0.1"]
        if "--port" in help_text:
            cmd += ["--port", str(port)]
        if "--out" in help_text:
            out = self.work / f"feeds-{n}"
            cmd += ["--out", str(out)]
        # stderr to a file, not a pipe nobody reads: waitress logs its queue depth under
        # load, and a full pipe would stall the server being measured.
        errlog = self.work / f"serve-{n}.stderr"
        with errlog.open("wb") as err_file:
            server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err_file, cwd=ROOT)
        try:
            if not wait_port(port, 1800):
                err = errlog.read_text(errors="replace") if server.poll() is not None else ""
                res["serve"] = {"not_measured": f"`{' '.join(cmd[1:])}` did not listen on 127.0.0.1:{port} "
                                                f"({first_line(err) if err else 'no answer in 1,800 s'})"}  # fmt: skip
                return
            found = find_feed(port)
            if found is None:
                res["serve"] = {"not_measured": "no feed path answered 200 with an ETag or Last-Modified"}
                return
            path, cond = found
            ok = load(port, path, {}, 200, self.args.load_seconds)
            notmod = load(port, path, cond, 304, self.args.load_seconds)
            server_rss = server_rss_mb(server.pid)
            body = fetch(port, path)
        finally:
            server.terminate()
            server.wait(10)
        base = self.baseline_load(["hello"], "/")
        # Not the baseline, a reading aid: the same document's bytes from memory.
        static_file = self.work / f"static-{n}.xml"
        static_file.write_bytes(body)
        static = self.baseline_load(["static", str(static_file)], "/")
        res["serve"] = {"path": path, "200": ok, "304": notmod, "base": base, "static": static, "rss": server_rss,
                        "bytes": len(body)}  # fmt: skip
        log(f"serve {path}: 200 {ok['rate']:.0f}/s, 304 {notmod['rate']:.0f}/s, hello {base['rate']:.0f}/s, "
            f"static {static['rate']:.0f}/s")  # fmt: skip

    def baseline_load(self, args: list[str], path: str) -> dict[str, Any]:
        port = free_port()
        server = subprocess.Popen([*BASE, args[0], str(port), *args[1:]], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            wait_port(port, 20)
            return load(port, path, {}, 200, self.args.load_seconds)
        finally:
            server.terminate()
            server.wait(10)

    def save(self) -> None:
        """One results file per size, so sizes run by separate invocations add up in one table."""
        for n, res in self.results["sizes"].items():
            res["when"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
            path = self.work / f"results-{n}.json"
            merged = json.loads(path.read_text())["result"] if path.exists() and self.args.merge else {}
            for key, value in res.items():  # figures measured now replace the same figures only
                if isinstance(value, dict):
                    value.setdefault("code", self.results["machine"]["code"])
                merged[key] = value
            doc = {"size": n, "result": merged, "machine": self.results["machine"], "notes": self.results["notes"]}
            path.write_text(json.dumps(doc, indent=2))
        write_markdown(collect(self.work), Path(self.args.out))


# --- load generator (127.0.0.1 only, bounded in count and time) -------------------------


def server_rss_mb(pid: int) -> float | None:
    try:
        import psutil

        return float(psutil.Process(pid).memory_info().rss / 2**20)
    except Exception:
        return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(port: int, path: str) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        return conn.getresponse().read()
    finally:
        conn.close()


def wait_port(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def find_feed(port: int) -> tuple[str, dict[str, str]] | None:
    candidates = ["/story.atom", "/feeds/all.atom", "/all.atom", "/atom.xml", "/feed.atom", "/feed", "/atom", "/feeds/atom.xml",
                  "/all.xml", "/index.atom", "/"]  # fmt: skip
    for path in candidates:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
        except OSError:
            continue
        finally:
            conn.close()
        if resp.status != 200:
            continue
        cond = {}
        if resp.getheader("ETag"):
            cond["If-None-Match"] = resp.getheader("ETag")
        if resp.getheader("Last-Modified"):
            cond["If-Modified-Since"] = resp.getheader("Last-Modified")
        if cond and "xml" in (resp.getheader("Content-Type") or "") + path:
            return path, cond
    return None


def load(port: int, path: str, headers: dict[str, str], expect: int, seconds: float,
         threads: int = 4, cap: int = 50_000) -> dict[str, Any]:  # fmt: skip
    """Keep-alive GETs from `threads` threads for `seconds` (or `cap` requests)."""
    counts = {"ok": 0, "other": 0}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        ok = other = 0
        while time.monotonic() < stop and ok + other < cap // threads:
            try:
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                if resp.will_close:
                    conn.close()
                ok, other = (ok + 1, other) if resp.status == expect else (ok, other + 1)
            except (OSError, http.client.HTTPException):
                other += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.close()
        with lock:
            counts["ok"] += ok
            counts["other"] += other

    t0 = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - t0
    return {"rate": counts["ok"] / elapsed, "ok": counts["ok"], "other": counts["other"], "seconds": elapsed}


# --- report ------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal")
        )
        mem = f"{mem_kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        mem = "unknown"
    from importlib.metadata import version

    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "memory": mem,
        "python": platform.python_version(),
        "eventsourcing": version("eventsourcing"),
        "sqlite": sqlite3.sqlite_version,
        "os": platform.platform(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "code": code_version(),
    }


def code_version() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "events", "timeline", "feeds"], cwd=ROOT,
                               capture_output=True, text=True, check=False).stdout.strip()  # fmt: skip
    except OSError:
        return "unknown"
    return f"{head}" + ("+uncommitted" if dirty else "")


def fmt(s: dict[str, Any], unit: str = "", scale: float = 1.0, digits: int = 0) -> str:
    m, lo, hi = (s[k] * scale for k in ("median", "min", "max"))
    return f"{m:,.{digits}f}{unit} ({lo:,.{digits}f}–{hi:,.{digits}f}, n={s['n']})"


def collect(work: Path) -> dict[str, Any]:
    merged: dict[str, Any] = {"sizes": {}, "notes": [], "machine": None}
    for path in sorted(work.glob("results-*.json")):
        doc = json.loads(path.read_text())
        merged["sizes"][doc["size"]] = doc["result"]
        merged["machine"] = doc["machine"]
        merged["notes"] = doc["notes"]
    return merged


def write_markdown(results: dict[str, Any], out: Path) -> None:
    sizes = sorted(results["sizes"], key=int)
    rows: list[list[str]] = []

    codev = {"v": ""}

    def row(fig: str, n: str, measured: str, base: str, ratio: float | None, goal: str, met: bool | None) -> None:
        rows.append([fig, n, measured, base, "–" if ratio is None else f"{ratio:.2f}×" if ratio >= 0.1 else f"{ratio:.2g}×", goal,
                     "–" if met is None else ("yes" if met else "**no**"), codev["v"]])  # fmt: skip

    for n in sizes:
        r = results["sizes"][n]
        label = f"{int(n):,}"
        if "import" in r:
            codev["v"] = r["import"].get("code", "see notes")
            ratio = r["import"]["rate"]["median"] / r["import"]["base"]["median"]
            row("bulk `import`, events/s", label, fmt(r["import"]["rate"]), "raw sqlite3, one txn: " + fmt(r["import"]["base"]),
                ratio, "≥ 0.5×", ratio >= 0.5)  # fmt: skip
        if "sync" in r:
            codev["v"] = r["sync"].get("code", "see notes")
            ratio = r["sync"]["NORMAL"]["median"] / r["sync"]["FULL"]["median"]
            row("`import` with synchronous=NORMAL, events/s (trade, not a goal)", label, fmt(r["sync"]["NORMAL"]),
                "synchronous=FULL (default): " + fmt(r["sync"]["FULL"]), ratio, "– (keep FULL)", None)  # fmt: skip
        if "rebuild" in r:
            codev["v"] = r["rebuild"].get("code", "see notes")
            ratio = r["rebuild"]["rate"]["median"] / r["rebuild"]["base"]["median"]
            row("`rebuild`, events/s", label, fmt(r["rebuild"]["rate"]),
                "library read + decode, pages of 1,000: " + fmt(r["rebuild"]["base"]), ratio, "≥ 0.8×", ratio >= 0.8)  # fmt: skip
        if "add" in r:
            codev["v"] = r["add"].get("code", "see notes")
            ratio = r["add"]["wall"]["median"] / r["add"]["base"]["median"]
            row("one `add`, wall", label, fmt(r["add"]["wall"], " ms", 1000), "`python -c pass`: " + fmt(r["add"]["base"], " ms", 1000),
                ratio, "≤ 8×, same at all sizes", ratio <= 8)  # fmt: skip
        f = r.get("feeds", {})
        codev["v"] = f.get("code", "see notes")
        if "not_measured" in f:
            row(
                "incremental `feeds build` after one event",
                label,
                "not measured: " + f["not_measured"],
                "–",
                None,
                "≤ 0.01×",
                None,
            )
        elif f:
            ratio = f["incremental"]["median"] / f["full"]["median"]
            row("catch-up + incremental `feeds build` after one event, wall", label, fmt(f["incremental"], " s", 1, 2),
                "full `feeds build`: " + fmt(f["full"], " s", 1, 2), ratio, "≤ 0.01×", ratio <= 0.01)  # fmt: skip
        rp = r.get("replay", {})
        codev["v"] = rp.get("code", "see notes")
        if "not_measured" in rp:
            row(
                "`replay --as-of` middle, peak RSS",
                label,
                "not measured: " + rp["not_measured"],
                "–",
                None,
                "≤ 1.2× of 10k",
                None,
            )
        elif rp:
            ref = REPLAY_REFERENCE if REPLAY_REFERENCE in results["sizes"] else sizes[0]
            small = results["sizes"].get(ref, {}).get("replay", {})
            ratio = rp["rss"]["median"] / small["rss"]["median"] if "rss" in small else None
            row(f"`replay --as-of '#{rp['as_of']}'`, peak RSS", label, fmt(rp["rss"], " MB"),
                f"same at {int(ref):,}: " + (fmt(small["rss"], " MB") if "rss" in small else "–"),
                ratio, "≤ 1.2×", None if ratio is None or int(n) <= int(ref) else ratio <= 1.2)  # fmt: skip
        s = r.get("serve", {})
        codev["v"] = s.get("code", "see notes")
        if "not_measured" in s:
            row(
                "`serve` requests/s (200 and 304)",
                label,
                "not measured: " + s["not_measured"],
                "–",
                None,
                "≥ 0.8×",
                None,
            )
        elif s:
            for code in ("200", "304"):
                ratio = s[code]["rate"] / s["base"]["rate"]
                row(f"`serve` {s['path']} → {code}, requests/s", label,
                    f"{s[code]['rate']:,.0f} ({s[code]['ok']:,} ok, {s[code]['other']} other)",
                    f"hello-world WSGI on waitress: {s['base']['rate']:,.0f}", ratio, "≥ 0.8×", ratio >= 0.8)  # fmt: skip
            if s.get("static"):
                ratio = s["200"]["rate"] / s["static"]["rate"]
                row(f"`serve` {s['path']} → 200 vs the same {s.get('bytes', 0) / 1024:,.0f} KB from memory "
                    "(reading aid, not a goal)", label, f"{s['200']['rate']:,.0f}",
                    f"static bytes on waitress: {s['static']['rate']:,.0f}", ratio, "–", None)  # fmt: skip
            if s.get("rss"):
                row("`serve` RSS after the load runs", label, f"{s['rss']:,.0f} MB", "–", None, "–", None)
        smallest = next((k for k in sizes if "add" in results["sizes"][k]), None)
        if "add" in r and smallest is not None and int(n) >= 1_000_000:
            a, b = r["add"], results["sizes"][smallest]["add"]
            ratio = (a["wall"]["median"] / a["base"]["median"]) / (b["wall"]["median"] / b["base"]["median"])
            row(f"one `add`: its ratio here over its ratio at {int(smallest):,} events", label,
                f"{a['wall']['median'] / a['base']['median']:.2f}×", f"at {int(smallest):,}: "
                f"{b['wall']['median'] / b['base']['median']:.2f}×", ratio, "the same (≤ 1.25×)", ratio <= 1.25)  # fmt: skip
        for what in ("import", "rebuild", "feeds"):
            part = r.get(what, {})
            codev["v"] = part.get("code", "see notes")
            if "rss" in part and int(n) >= 1_000_000:
                row(
                    f"peak RSS of `{what}`",
                    label,
                    fmt(part["rss"], " MB"),
                    "–",
                    None,
                    "< 300 MB",
                    part["rss"]["median"] < 300,
                )
    m = results.get("machine") or machine()
    lines = [
        "# Benchmarks",
        "",
        "Written by `nox -s bench` (`python benchmarks/run.py`); every goal is a ratio against a baseline run",
        "beside it in the same run, because the machine is shared and noisy. Measured values are medians with",
        "(min–max, n = repeats). Each figure is a child process timed from the parent, including its start-up;",
        "peak RSS is that child's `ru_maxrss` from `os.wait4`.",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']} memory; {m['os']}.  ",
        f"Versions: Python {m['python']}, eventsourcing {m['eventsourcing']}, SQLite {m['sqlite']}.  ",
        f"Date: {m['date']}; code: {m.get('code') or code_version()}.",
        "",
        "| figure | events | measured | baseline (same run) | ratio | goal | met? | code |",
        "|---|---|---|---|---|---|---|---|",
        *("| " + " | ".join(r) + " |" for r in rows),
        "",
    ]
    notes = results.get("notes") or []
    extra = ROOT / "benchmarks" / "NOTES.md"
    if notes:
        lines += ["## Run notes", "", *(f"- {n}" for n in notes), ""]
    if extra.exists():
        lines += [extra.read_text().rstrip(), ""]
    out.write_text("\n".join(lines))


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="10,000 events, 2 repeats, short load runs.")
    p.add_argument(
        "--sizes",
        default="10,10000,100000,1000000",
        help="Log sizes; 10 is there for `add` on an almost empty log (the issue's small size).",
    )
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--big-repeats", type=int, default=1, help="Repeats at sizes above 100,000.")
    p.add_argument("--sync-max", type=int, default=100_000, help="Largest size for the synchronous FULL/NORMAL trade.")
    p.add_argument("--load-seconds", type=float, default=5.0)
    p.add_argument(
        "--figures",
        default="import,sync,rebuild,add,replay,feeds,serve",
        help="Which figures to measure (import needs to run first on a new work directory).",
    )
    p.add_argument(
        "--merge",
        action="store_true",
        help="Keep figures already in the work directory that this run does not measure.",
    )
    p.add_argument("--serve-max", type=int, default=10_000, help="Largest size to run the server benchmark at.")
    p.add_argument("--feeds-timeout", type=float, default=900.0, help="Give up on a full feeds build after this long.")
    p.add_argument("--workdir", default=os.environ.get("TIMELINE_BENCH_DIR", "/tmp/timeline-bench"))
    p.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    p.add_argument("--rss-cap", type=float, default=RSS_CAP_MB, help="Stop a child whose RSS passes this (MB).")
    args = p.parse_args()
    globals()["RSS_CAP_MB"] = args.rss_cap
    if args.quick:
        args.sizes, args.repeats, args.load_seconds = "10000", 2, 2.0
    bench = Bench(args)
    bench.sizes = sorted(int(s) for s in args.sizes.split(","))  # type: ignore[attr-defined]
    bench.results["machine"] = machine()
    bench.results["notes"] = [
        (
            f"repeats: {args.repeats} up to 100,000 events, {args.big_repeats} above (the 1,000,000-event import "
            "takes minutes); `add` is repeated at least 5 times at every size."
        ),
        (
            f"synchronous FULL vs NORMAL measured up to {args.sync_max:,} events (1 repeat above 10,000), by patching "
            "the library's connection factory in the benchmark child only; the project keeps FULL."
        ),
    ]
    for n in bench.sizes:
        log(f"size {n:,}")
        bench.size(n)
    bench.save()
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()

"""Stress run for issue 10: the suite's load, large-import and kill tests, many times over.

    .venv/bin/python benchmarks/stress.py                 # 10 load rounds per back end, ...
    .venv/bin/python benchmarks/stress.py --rounds 2 --kills 5 --large 1   # a short run
    nox -s stress -- --rounds 10

Each load round: a fresh database; 8 processes each import 500 distinct developments
while 8 more each run 50 `add` commands (reading the views after every tenth); then
exactly 4,400 developments must be stored, none twice, the views must equal a fresh
rebuild, `verify` must pass, and no process may say anything but its summary.

Each large import: `timeline import` of 50,000 lines into a fresh PostgreSQL database,
then `state` (the views' catch-up of 50,000 events), each with a 600 s deadline.

Each kill: an import killed (`kill -9`) once the log holds a random number of its events
(TIMELINE_IMPORT_BATCH=5, so between or inside its transactions), then run again; or a
`state` killed once its catch-up (TIMELINE_VIEWS_PAGE=10) passed a random position, then
run again. Whole batches only, the rest stored by the rerun, nothing twice, views equal
a rebuild.

With --properties N: the hostile-input properties (tests/properties), N cases each, in
chunks of 1,000 per process with seeds 1, 2, ... (see tests/properties/conftest.py).

Prints one line per try and a summary; exits 1 if anything failed. PostgreSQL runs use
TIMELINE_TEST_POSTGRES (default postgresql://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.faults.kill import (  # noqa: E402
    close_connections,
    kill_when,
    last_position,
    log_length,
    run,
    start,
    views_position,
)
from tests.load.writers import run_writers, stored_ids, write_import_file  # noqa: E402

ADMIN = os.environ.get("TIMELINE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def wait_for_server(timeout: float = 120) -> None:
    """Other work on a shared machine may stop the PostgreSQL server for a while."""
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(ADMIN, connect_timeout=3).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def attempt(step: Callable[[], Any]) -> Any:
    """One try; a try the server's outage broke is recorded as such, not as a crash."""
    try:
        return step()
    except Exception as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        return {"ok": False, "error": f"{type(e).__name__}: {first}"}


@contextmanager
def fresh(backend: str, folder: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield str(folder / f"{uuid.uuid4().hex[:8]}.db")
        return
    import psycopg

    wait_for_server()
    name = f"timeline_stress_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        close_connections()
        wait_for_server()
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _json(target: str, *args: str) -> Any:
    done = run(target, *args, "--json")
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(args)}: {done.stderr.strip()}")
    return json.loads(done.stdout)


def _views_equal_a_rebuild(target: str) -> bool:
    shown, state = _json(target, "show"), _json(target, "state")
    if run(target, "rebuild").returncode != 0:
        return False
    return bool(_json(target, "show") == shown and _json(target, "state") == state)


def load_round(backend: str, folder: Path) -> dict[str, Any]:
    with fresh(backend, folder) as target:
        began = time.monotonic()
        result = run_writers(target, folder, 8, 500, 50, timeout=900)
        seconds = time.monotonic() - began
        ids = stored_ids(target)
        verified = _json(target, "verify")["ok"]
        return {
            "stored": sum(ids.values()),
            "twice": sum(1 for n in ids.values() if n > 1),
            "failed_processes": sum(1 for e in result.exits if e != 0),
            "complaints": result.complaints[:5],
            "complaint_count": len(result.complaints),
            "views_equal_rebuild": _views_equal_a_rebuild(target),
            "verify_ok": verified,
            "seconds": round(seconds, 1),
            "ok": result.ok and sum(ids.values()) == 4400 and set(ids.values()) == {1} and verified,
        }


def large_import(folder: Path, lines: int) -> dict[str, Any]:
    file = folder / f"large-{lines}.jsonl"
    if not file.exists():
        write_import_file(file, 9999, lines)
    with fresh("postgres", folder) as target:
        began = time.monotonic()
        imported = run(target, "import", str(file))
        import_seconds = time.monotonic() - began
        began = time.monotonic()
        state = run(target, "state", "--json")
        state_seconds = time.monotonic() - began
        position = json.loads(state.stdout)["position"] if state.returncode == 0 else None
        ids = stored_ids(target)
        return {
            "import_exit": imported.returncode,
            "import_seconds": round(import_seconds, 1),
            "state_exit": state.returncode,
            "state_seconds": round(state_seconds, 1),
            "stored": sum(ids.values()),
            "twice": sum(1 for n in ids.values() if n > 1),
            # Positions can skip on PostgreSQL (a retried transaction used some up), so
            # the views must have reached the last one, not `lines`.
            "position": position,
            "last_position": last_position(target),
            "ok": imported.returncode == 0
            and set(ids.values()) == {1}
            and len(ids) == lines
            and position == last_position(target),
        }


def kill_import(target: str, folder: Path, rng: random.Random, n: int) -> dict[str, Any]:
    lines, batch = 600, 5
    file = write_import_file(folder / f"kill-{n}.jsonl", 5000 + n, lines)
    before = log_length(target)
    # Half the kills at a random number of stored events (the write phase), half at a
    # random moment from the start (anywhere, pass 1 included).
    by_count = n % 2 == 0
    threshold = before + rng.randrange(1, lines)
    deadline = time.monotonic() + rng.uniform(0.05, 1.5)
    reached: Callable[[], bool] = (
        (lambda: log_length(target) >= threshold) if by_count else (lambda: time.monotonic() >= deadline)
    )
    proc = start(target, "import", str(file), env={"TIMELINE_IMPORT_BATCH": str(batch)})
    killed = kill_when(proc, reached)
    stored = log_length(target) - before
    again = _json(target, "import", str(file))
    return {
        "killed": killed,
        "stored_before_rerun": stored,
        "whole_batches": stored % batch == 0,
        "rerun_new": again["new"],
        "rerun_existing": again["existing"],
        "ok": stored % batch == 0 and (again["new"], again["existing"]) == (lines - stored, stored),
    }


def kill_catch_up(target: str, folder: Path, rng: random.Random, n: int) -> dict[str, Any]:
    page = 10
    done = run(target, "import", str(write_import_file(folder / f"catch-{n}.jsonl", 7000 + n, 400)))
    if done.returncode != 0:  # e.g. another test on this machine restarted the server
        return {"killed": False, "setup_failed": done.stderr.strip(), "ok": False}
    total, at = last_position(target), views_position(target)
    threshold = rng.randrange(at + 1, total)
    proc = start(target, "state", env={"TIMELINE_VIEWS_PAGE": str(page)})
    killed = kill_when(proc, lambda: views_position(target) >= threshold)
    position = views_position(target)
    finished = _json(target, "state")["position"]
    return {
        "killed": killed,
        "killed_at": position,
        "inside": killed and position < total,
        "of": total,
        "whole_pages": (position - at) % page == 0 or position == total,
        "finished_by_next": finished == total,
        "ok": ((position - at) % page == 0 or position == total) and finished == total,
    }


def kill_round(backend: str, folder: Path, tries: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    with fresh(backend, folder) as target:
        for n in range(tries):
            for what, step in (("import", kill_import), ("catch-up", kill_catch_up)):
                r = {"what": what, **attempt(lambda s=step, i=n: s(target, folder, rng, i))}  # type: ignore[misc]
                out.append(r)
                print(json.dumps({"backend": backend, **r}), flush=True)
                if "error" in r and backend == "postgres":
                    wait_for_server()
        ids = stored_ids(target)
        out.append({"what": "final", "twice": sum(1 for v in ids.values() if v > 1),
                    "views_equal_rebuild": _views_equal_a_rebuild(target),
                    "ok": set(ids.values()) == {1} and _json(target, "verify")["ok"]})  # fmt: skip
    return out


def properties(total: int, chunk: int = 1000) -> Iterator[dict[str, Any]]:
    """The hostile-input properties, `total` cases each, `chunk` per process."""
    import re
    import subprocess

    chunk = min(chunk, total)
    for n, seed in enumerate(range(1, total // chunk + 1)):
        env = {**os.environ, "HYPOTHESIS_PROFILE": "stress", "HYPOTHESIS_EXAMPLES": str(chunk)}
        began = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/properties", "-k", "any_",
             f"--hypothesis-seed={seed}", "--hypothesis-show-statistics"],
            cwd=ROOT, env=env, capture_output=True, text=True,
        )  # fmt: skip
        passing = sum(int(m) for m in re.findall(r"(\d+) passing", done.stdout))
        failing = sum(int(m) for m in re.findall(r"(\d+) failing", done.stdout))
        yield ({"chunk": n + 1, "seed": seed, "exit": done.returncode, "cases": passing + failing,
                    "failing": failing, "tracebacks": done.stdout.count("Traceback") + done.stdout.count("Error:"),
                    "seconds": round(time.monotonic() - began), "ok": done.returncode == 0,
                    "tail": done.stdout.strip().splitlines()[-1:] })  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="load rounds per back end (default 10)")
    parser.add_argument("--large", type=int, default=3, help="50,000-line PostgreSQL imports (default 3)")
    parser.add_argument("--lines", type=int, default=50_000, help="lines per large import")
    parser.add_argument("--kills", type=int, default=10, help="kills of import and of catch-up per back end")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--properties", type=int, default=0, help="hostile-input cases per property (e.g. 10000)")
    parser.add_argument("--json", type=Path, help="also write every result to this file")
    args = parser.parse_args()
    backends = args.backends.split(",")
    results: dict[str, Any] = {"load": [], "large": [], "kills": [], "properties": []}
    for r in properties(args.properties) if args.properties else []:
        results["properties"].append(r)
        print(json.dumps(r), flush=True)
    with tempfile.TemporaryDirectory(prefix="timeline-stress-") as tmp:
        folder = Path(tmp)
        for backend in backends:
            for i in range(args.rounds):
                r = {"backend": backend, "round": i + 1, **attempt(lambda b=backend: load_round(b, folder))}
                results["load"].append(r)
                print(json.dumps(r), flush=True)
        if "postgres" in backends:
            for i in range(args.large):
                r = {"try": i + 1, "lines": args.lines, **attempt(lambda: large_import(folder, args.lines))}
                results["large"].append(r)
                print(json.dumps(r), flush=True)
        for backend in backends if args.kills else []:
            rounds = attempt(lambda b=backend: kill_round(b, folder, args.kills, args.seed))
            for r in rounds if isinstance(rounds, list) else [{"what": "round", **rounds}]:
                r = {"backend": backend, **r}
                results["kills"].append(r)
                if r["what"] in ("final", "round"):
                    print(json.dumps(r), flush=True)
    failed = [r for group in results.values() for r in group if not r["ok"]]
    summary = {
        "load_rounds": len(results["load"]),
        "load_ok": sum(r["ok"] for r in results["load"]),
        "stored": sorted({r["stored"] for r in results["load"] if "stored" in r}),
        "complaints": sum(r.get("complaint_count", 0) for r in results["load"]),
        "broken_by_errors": [r["error"] for group in results.values() for r in group if "error" in r],
        "large_imports_finished": sum(r["ok"] for r in results["large"]),
        "large_imports": len(results["large"]),
        "kills": sum(1 for r in results["kills"] if r.get("killed")),
        "kills_inside_catch_up": sum(1 for r in results["kills"] if r.get("inside")),
        "kills_inside_import_writes": sum(
            1
            for r in results["kills"]
            if r["what"] == "import" and r.get("killed") and 0 < r["stored_before_rerun"] < 600
        ),
        "kill_tries_ok": sum(r["ok"] for r in results["kills"]),
        "kill_tries": len(results["kills"]),
        "property_cases": sum(r["cases"] for r in results["properties"]),
        "property_failing": sum(r["failing"] for r in results["properties"]),
        "failed": len(failed),
    }
    print(json.dumps({"summary": summary}), flush=True)
    if args.json:
        args.json.write_text(json.dumps({**results, "summary": summary}, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

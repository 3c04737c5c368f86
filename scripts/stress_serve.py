"""Stress `serve` and `feeds build` beyond what the suite runs (not part of the tests or CI).

    .venv/bin/python scripts/stress_serve.py [--rounds 10] [--writers 4] [--each 100]
        [--fuzz 10000] [--kills 10] [--outages 0]

Runs, through pytest with larger settings, and prints each run's figures and a summary:
- the load test (`tests/feeds/test_serve_load.py::test_reading_under_load`) `--rounds` times
  on SQLite and on PostgreSQL: WRITERS processes appending EACH developments each while
  three readers ask for feeds over HTTP and `log --follow` runs (0 responses of 5xx, every
  development served and followed, none twice);
- the HTTP property tests with `--fuzz` cases each;
- `--kills` builds killed with SIGKILL at random moments, each finished by the next build;
- `--outages` PostgreSQL outages while `serve` runs. Each stops the shared server for a few
  seconds (and always starts it again): leave at 0 on a machine others are testing on.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TESTS = "tests/feeds/test_serve_load.py"


def pytest(select: str, env: dict[str, str]) -> tuple[bool, list[dict[str, Any]], float]:
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", select],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True,
    )  # fmt: skip
    figures = []
    for line in done.stdout.splitlines():
        start = line.find("{")
        if start >= 0:
            with contextlib.suppress(ValueError):
                figures.append(json.loads(line[start:]))
    if done.returncode != 0:
        print(done.stdout[-4000:], done.stderr[-2000:], sep="\n", file=sys.stderr)
    return done.returncode == 0, figures, time.monotonic() - began


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--each", type=int, default=100)
    ap.add_argument("--fuzz", type=int, default=10_000)
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--outages", type=int, default=0)
    args = ap.parse_args()
    env = {"TIMELINE_LOAD_WRITERS": str(args.writers), "TIMELINE_LOAD_EACH": str(args.each),
           "TIMELINE_LOAD_KILLS": str(args.kills), "TIMELINE_FUZZ_EXAMPLES": str(args.fuzz)}  # fmt: skip
    failures = 0
    loads: list[dict[str, Any]] = []
    for k in range(args.rounds):
        ok, figures, took = pytest(f"{TESTS}::test_reading_under_load", env)
        failures += not ok
        loads += figures
        for f in figures:
            print(f"load round {k + 1}: {json.dumps(f)}", flush=True)
        print(f"load round {k + 1}: {'ok' if ok else 'FAILED'} in {took:.1f} s", flush=True)
    for backend in ("sqlite", "postgres"):
        mine = [f for f in loads if f.get("load") == backend]
        if mine:
            print(json.dumps({
                "backend": backend, "runs": len(mine), "appended": sum(int(f["appended"]) for f in mine),
                "responses": sum(int(f["responses"]) for f in mine),
                "5xx": sum(int(f["5xx"]) for f in mine),
                "max_ms": max(float(f["max_ms"]) for f in mine),
                "all_served_after_seconds_max": max(float(f["all_served_after_seconds"]) for f in mine),
                "failed_refresh_lines": sum(len(f["serve_log"]) for f in mine),
            }), flush=True)  # fmt: skip
    ok, _, took = pytest("tests/feeds/test_http_fuzz.py", env)
    failures += not ok
    print(f"HTTP property tests, {args.fuzz} cases each (2 tests): {'ok' if ok else 'FAILED'} in {took:.1f} s")
    ok, figures, took = pytest(
        f"{TESTS}::test_a_build_killed_at_any_moment_leaves_whole_files_and_the_next_finishes", env
    )
    failures += not ok
    print(f"killed builds: {'ok' if ok else 'FAILED'} in {took:.1f} s {json.dumps(figures)}")
    for k in range(args.outages):
        ok, figures, took = pytest(f"{TESTS}::test_serve_rides_out_a_postgresql_outage", env)
        failures += not ok
        print(f"outage {k + 1}: {'ok' if ok else 'FAILED'} {json.dumps(figures)}", flush=True)
    print(f"{failures} failed runs")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

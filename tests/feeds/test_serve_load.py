"""`serve` while the log grows and while the store fails: writers appending, readers asking,
`log --follow` watching, PostgreSQL stopped and started, a build killed half way.

Real processes and real HTTP on 127.0.0.1. `scripts/stress_serve.py` runs the same load
longer and more times and prints the figures.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import BASE, snapshot

from tests.conftest import Cli
from tests.feeds.loadtools import Readers, entry_ids, followed, following, get, serving, start_writers, timeline_exe

pytestmark = pytest.mark.slow

# scripts/stress_serve.py sets these higher.
WRITERS = int(os.environ.get("TIMELINE_LOAD_WRITERS", "4"))
EACH = int(os.environ.get("TIMELINE_LOAD_EACH", "15"))
KILLS = int(os.environ.get("TIMELINE_LOAD_KILLS", "3"))
PATHS = ["/story.atom", "/story.rss", "/topic/load.atom", "/index.json", "/index.html", "/actor/hun-manet.atom"]


def load_run(run: Cli, tmp_path: Path, writers: int = WRITERS, each: int = EACH) -> dict[str, Any]:
    """Writers append while readers ask and `log --follow` watches; returns the figures and
    asserts what must hold."""
    run.import_seed()
    out = tmp_path / "out"
    log = tmp_path / "serve.log"
    appended = writers * each
    with (
        serving(run.target, out, "--base-url", BASE, "--page-size", str(appended + 100), log=log) as (url, _),
        following(run.target, tmp_path / "follow.jsonl") as follow,
        Readers(url, PATHS) as readers,
    ):
        began = time.monotonic()
        procs = start_writers(run.target, writers, each)
        results = [(*p.communicate(timeout=300), p.returncode) for p in procs]
        written = time.monotonic() - began
        for _, stderr, code in results:
            assert code == 0 and stderr == "", stderr
        ids = {line for stdout, _, _ in results for line in stdout.split()}
        assert len(ids) == appended
        deadline = time.monotonic() + 30
        while True:  # every appended development reaches the served feed, once
            status, body = get(f"{url}/story.atom")
            served = entry_ids(body) if status == 200 else []
            if sum(i.rsplit("/", 1)[-1] in ids for i in served) == appended or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        seen = time.monotonic() - began
        while len({r["id"] for r in followed(follow)} & ids) < appended and time.monotonic() < deadline:
            time.sleep(0.1)
    records = followed(follow)
    statuses = dict(readers.statuses)
    assert readers.failures == [] and readers.errors == 0, (readers.failures[:5], statuses)
    # 404: /topic/load.atom until the first development of that topic is built
    assert sum(statuses.values()) > 50 and set(statuses) <= {200, 304, 404}, statuses
    assert readers.not_found <= {"/topic/load.atom"}, readers.not_found
    story = [i.rsplit("/", 1)[-1] for i in served]
    assert sorted(i for i in story if i in ids) == sorted(ids)  # all there, none twice
    assert len(story) == len(set(story)) == appended + 25
    reported = [r["id"] for r in records if r["event"] == "Reported"]
    assert sorted(i for i in reported if i in ids) == sorted(ids)  # followed, each once
    positions = [r["position"] for r in records]
    assert positions == list(range(1, len(positions) + 1))
    assert "Traceback" not in log.read_text(encoding="utf-8")
    latencies = sorted(readers.latencies)
    return {
        "responses": sum(statuses.values()),
        "statuses": statuses,
        "5xx": readers.errors,
        "appended": appended,
        "writers_seconds": round(written, 2),
        "all_served_after_seconds": round(seen, 2),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
        "serve_log": [line for line in log.read_text(encoding="utf-8").splitlines() if "not updated" in line],
    }


def test_reading_under_load(run: Cli, tmp_path: Path) -> None:
    figures = load_run(run, tmp_path)
    backend = "postgres" if run.target.startswith("postgresql://") else "sqlite"
    print(json.dumps({"load": backend, **figures}))


def test_first_start_on_a_large_log_answers_at_once(sqlite_run: Cli, tmp_path: Path) -> None:
    lines = [
        {"kind": "statement", "title": f"Statement {i}", "occurred": "2024-07-08", "speaker": f"Speaker {i % 40}",
         "paraphrase": "Said so.", "topics": [f"t{i % 15}"], "sources": ["https://news.example/a"]}
        for i in range(700)
    ]  # fmt: skip
    (tmp_path / "big.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    sqlite_run("import", str(tmp_path / "big.jsonl"))
    proc = subprocess.Popen(
        [*timeline_exe(), "--db", sqlite_run.target, "serve", "--port", "0", "--out", str(tmp_path / "out"),
         "--base-url", BASE, "--page-size", "3"], stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        url = first.split(" at ", 1)[1].split()[0].rstrip("/")
        # It answers before the build is done: the 503 says so (how soon is a benchmark
        # figure, BENCHMARKS.md, not a test's), and the build then finishes in the background.
        status, body = get(f"{url}/index.html")
        assert (status, body) == (503, b"the feeds are being built; try again shortly\n")
        done = proc.stderr.readline()
        assert " files written in " in done
        assert get(f"{url}/index.html")[0] == 200 and get(f"{url}/nope.atom")[0] == 404
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_build_killed_at_any_moment_leaves_whole_files_and_the_next_finishes(sqlite_run: Cli, tmp_path: Path) -> None:
    lines = [
        {"kind": "statement", "title": f"Statement {i}", "occurred": "2024-07-08", "speaker": f"Speaker {i % 9}",
         "paraphrase": "Said so.", "topics": [f"t{i % 4}"], "sources": ["https://news.example/a"]}
        for i in range(200)
    ]  # fmt: skip
    (tmp_path / "many.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    sqlite_run("import", str(tmp_path / "many.jsonl"))
    build = [*timeline_exe(), "--db", sqlite_run.target, "feeds", "build", "--base-url", BASE, "--page-size", "4"]
    subprocess.run([*build, "--out", str(tmp_path / "fresh")], check=True, capture_output=True)
    want = snapshot(tmp_path / "fresh")
    began = time.monotonic()  # a second build, the views already caught up, as the killed ones find them
    subprocess.run([*build, "--out", str(tmp_path / "timed")], check=True, capture_output=True)
    took = time.monotonic() - began
    rnd = random.Random(7)
    kills = partial = 0  # kills, and kills that left some of the files
    for k in range(KILLS):
        out = tmp_path / f"out{k}"
        proc = subprocess.Popen([*build, "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Kill it at a random moment once it has begun writing (however busy the machine).
        while proc.poll() is None and not (out.is_dir() and any(out.glob("*/*"))):
            time.sleep(0.005)
        time.sleep(rnd.uniform(0.0, 0.5) * took)
        if proc.poll() is not None:
            continue  # finished before it could be killed (a busy machine): not counted
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        kills += 1
        left = snapshot(out)
        visible = {rel for rel in left if not any(part.startswith(".") for part in Path(rel).parts)}
        assert all(left[rel] == want[rel] for rel in visible)  # each one whole, as a full build writes it
        assert set(left) != set(want)  # killed part way
        partial += bool(visible)
        subprocess.run([*build, "--out", str(out)], check=True, capture_output=True)
        assert snapshot(out) == want  # the work finished, and no temporary file left behind
        shutil.rmtree(out)
    assert partial > 0 and kills >= KILLS // 2
    print(json.dumps({"killed_builds": kills, "left_part_of_the_files": partial, "finished_by_the_next": kills}))


@pytest.mark.postgres
@pytest.mark.stops_postgres
def test_serve_rides_out_a_postgresql_outage(postgres_url: str, tmp_path: Path) -> None:
    """Stops the real server (briefly; it is ALWAYS started again), so `-m "not slow"`
    leaves it out."""
    run = Cli(postgres_url)
    run.import_seed()
    cluster = sorted(os.listdir("/etc/postgresql"))[-1] if os.path.isdir("/etc/postgresql") else None
    if cluster is None or not shutil.which("pg_ctlcluster"):
        pytest.skip("no pg_ctlcluster to stop and start the server with")
    log = tmp_path / "serve.log"
    with serving(postgres_url, tmp_path / "out", "--base-url", BASE, log=log) as (url, _):
        assert get(f"{url}/story.atom")[0] == 200
        with Readers(url, ["/story.atom", "/index.json", "/topic/aid.atom"], threads=2) as readers:
            time.sleep(0.3)
            ctl(cluster, "stop")
            try:
                stopped = time.monotonic()
                time.sleep(2)
            finally:
                ctl(cluster, "start")
            back = time.monotonic()
            during = readers.between(stopped, back)
            run("add", "statement", "--title", "After the outage", "--occurred", "2024-07-09", "--speaker",
                "Hun Manet", "--paraphrase", "Said so.", "--source", "https://news.example/x")  # fmt: skip
            added = time.monotonic()
            while time.monotonic() < added + 30:
                body = get(f"{url}/story.atom")[1]
                if b"After the outage" in body:
                    break
                time.sleep(0.1)
            appeared = time.monotonic()
            # The recovery line is said just after the files are written: wait for it.
            while time.monotonic() < appeared + 5 and "feeds not updated" in log.read_text() and (
                "feeds updated again" not in log.read_text()
            ):  # fmt: skip
                time.sleep(0.05)
        assert b"After the outage" in body, "not served 30 s after the server came back"
    statuses = dict(readers.statuses)
    assert readers.failures == [] and readers.errors == 0 and set(statuses) <= {200, 304}, (readers.failures, statuses)
    slowest = max(during)
    assert len(during) > 20 and slowest < 1.0, (len(during), slowest)  # no request waits on the store
    # waitress says "Task queue depth is N" when requests wait for a thread (a loaded machine):
    # its own line, not the server's about the outage.
    said = [
        line for line in log.read_text(encoding="utf-8").splitlines()[2:] if not line.startswith("Task queue depth is ")
    ]
    failed = [line for line in said if line.startswith("feeds not updated: ")]
    # One line per failed refresh, and few of them: none when the refresh in progress rode
    # out the outage inside the store library's own retries.
    again = f"feeds updated again after {len(failed)} failed refreshes (log position #"
    assert len(failed) <= 6 and len(said) == len(failed) + bool(failed), said
    assert all(line.startswith(again) for line in said[len(failed) :]), said
    assert appeared - back < 15
    print(json.dumps({
        "outage": "postgres", "outage_seconds": round(back - stopped, 1), "responses": sum(statuses.values()), "5xx": readers.errors,
        "slowest_request_during_outage_ms": round(slowest * 1000, 1), "failed_refresh_lines": len(failed),
        "new_event_served_seconds_after_restart": round(appeared - back, 2),
        "seconds_after_append": round(appeared - added, 2),
    }))  # fmt: skip


def ctl(cluster: str, action: str) -> None:
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", action], check=True,
                   capture_output=True, timeout=60)  # fmt: skip

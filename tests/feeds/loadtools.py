"""Shared by the load tests and `scripts/stress_serve.py`: a `timeline serve` process, a
`log --follow` process, writer processes, and readers counting what HTTP answered.

Run as a script, `python loadtools.py writer TARGET NAME COUNT` appends COUNT statements
with ids `load/NAME/i` through the library (one process, one `save` each), pausing a little
between them, and prints each id it recorded.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ATOM_ID = "{http://www.w3.org/2005/Atom}id"


def timeline_exe() -> list[str]:
    exe = Path(sys.executable).with_name("timeline")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "timeline"]


@contextmanager
def serving(target: str, out: Path, *args: str, log: Path | None = None) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`timeline serve` on a free port; yields its URL once the first build is done. Its
    stderr goes on into `log` (or is read and dropped)."""
    proc = subprocess.Popen(
        [*timeline_exe(), "--db", target, "serve", "--port", "0", "--out", str(out), *args],
        stderr=subprocess.PIPE, text=True, bufsize=1,
    )  # fmt: skip
    lines: list[str] = []
    url = None
    assert proc.stderr is not None
    for line in proc.stderr:
        lines.append(line)
        if line.startswith("serving feeds at "):
            url = line.split(" at ", 1)[1].split()[0].rstrip("/")
        elif url and " files written in " in line:
            break
    else:
        raise AssertionError(f"serve exited {proc.wait()}: {lines}")
    sink = open(log, "a", encoding="utf-8") if log else open(os.devnull, "w")  # noqa: SIM115

    def drain() -> None:
        sink.writelines(lines)
        for rest in proc.stderr or ():
            sink.write(rest)
            sink.flush()

    drainer = threading.Thread(target=drain, daemon=True)
    drainer.start()
    try:
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        drainer.join(timeout=5)
        sink.close()


@contextmanager
def following(target: str, out: Path) -> Iterator[Path]:
    """`timeline log --json --follow`, its stdout into the file `out`."""
    with open(out, "w", encoding="utf-8") as sink:
        proc = subprocess.Popen([*timeline_exe(), "--db", target, "log", "--json", "--follow"], stdout=sink,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip
        try:
            yield out
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def followed(path: Path) -> list[dict[str, Any]]:
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            break  # the line being written when it was read
    return records


def start_writers(target: str, count: int, each: int) -> list[subprocess.Popen[str]]:
    command = [sys.executable, __file__, "writer", target]
    return [
        subprocess.Popen([*command, f"w{w}", str(each)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for w in range(count)
    ]


class Readers:
    """Threads asking for feeds over kept-alive connections, as feed readers do (mostly
    conditional requests), counting every status and every failed exchange."""

    def __init__(self, url: str, paths: list[str], threads: int = 3) -> None:
        self.where = urlsplit(url)
        self.paths = paths
        self.statuses: Counter[int] = Counter()
        self.failures: list[str] = []
        self.not_found: set[str] = set()
        self.latencies: list[float] = []
        self.started: list[float] = []  # time.monotonic() each answered request began
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def __enter__(self) -> Readers:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30)

    def _run(self) -> None:
        etags: dict[str, str] = {}
        conn = None
        while not self._stop.is_set():
            path = random.choice(self.paths)
            headers = {"If-None-Match": etags[path]} if path in etags and random.random() < 0.8 else {}
            began = time.monotonic()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(self.where.hostname or "", self.where.port, timeout=30)
                conn.request("GET", path, headers=headers)
                r = conn.getresponse()
                r.read()
                if r.getheader("ETag"):
                    etags[path] = r.getheader("ETag") or ""
                status = r.status
                if r.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                with self._lock:
                    self.failures.append(f"{path}: {type(e).__name__}: {e}")
                if conn is not None:
                    conn.close()
                conn = None
                continue
            with self._lock:
                self.statuses[status] += 1
                if status == 404:
                    self.not_found.add(path)
                self.latencies.append(time.monotonic() - began)
                self.started.append(began)

    def between(self, start: float, end: float) -> list[float]:
        """Latencies of the requests that began between `start` and `end`."""
        with self._lock:
            return [lat for t, lat in zip(self.started, self.latencies, strict=True) if start <= t <= end]

    @property
    def errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if s >= 500)


def get(url: str) -> tuple[int, bytes]:
    where = urlsplit(url)
    conn = http.client.HTTPConnection(where.hostname or "", where.port, timeout=30)
    try:
        conn.request("GET", where.path or "/")
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def entry_ids(feed: bytes) -> list[str]:
    from lxml import etree

    root = etree.fromstring(feed)
    return [e.findtext(ATOM_ID) for e in root.iter("{http://www.w3.org/2005/Atom}entry")]


def _write(target: str, name: str, count: int) -> None:
    from events import read_report
    from timeline import config
    from timeline.app import Timeline

    app = Timeline.open(config.resolve(target))
    rnd = random.Random(name)
    try:
        for i in range(count):
            report = read_report({
                "kind": "statement", "id": f"load/{name}/{i}", "title": f"Load {name} {i}", "occurred": "2024-07-08",
                "speaker": f"Writer {name}", "paraphrase": "Appended under load.", "topics": ["load"],
                "sources": ["https://news.example/load"],
            })  # fmt: skip
            print(app.record(report).id, flush=True)
            time.sleep(rnd.uniform(0, 0.05))
    finally:
        app.close()


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "writer":
        _write(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit("usage: loadtools.py writer TARGET NAME COUNT")

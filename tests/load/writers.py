"""Writers for the load tests and `benchmarks/stress.py`: many processes on one log.

`python -m tests.load.writers add DB WRITER COUNT` runs COUNT `timeline add` commands one
after another in one process, each through the command's own entry point with a fresh
session (it opens, writes and closes the database like a separate command; only the
interpreter's start-up is shared), and reads the views (`show`) after every tenth. It
prints one line per command that did not exit 0, with its stderr.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def development(writer: int, i: int, how: str) -> dict[str, Any]:
    return {
        "kind": "visit",
        "title": f"{how} writer {writer} development {i}",
        "occurred": "2024-07-06",
        "visitors": [f"Visitor {writer}"],
        "hosts": ["Host"],
        "topics": [f"writer-{writer}", "load"],
        "sources": [f"https://news.example.org/{how}/{writer}/{i}"],
    }


def write_import_file(path: Path, writer: int, count: int) -> Path:
    path.write_text("".join(json.dumps(development(writer, i, "import")) + "\n" for i in range(count)))
    return path


def add_args(db: str, writer: int, i: int) -> list[str]:
    d = development(writer, i, "add")
    return ["--db", db, "add", "visit", "--title", d["title"], "--occurred", d["occurred"],
            "--visitors", d["visitors"][0], "--hosts", "Host", "--topics", d["topics"][0],
            "--topics", "load", "--source", d["sources"][0]]  # fmt: skip


def _run_in_process(args: list[str]) -> tuple[int, str]:
    from timeline.cli import cli

    err = io.StringIO()
    code = 0
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            cli.main(args, prog_name="timeline")
        except SystemExit as e:
            code = int(e.code or 0)
    return code, err.getvalue()


def add_many(db: str, writer: int, count: int) -> int:
    failures = 0
    for i in range(count):
        for args in [add_args(db, writer, i), *([["--db", db, "show"]] if i % 10 == 9 else [])]:
            code, err = _run_in_process(args)
            if code != 0 or err.strip():
                failures += 1
                print(json.dumps({"args": args[2:4], "exit": code, "stderr": err.strip()}), flush=True)
    return failures


def timeline_command() -> list[str]:
    exe = Path(sys.executable).with_name("timeline")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "timeline"]


@dataclass
class LoadResult:
    """What a round of writers did: every process's exit status and what it said."""

    exits: list[int] = field(default_factory=list)
    complaints: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(e == 0 for e in self.exits) and not self.complaints


def run_writers(db: str, folder: Path, writers: int, per_import: int, per_add: int, timeout: float = 300) -> LoadResult:
    """`writers` imports of `per_import` developments and `writers` processes of `per_add`
    adds, all started at once against `db`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = []
    for w in range(writers):
        if per_import:
            file = write_import_file(folder / f"writer-{w}.jsonl", w, per_import)
            procs.append(subprocess.Popen([*timeline_command(), "--db", db, "import", str(file)], env=env,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))  # fmt: skip
        if per_add:
            procs.append(subprocess.Popen([sys.executable, "-m", "tests.load.writers", "add", db, str(w), str(per_add)],
                                          env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))  # fmt: skip
    result = LoadResult()
    for p in procs:
        out, err = p.communicate(timeout=timeout)
        result.exits.append(p.returncode)
        lines = [line for line in err.splitlines() if line.strip() and "new, 0 already there" not in line]
        if p.args[0] == sys.executable:  # an adder: its stdout lists its failures
            lines += out.splitlines()
        result.complaints += lines
    return result


def stored_ids(db: str) -> Counter[str]:
    """How many times each development id has a first event (`Reported`) in the log."""
    from timeline import config
    from timeline.app import Timeline
    from timeline.store import iter_notifications

    app = Timeline.open(config.resolve(db, create=False))
    try:
        return Counter(str(n.originator_id) for n in iter_notifications(app.recorder) if n.originator_version == 1)
    finally:
        app.close()


if __name__ == "__main__":
    _, verb, db, writer, count = sys.argv
    assert verb == "add"
    sys.exit(1 if add_many(db, int(writer), int(count)) else 0)

"""Driving a real `timeline serve` on 127.0.0.1 from a test: start it, read its URL, fetch."""

from __future__ import annotations

import os
import subprocess
import urllib.error
import urllib.request
from typing import Any

from tests.conftest import installed_timeline


def serve(db: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    """`timeline serve --port 0` on `db`, and its URL once its first build is done."""
    proc = subprocess.Popen(
        [*installed_timeline(), "--db", db, "serve", "--port", "0"], stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    lines, url = [], None
    for line in proc.stderr or ():
        lines.append(line.rstrip("\n"))
        if line.startswith("serving feeds at http://127.0.0.1:"):
            url = line.split(" at ", 1)[1].split()[0].rstrip("/")
        elif url and " files written in " in line:  # the first build is done: /checkpoint is there
            return proc, url
    raise AssertionError(f"serve exited {proc.wait()}: {lines}")


def fetch(url: str, **headers: str) -> tuple[int, Any, bytes]:
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()

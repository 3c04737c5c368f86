"""Shared fixtures: a fresh store on each back end, and ways to drive the CLI.

`target` runs a test once on a SQLite file and once on a fresh database on the real
PostgreSQL server. Without a server the PostgreSQL runs skip with the reason; under CI
(CI=true) they fail instead, because a silent skip there would hide a broken back end.

The suite runs in parallel (`nox -s tests` passes `-n auto` to pytest-xdist). A test that
stops the server (`stops_postgres`) must not overlap any other test that uses it, in this
run or in another worker: every PostgreSQL test holds a shared lock on one file for its
duration, and a `stops_postgres` test holds it exclusively.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from timeline.cli import cli

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "japan-cambodia-2024.jsonl"
PG_ADMIN = os.environ.get("TIMELINE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
SERVER_LOCK = Path(tempfile.gettempdir()) / f"timeline-tests-postgres-{os.getuid()}.lock"
_held: list[bool] = []  # this process's holds: a nested take would wait on its own lock


@contextmanager
def server_lock(exclusive: bool = False) -> Iterator[None]:
    """Shared while a test uses the server, exclusive while one stops it (across processes)."""
    if _held:
        yield
        return
    with SERVER_LOCK.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        _held.append(exclusive)
        try:
            yield
        finally:
            _held.pop()
            fcntl.flock(f, fcntl.LOCK_UN)


@pytest.fixture(autouse=True)
def _postgres_lock(request: pytest.FixtureRequest) -> Iterator[None]:
    """Autouse, so it is taken before the test's own PostgreSQL fixtures make its schema."""
    stops = request.node.get_closest_marker("stops_postgres") is not None
    uses = request.node.get_closest_marker("postgres") is not None or "postgres_server" in request.fixturenames
    if not (stops or uses):
        yield
        return
    with server_lock(exclusive=stops):
        yield


def _pg_unavailable_reason() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, connect_timeout=3, autocommit=True):
            return None
    except Exception as e:
        return f"PostgreSQL not reachable at {PG_ADMIN} ({str(e).strip().splitlines()[0]})"


@pytest.fixture(autouse=True)
def _processes_only_in_slow_tests(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test that starts a process is marked `slow` (so `-m "not slow"` is the fast tier)."""
    if request.node.get_closest_marker("slow") is not None:
        return

    def refuse(self: object, *args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"{request.node.nodeid} starts a process: mark it @pytest.mark.slow")

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
    monkeypatch.setenv("TIMELINE_IMPORT_WORKERS", "0")  # an import reads its lines in the test's process
    monkeypatch.setenv("TIMELINE_FEEDS_PAGES_APART", "0")  # a feeds build writes its pages in it too


@pytest.fixture(scope="session")
def postgres_server() -> str:
    with server_lock():
        reason = _pg_unavailable_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; under CI the PostgreSQL tests must run, not skip")
        pytest.skip(reason)
    return PG_ADMIN


@pytest.fixture(scope="session")
def postgres_database(postgres_server: str) -> Iterator[str]:
    """One database for the session's tests, each of which works in a schema of its own."""
    import psycopg

    name = f"timeline_test_{uuid.uuid4().hex[:12]}"
    # Session-scoped, so set up and torn down outside any test's hold of the lock.
    with server_lock(), psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{postgres_server.rsplit('/', 1)[0]}/{name}"
    with server_lock(), psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_own_database(postgres_server: str) -> Iterator[str]:
    """A fresh database of its own, for a test about whole databases (their schemas, their
    names); dropped afterwards. Slower than `postgres_url`."""
    import psycopg

    name = f"timeline_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{postgres_server.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url(postgres_database: str) -> Iterator[str]:
    """A fresh, empty schema for one test (`?schema=`: far cheaper than a database per
    test), dropped afterwards. A table that lands anywhere else fails the test."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield f"{postgres_database}?schema={schema}"
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        stray = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
        for table_schema, table_name in stray:
            conn.execute(f'DROP TABLE "{table_schema}"."{table_name}" CASCADE')
    assert not stray, f"tables outside the test's schema {schema}: {stray}"


def pg_connect(url: str, **options: Any) -> Any:
    """A psycopg connection to a test URL, its `?schema=` as the search path (libpq itself
    knows no `schema` parameter)."""
    import psycopg

    base, _, query = url.partition("?schema=")
    return psycopg.connect(base, options=f"-c search_path={query}" if query else None, **options)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "timeline.db")
    return str(request.getfixturevalue("postgres_url"))


class Cli:
    """Runs `timeline --db TARGET ...` in-process through click's CliRunner."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __call__(self, *args: str, input: str | None = None, ok: bool = True) -> Any:
        result = CliRunner().invoke(cli, ["--db", self.target, *args], input=input, catch_exceptions=False)
        if ok and result.exit_code != 0:
            raise AssertionError(f"timeline {' '.join(args)} exited {result.exit_code}: {result.stderr}")
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)

    def import_seed(self) -> Any:
        return self("import", str(SEED))


@pytest.fixture
def run(target: str) -> Cli:
    return Cli(target)


@pytest.fixture
def sqlite_run(tmp_path: Path) -> Cli:
    return Cli(str(tmp_path / "timeline.db"))


def installed_timeline() -> list[str]:
    """The installed console script, as a user runs it."""
    exe = shutil.which("timeline", path=str(Path(sys.executable).parent)) or shutil.which("timeline")
    return [exe] if exe else [sys.executable, "-m", "timeline"]


@pytest.fixture
def timeline_cmd() -> Any:
    def call(*args: str, input: str | None = None, env: dict[str, str] | None = None, timeout: float = 60) -> Any:
        return subprocess.run(
            [*installed_timeline(), *args], input=input, capture_output=True, text=True, timeout=timeout,
            env={**os.environ, **(env or {})},
        )  # fmt: skip

    return call

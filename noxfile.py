"""Sessions: tests (the suite, then a smoke run of the installed command), lint, types, bench.

`nox -s tests -- -k feeds` passes arguments through to pytest.
"""

from __future__ import annotations

import nox

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True

SEED = "examples/japan-cambodia-2024.jsonl"


@nox.session
def tests(session: nox.Session) -> None:
    """Install the project as a user would, run the whole suite, then use the command."""
    session.install(".[test]")
    session.run("pytest", *session.posargs)
    tmp = session.create_tmp()
    db = f"{tmp}/smoke.db"
    session.run("timeline", "--db", db, "import", SEED, silent=True)
    session.run("timeline", "--db", db, "state", silent=True)
    session.run("rm", "-f", db, f"{db}-wal", f"{db}-shm", external=True)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", "events", "timeline", "feeds", "tests", "benchmarks", *session.posargs)


@nox.session
def types(session: nox.Session) -> None:
    session.install(".[test]", "mypy")
    session.run("mypy", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks (not tests, not in CI): writes BENCHMARKS.md. `-- --quick` for a short run."""
    session.install(".[bench]")
    session.run("python", "benchmarks/run.py", *session.posargs)

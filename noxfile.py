"""Sessions: tests (the suite, then a smoke run of the installed command), lint, types,
coverage and bench.

`nox -s tests -- -k feeds` passes arguments through to pytest. Tool versions are pinned
here so that every machine formats and checks alike.
"""

from __future__ import annotations

import nox

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True

SEED = "examples/japan-cambodia-2024.jsonl"
RUFF = "ruff==0.17.6"
MYPY = "mypy==2.4.1"
COVERAGE = "coverage[toml]==7.17.5"
CODE = ("events", "timeline", "feeds", "tests", "benchmarks")


@nox.session
def tests(session: nox.Session) -> None:
    """Install the project as a user would, run the whole suite, then use the command."""
    session.install(".[test]")
    # Over every core (pytest-xdist); work stealing, because a few tests take far longer.
    session.run("pytest", "-n", "auto", "--dist", "worksteal", *session.posargs)
    tmp = session.create_tmp()
    db = f"{tmp}/smoke.db"
    session.run("timeline", "--db", db, "import", SEED, silent=True)
    session.run("timeline", "--db", db, "state", silent=True)
    session.run("rm", "-f", db, f"{db}-wal", f"{db}-shm", external=True)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check, as pre-commit runs them."""
    session.install(RUFF)
    session.run("ruff", "check", *CODE, *session.posargs)
    session.run("ruff", "format", "--check", *CODE)


@nox.session
def types(session: nox.Session) -> None:
    session.install(".[test]", MYPY)
    session.run("mypy", *session.posargs)


@nox.session
def coverage(session: nox.Session) -> None:
    """The suite under branch coverage; the report names the lines no test reaches."""
    session.install("-e", ".[test]", COVERAGE)
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", *session.posargs)
    session.run("coverage", "combine", success_codes=[0, 1])
    session.run("coverage", "report", "--skip-covered", "--sort=cover")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks (not tests, not in CI): writes BENCHMARKS.md. A partial run:
    `nox -s bench -- --sizes 10000,100000 --pg-sizes 10000 --figures add,follow`."""
    session.install(".[bench]")
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session
def stress(session: nox.Session) -> None:
    """Issue 10's stress run (not in CI): load rounds, large imports and kills on both back
    ends, then the hostile-input properties at 10,000 cases each. `-- --rounds 2` is short."""
    session.install(".[test]")
    session.run("python", "benchmarks/stress.py", "--properties", "10000", *session.posargs)

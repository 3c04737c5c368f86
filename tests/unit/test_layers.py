"""The layers, checked from the source: the domain imports no infrastructure, and the
feeds use nothing of `timeline` but its read interface (see `timeline/reading.py`).

Read with `ast`, not by importing, so a lazy import inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What the domain may never import: storage, feeds, the CLI, the application.
INFRASTRUCTURE = (
    "sqlite3",
    "psycopg",
    "psycopg_pool",
    "eventsourcing.persistence",
    "eventsourcing.sqlite",
    "eventsourcing.postgres",
    "eventsourcing.application",
    "feedgen",
    "lxml",
    "click",
    "waitress",
    "timeline",
    "feeds",
)


def imports(package: str, root: Path = ROOT) -> list[tuple[str, int, str]]:
    """(file, line, module) for every import in a package, relative ones resolved."""
    found = []
    for path in sorted((root / package).rglob("*.py")):
        module = ".".join(path.relative_to(root).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found += [(str(path.relative_to(root)), node.lineno, a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = module.split(".")[: -node.level]
                    base = ".".join([*parent, base] if base else parent)
                found.append((str(path.relative_to(root)), node.lineno, base))
    return found


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def violations(package: str, forbidden: tuple[str, ...], root: Path = ROOT) -> list[str]:
    return [f"{f}:{line} imports {m}" for f, line, m in imports(package, root) if _within(m, forbidden)]


def test_the_domain_imports_no_infrastructure() -> None:
    assert violations("events", INFRASTRUCTURE) == []


@pytest.mark.parametrize(
    ("source", "seen"),
    [
        ("import sqlite3", "sqlite3"),
        ("def f():\n    from timeline.store import Sql", "timeline.store"),
        ("import feedgen.feed", "feedgen.feed"),
        ("from eventsourcing.postgres import PostgresRecorder", "eventsourcing.postgres"),
    ],
)
def test_the_check_sees_an_infrastructure_import(tmp_path: Path, source: str, seen: str) -> None:
    # The rule must be able to fail: a domain module with any of these imports breaks it.
    (tmp_path / "events" / "kinds").mkdir(parents=True)
    (tmp_path / "events" / "kinds" / "bad.py").write_text(source + "\n")
    assert violations("events", INFRASTRUCTURE, tmp_path) == [
        f"events/kinds/bad.py:{source.count(chr(10)) + 1} imports {seen}"
    ]


# What `feeds` may import of `timeline` (documented in timeline/reading.py and
# CONTRIBUTING.md): the package itself only for its version, then these modules and
# what they define. And no storage library: the store is reached through them.
READ_INTERFACE = ("timeline.errors", "timeline.reading", "timeline.views.queries")
READ_INTERFACE_NAMES = ("timeline", "timeline.__version__")
STORAGE = ("sqlite3", "psycopg", "psycopg_pool", "eventsourcing")
# The story pages' signatures are the feeds' own file in the output folder, never the store.
OWN_FILES = {("feeds/signatures.py", "sqlite3")}


def imported_names(package: str, root: Path = ROOT) -> list[tuple[str, int, str]]:
    """(file, line, dotted name) for every name imported: `from a.b import c` gives `a.b.c`,
    so `from timeline import store` is seen as `timeline.store`, not as `timeline`."""
    found = []
    for path in sorted((root / package).rglob("*.py")):
        rel = str(path.relative_to(root))
        module = ".".join(path.relative_to(root).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found += [(rel, node.lineno, a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = module.split(".")[: -node.level]
                    base = ".".join([*parent, base] if base else parent)
                found += [(rel, node.lineno, base if a.name == "*" else f"{base}.{a.name}") for a in node.names]
    return found


def feeds_violations(root: Path = ROOT) -> list[str]:
    bad = []
    for path in sorted((root / "feeds").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            # The application is handed on to the read interface, never looked into.
            if isinstance(node, ast.Attribute) and node.attr in ("recorder", "_get", "events"):
                bad.append(f"{path.relative_to(root)}:{node.lineno} reads .{node.attr}")
    for f, line, name in imported_names("feeds", root):
        if (_within(name, STORAGE) and (f, name) not in OWN_FILES) or (
            _within(name, ("timeline",)) and name not in READ_INTERFACE_NAMES and not _within(name, READ_INTERFACE)
        ):
            bad.append(f"{f}:{line} imports {name}")
    return bad


def test_the_feeds_use_only_the_read_interface_of_timeline() -> None:
    assert feeds_violations() == []


@pytest.mark.parametrize(
    ("source", "seen"),
    [
        ("from timeline.store import Sql", "timeline.store.Sql"),
        ("def f():\n    from timeline.views.registry import load", "timeline.views.registry.load"),
        ("from timeline import store", "timeline.store"),
        ("import timeline.proof.publish", "timeline.proof.publish"),
        ("from timeline.views import runner", "timeline.views.runner"),
        ("from eventsourcing.persistence import PersistenceError", "eventsourcing.persistence.PersistenceError"),
        ("import sqlite3", "sqlite3"),
    ],
)
def test_the_check_sees_feeds_reach_below_the_read_interface(tmp_path: Path, source: str, seen: str) -> None:
    # The rule must be able to fail: a feeds module with any of these imports breaks it.
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "bad.py").write_text(source + "\n")
    assert feeds_violations(tmp_path) == [f"feeds/bad.py:{source.count(chr(10)) + 1} imports {seen}"]


def test_the_check_sees_feeds_look_into_the_application(tmp_path: Path) -> None:
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "bad.py").write_text("def f(app):\n    return app.recorder.max_notification_id()\n")
    assert feeds_violations(tmp_path) == ["feeds/bad.py:2 reads .recorder"]


def test_the_check_lets_the_read_interface_through(tmp_path: Path) -> None:
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "good.py").write_text(
        "from timeline import __version__, reading\nfrom timeline.views import queries\n"
        "from timeline.views.queries import Filter\nfrom timeline.errors import BadValue\nimport timeline.reading\n"
    )
    assert feeds_violations(tmp_path) == []

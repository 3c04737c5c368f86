"""The layers, checked from the source: the domain imports no infrastructure.

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

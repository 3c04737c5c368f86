"""What one `timeline add` imports: the domain, click, the library and the recorder, and
none of the libraries only other commands need. Each costs start-up time on every add
(issue 16 keeps one add within 4× of `python -c pass`); this keeps them from creeping back.
The add runs for real in a fresh interpreter, on each back end, and the test reads that
interpreter's `sys.modules` after it, and which commands the CLI made."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

# Top-level packages `add` must not import, and the project's own modules it must not load.
HEAVY = ("feedgen", "lxml", "jinja2", "markupsafe", "babel", "rapidfuzz", "cryptography", "waitress",
         "dateutil", "anyascii", "pykakasi", "edtf", "msgspec", "orjson", "http", "xml", "difflib",
         "argparse")  # fmt: skip
# What only the PostgreSQL driver brings: psycopg imports asyncio, ssl and importlib.metadata
# (which imports csv and email), and ctypes.util (subprocess, shutil, tempfile).
DRIVER = ("psycopg", "psycopg_pool", "psycopg_binary", "asyncio", "ssl", "email", "importlib.metadata",
          "csv", "ctypes", "subprocess", "shutil", "tempfile")  # fmt: skip
# What only some values need, loaded when one is read: amounts (a pledge's), named time zones.
# PostgreSQL's driver imports `zoneinfo` itself, so that is checked on SQLite.
ON_USE = ("events.money", "events.currencies")
ON_USE_SQLITE = ("zoneinfo",)
OWN = ("feeds", "events.actors", "events.ledger", "timeline.views", "timeline.importer",
       "timeline.import_pool", "timeline.audit", "timeline.registry", "timeline.export", "timeline.reading",
       "timeline.readonly", "timeline.scratch", "timeline.proof.note", "timeline.proof.keys",
       "timeline.proof.publish", "timeline.commands.actors", "timeline.commands.audit",
       "timeline.commands.export", "timeline.commands.feeds", "timeline.commands.proof")  # fmt: skip

CHILD = """
import json, sys
sys.argv = ["timeline", "--db", sys.argv[1], "add", "statement", "--title", "Startup imports",
            "--occurred", "6 July 2024", "--speaker", "Hun Manet", "--quote", "We welcome it.",
            "--source", "https://example.org/startup"]
from timeline.cli import add, cli, main
try:
    main()
except SystemExit as e:
    assert not e.code, e.code
made = {"cli": cli.commands.made, "add": add.commands.made}
print(json.dumps({"modules": sorted(sys.modules), "made": made}), file=sys.stderr)
"""


def run_add(target: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", CHILD, target], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found: dict[str, object] = json.loads(done.stderr.strip().splitlines()[-1])
    return found


def matching(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


def test_add_imports_only_what_it_needs(target: str) -> None:
    found = run_add(target)
    modules = set(found["modules"])  # type: ignore[call-overload]
    assert "events.development" in modules and "click" in modules  # the child did run `add`
    assert (matching(modules, HEAVY), matching(modules, OWN), matching(modules, ON_USE)) == ([], [], [])
    postgres = target.startswith("postgresql:")
    # SQLite's add never pays for the PostgreSQL driver, nor for what it imports.
    assert ("psycopg" in modules) == postgres
    if not postgres:
        assert (matching(modules, DRIVER), matching(modules, ON_USE_SQLITE)) == ([], [])


def test_add_makes_only_the_command_it_runs(target: str) -> None:
    """The CLI lists every command but makes (builds the options of) only those it runs:
    `add` and, of the kinds, `statement`; the other commands' modules stay unimported."""
    found = run_add(target)
    made = found["made"]
    assert isinstance(made, dict)
    assert "add" in made["cli"] and not {"feeds", "serve", "actor", "export", "replay", "keys"} & set(made["cli"])
    assert made["add"] == ["statement"]

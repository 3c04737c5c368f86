"""What one `timeline add` imports: the domain, click, the library and the recorder, and
none of the libraries only other commands need. Each costs start-up time on every add
(issue 16 keeps one add within 4× of `python -c pass`); this keeps them from creeping back.
The add runs for real in a fresh interpreter, on each back end, and the test reads that
interpreter's `sys.modules` after it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

# Top-level packages `add` must not import, and the project's own modules it must not load.
HEAVY = ("feedgen", "lxml", "jinja2", "markupsafe", "babel", "rapidfuzz", "cryptography", "waitress",
         "dateutil", "anyascii", "pykakasi", "edtf", "msgspec", "orjson", "http", "xml")  # fmt: skip
OWN = ("feeds", "events.actors", "timeline.views", "timeline.importer", "timeline.audit", "timeline.registry", "timeline.export",
       "timeline.proof.note", "timeline.proof.keys")  # fmt: skip

CHILD = """
import json, sys
sys.argv = ["timeline", "--db", sys.argv[1], "add", "statement", "--title", "Startup imports",
            "--occurred", "6 July 2024", "--speaker", "Hun Manet", "--quote", "We welcome it.",
            "--source", "https://example.org/startup"]
from timeline.cli import main
try:
    main()
except SystemExit as e:
    assert not e.code, e.code
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def loaded_by_add(target: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", CHILD, target], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def test_add_imports_only_what_it_needs(target: str) -> None:
    modules = loaded_by_add(target)
    assert "events.development" in modules and "click" in modules  # the child did run `add`
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    own = sorted(m for m in modules if any(m == o or m.startswith(o + ".") for o in OWN))
    assert (heavy, own) == ([], [])
    postgres = target.startswith("postgresql:")
    assert ("psycopg" in modules) == postgres  # SQLite's add never pays for the PostgreSQL driver

"""Property: any file `import` accepts, imported again, adds nothing and says every line is
already there, also when the log already held part of it (a file that grew). SQLite only,
a few dozen examples: the rule lives in the domain and the import's checking pass, which
both back ends share (tests/integration/test_store_and_cli.py runs it on both)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from timeline import config
from timeline.app import Timeline
from timeline.errors import TimelineError
from timeline.importer import import_lines

KEYS = ("v0", "v1")
URLS = ("https://e.org/1", "https://e.org/2", "https://e.org/3")

DEVELOPMENTS = [
    {
        "kind": "visit",
        "id": key,
        "title": f"Visit {key}",
        "occurred": "2024-07-06",
        "visitors": ["A"],
        "sources": [URLS[0]],
    }
    for key in KEYS
]
PLACES = ["Tokyo", "Osaka", "Kobe", "Nara", ""]
source = st.one_of(
    st.sampled_from(URLS),
    st.builds(lambda u, p: {"url": u, "publisher": p}, st.sampled_from(URLS), st.sampled_from(["P", "Q"])),
)
correct = st.builds(
    lambda key, fields, reason, src: {"op": "correct", "id": key, "set": fields, "reason": reason,
                                      **({"source": src} if src else {})},
    st.sampled_from(KEYS),
    st.dictionaries(st.sampled_from(["place", "purpose"]), st.sampled_from(PLACES), min_size=1),
    st.sampled_from(["r1", "r2"]), st.one_of(st.none(), st.sampled_from(URLS)),
)  # fmt: skip
add_source = st.builds(lambda key, src: {"op": "source", "id": key, "source": src}, st.sampled_from(KEYS), source)
retract = st.builds(
    lambda key, reason: {"op": "retract", "id": key, "reason": reason},
    st.sampled_from(KEYS),
    st.sampled_from(["gone", "wrong"]),
)


@st.composite
def files(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Two developments, changes to them, some lines said again, maybe a retraction last."""
    items = [*DEVELOPMENTS, *draw(st.lists(st.one_of(correct, add_source), max_size=8))]
    items += draw(st.lists(st.sampled_from(items), max_size=3))
    items += draw(st.lists(retract, max_size=1))
    return items


def imported(app: Timeline, items: list[dict[str, Any]]) -> dict[str, int]:
    return import_lines(app, [json.dumps(x) + "\n" for x in items]).as_dict()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files(), st.integers(min_value=0, max_value=14))
def test_a_file_imported_again_is_already_there(items: list[dict[str, Any]], cut: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = Timeline.open(config.resolve(str(Path(tmp) / "t.db")))
        try:
            try:
                imported(app, items[:cut])  # the log already holds the start of the file
                first = imported(app, items)
            except TimelineError:
                return  # a file the import refuses says nothing about importing it again
            events = app.event_count()
            again = imported(app, items)
            assert again == {"new": 0, "existing": first["lines"], "corrections": 0, "retractions": 0,
                             "sources": 0, "lines": first["lines"]}  # fmt: skip
            assert app.event_count() == events
        finally:
            app.close()

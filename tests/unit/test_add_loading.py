"""What one `timeline add` leaves unloaded, and that what is loaded later (or never made)
reads and stores the same (issue 16). The add runs in a fresh interpreter, on each back end.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import re
import subprocess
import sys
from typing import Any

import pytest
from eventsourcing.domain import _created_event_classes
from hypothesis import example, given
from hypothesis import strategies as st

import events
from events import Development, read_report
from events import fields as f
from events.dates import OccurredDate, Precision
from tests.unit.test_development import mapper

CHILD = """
import gc, json, sys
sys.argv = ["timeline", "--db", sys.argv[1], "add", "statement", "--title", "Loading",
            "--occurred", sys.argv[2], "--speaker", "Hun Manet", "--quote", "We welcome it.",
            "--source", "https://example.org/loading"]
from timeline.cli import main
loaded = gc.isenabled()
try:
    main()
except SystemExit as e:
    assert not e.code, e.code
print(json.dumps({"modules": sorted(sys.modules), "collecting": [loaded, gc.isenabled()]}), file=sys.stderr)
"""
# Loaded on use only: a date in any other form than "6 July 2024", and listings.
LATER = ("events.dates", "events.date_reading", "events.time_zones", "timeline.render", "events.display",
         "events.development_changes")  # fmt: skip


def run_add(target: str, occurred: str) -> dict[str, list[str]]:
    done = subprocess.run([sys.executable, "-c", CHILD, target, occurred], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found: dict[str, list[str]] = json.loads(done.stderr.strip().splitlines()[-1])
    return found


@pytest.mark.slow
def test_an_add_dated_plainly_loads_no_date_reader_nor_renderer(target: str) -> None:
    found = run_add(target, "6 July 2024")
    assert "events.development" in found["modules"]
    assert [m for m in LATER if m in found["modules"]] == []
    # The collector paused while the CLI loaded and the add ran, and runs again after.
    assert found["collecting"] == [True, True]


@pytest.mark.slow
def test_an_add_dated_otherwise_loads_the_reader_when_it_reads_the_date(target: str) -> None:
    found = run_add(target, "since July 2024")
    assert {"events.dates", "events.date_reading"} <= set(found["modules"])


def test_the_domain_still_offers_its_dates_by_name() -> None:
    assert (events.OccurredDate, events.Precision) == (OccurredDate, Precision)
    with pytest.raises(AttributeError):
        _ = events.NoSuchThing  # type: ignore[attr-defined]


@pytest.mark.parametrize("raw", ["6 July 2024", "6 Sept 2024", "since July 2024", "2024-07", "4-5 June 2024"])
def test_a_date_field_reads_as_the_full_reader_does(raw: str) -> None:
    f._date_cached.cache_clear()
    assert f.date(raw) == str(OccurredDate.parse(raw))


@pytest.mark.slow
def test_importing_the_cli_leaves_the_collector_as_it_was() -> None:
    code = "import gc; gc.disable(); import timeline.cli; print(gc.isenabled())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "False"
    assert gc.isenabled()  # this process imported it too (the tests' CLI runner)


def test_development_has_one_created_class_reported() -> None:
    """`Development.Created` is `Reported`: the library makes no class of its own for it,
    and records (and stores) a development with `Reported`, as before."""
    assert Development.Created is Development.Reported
    assert _created_event_classes[Development] == [Development.Reported]
    _ = Development.Corrected  # the change events are made when first asked for
    classes = [v for v in vars(Development).values() if isinstance(v, type)]
    assert {c.__qualname__ for c in classes} == {
        "Development.Event", "Development.Reported", "Development.Corrected", "Development.Retracted",
        "Development.SourceAdded",
    }  # fmt: skip
    report = read_report({"kind": "statement", "title": "T", "occurred": "6 July 2024", "speaker": "S",
                          "quote": "Q", "sources": ["https://example.org/a"]})  # fmt: skip
    (event,) = Development.record(report).collect_events()
    assert type(event) is Development.Reported
    stored = mapper().to_stored_event(event)
    assert stored.topic == "events.development:Development.Reported"
    assert json.loads(stored.state)["originator_topic"] == "events.development:Development"


XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@given(
    st.one_of(st.text(), st.text(alphabet=st.characters(max_codepoint=0x7F)), st.from_regex("[ -~]*", fullmatch=True))
)
@example("plain text")
@example("tab\tand newline\n")
@example("nul\x00 and del\x7f")
def test_xml_safe_strips_as_the_pattern_does(value: str) -> None:
    """Printable ASCII is returned as it is without the pattern (compiled on first use)."""
    assert f.xml_safe(value) == XML_FORBIDDEN.sub("", value)


CHANGES_CHILD = """
import sys, threading
from events.development import Development
assert "Corrected" not in vars(Development) and "events.development_changes" not in sys.modules
seen, start = [], threading.Barrier(8)
def ask(name):
    start.wait()
    seen.append(getattr(Development, name))
threads = [threading.Thread(target=ask, args=(n,)) for n in ["Corrected", "Retracted", "SourceAdded", "Corrected"] * 2]
for t in threads: t.start()
for t in threads: t.join()
print(len({id(c) for c in seen}), sorted({c.__qualname__ for c in seen}))
"""


@pytest.mark.slow
def test_the_change_events_are_made_once_when_first_asked_for() -> None:
    """Eight threads asking at once get one class of each (else `isinstance` would fail
    between them), named as declared in `Development`'s body."""
    done = subprocess.run([sys.executable, "-c", CHANGES_CHILD], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout.split("\n")[0] == "3 ['Development.Corrected', 'Development.Retracted', 'Development.SourceAdded']"
    )


def test_the_change_events_are_as_declared_on_development() -> None:
    from eventsourcing.utils import get_topic, resolve_topic

    for name, fields in (("Corrected", ["changes", "reason", "source"]), ("Retracted", ["reason", "source"]),
                         ("SourceAdded", ["source"])):  # fmt: skip
        cls = getattr(Development, name)
        assert cls is vars(Development)[name] is resolve_topic(f"events.development:Development.{name}")
        assert (cls.__module__, cls.__qualname__, cls.__name__) == ("events.development", f"Development.{name}", name)
        assert get_topic(cls) == f"events.development:Development.{name}"
        assert cls.__bases__ == (Development.Event,) and cls.class_version == 1
        assert [f.name for f in dataclasses.fields(cls)] == [
            "originator_id",
            "originator_version",
            "timestamp",
            *fields,
        ]
    with pytest.raises(AttributeError, match="type object 'Development' has no attribute 'Nothing'"):
        _ = Development.Nothing  # type: ignore[attr-defined]


def test_adds_run_in_a_process_that_goes_on_freeze_nothing(sqlite_run: Any) -> None:
    """Only a one-command process (`timeline.cli.main`) freezes what an add made: in a
    test's or a benchmark's, a failed add's traceback and app, or a good add's garbage,
    must stay collectable, and the collector runs after either."""
    import timeline.cli  # noqa: F401 - loaded first: loading it freezes what it loaded, once

    frozen = gc.get_freeze_count()
    for occurred in ("nonsense", "6 July 2024", "nonsense"):
        done = sqlite_run("add", "visit", "--title", "t", "--occurred", occurred, "--visitors", "A", "--hosts", "B",
                          "--source", "https://news.example/a", ok=occurred != "nonsense")  # fmt: skip
        assert (done.exit_code == 0) == (occurred != "nonsense")
        assert gc.isenabled()
    assert gc.get_freeze_count() <= frozen  # frozen objects freed lower it

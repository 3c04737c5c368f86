"""Hostile input (issue 10 defect 2): every import line and every `add`/`correct` option
is stored or refused with one line, never a traceback, and a refusal leaves the log as
it was.

Generated: arbitrary JSON values and development-shaped objects (nesting, control
characters, lone surrogates, long strings, dates and amounts as people write them and
as nobody does), raw bytes that are not UTF-8, and command-line values that are not
UTF-8 (Python hands those over as lone surrogates). Every case runs the real command
in-process (click's runner, `catch_exceptions=False`, so any exception fails the test).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import SEED, installed_timeline
from timeline.cli import cli

PACKAGE = "japan-cambodia-2024/package"


# Text a report, a careless editor or an attacker might send.
hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8"), max_size=40),
    st.text(st.characters(categories=["Cc", "Cs", "Zl", "Zp", "Co", "Cn"]), max_size=10),
    st.sampled_from(["", " ", "\n", "\x00", "\ud800x", "\udcff", "a\u202eb", "\ufeff", "<b>&amp;</b>"]),
    st.sampled_from([19_999, 20_000, 20_001, 1 << 20]).map(lambda n: "x" * n),  # up to 1 MB
)
dates = st.one_of(
    st.sampled_from(["July 6, 2024", "6 Jul 2024", "2024-07-06", "2024-07", "1994", "since 1994",
                     "before July 2024", "4-5 June 2024", "03/04/2024", "2024-06-04 10:00", "31 Feb 2024",
                     "0000", "9999-12-31", "-1", "2024-13", "yesterday", "..", "2024/..", "1e9"]),
    st.from_regex(r"\A[0-9]{1,5}([-/. ][0-9]{1,2}){0,3}\Z"),
    hostile_text,
)  # fmt: skip
amounts = st.one_of(
    st.sampled_from(["8.3bn yen", "¥8 billion", "$51.5 million", "USD 2.7M", "about $50 million", "5,5 million euros",
                     "$", "1e400 USD", "-5 USD", "NaN USD", "sNaN USD", "SNAN", "Infinity EUR", "0 XXX", "$" + "9" * 500]),
    st.builds(lambda n, c: f"{n} {c}", st.decimals(allow_nan=True, allow_infinity=True), st.sampled_from(["USD", "yen", "€", "Ksh", "bn"])),
    hostile_text,
)  # fmt: skip
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | hostile_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=12,
)
FIELDS = ["title", "summary", "occurred", "place", "topics", "actors", "sources", "visitors", "hosts", "purpose",
          "donor", "recipient", "amount", "instrument", "equivalents", "part_of", "speaker", "role", "quote",
          "paraphrase", "parties", "subject", "agreement_type", "id", "op", "set", "reason", "source", "kind"]  # fmt: skip
field_values = st.one_of(json_values, dates, amounts, st.lists(hostile_text, max_size=3))


development_like = st.fixed_dictionaries(
    {"kind": st.sampled_from(["visit", "pledge", "statement", "agreement", "bogus"]), "title": hostile_text,
     "occurred": dates, "sources": st.just(["https://example.org/a"])},
    optional={f: field_values for f in FIELDS if f not in ("kind", "title", "occurred", "sources")},
)  # fmt: skip
change_like = st.fixed_dictionaries(
    {"op": st.sampled_from(["correct", "retract", "source", "bogus"]), "id": st.sampled_from([PACKAGE, "nope", ""])},
    optional={"set": st.dictionaries(st.sampled_from(FIELDS), field_values, max_size=3), "reason": hostile_text,
              "source": field_values},
)  # fmt: skip


def _encode(value: Any) -> bytes:
    # json.dumps writes lone surrogates as \\ud800 escapes, as a hostile file would.
    return json.dumps(value).encode()


line_bytes = st.one_of(
    development_like.map(_encode),
    change_like.map(_encode),
    json_values.map(_encode),
    st.binary(max_size=60),
    st.integers(1, 200_000).map(lambda n: b"[" * n),
    st.integers(1, 5000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    st.sampled_from([b"\xff\xfe", b'{"title": "\xc3\x28"}', b"\xed\xa0\x80", b"{}", b"null", b'"x"', b"\r\n"]),
)


class Store:
    """One database for all of a property's examples, seeded with the story."""

    def __init__(self, path: Path) -> None:
        self.db = str(path)
        assert self.run("import", str(SEED)).exit_code == 0

    def run(self, *args: str, stdin: bytes | None = None) -> Any:
        return CliRunner().invoke(cli, ["--db", self.db, *args], input=stdin, catch_exceptions=False)

    def log_length(self) -> int:
        with sqlite3.connect(self.db) as conn:
            return int(conn.execute("SELECT count(*) FROM stored_events").fetchone()[0])

    def check(self, result: Any, before: int) -> None:
        """Stored, or refused with one line and nothing written."""
        assert "Traceback" not in result.output
        if result.exit_code == 0:
            return
        assert result.exit_code in (1, 2), result.output
        assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
        assert self.log_length() == before, result.stderr


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return Store(tmp_path_factory.mktemp("hostile") / "timeline.db")


@given(lines=st.lists(line_bytes, min_size=1, max_size=4))
def test_any_import_file_is_stored_or_refused_in_one_line(store: Store, lines: list[bytes], tmp_path: Path) -> None:
    path = tmp_path / "input.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    before = store.log_length()
    result = store.run("import", str(path))
    store.check(result, before)


@given(data=st.binary(max_size=200))
def test_any_bytes_on_stdin_are_stored_or_refused_in_one_line(store: Store, data: bytes) -> None:
    before = store.log_length()
    store.check(store.run("import", "-", stdin=data), before)


OPTIONS = {
    "visit": ["--visitors", "--hosts", "--purpose"],
    "pledge": ["--donor", "--recipient", "--amount", "--instrument", "--purpose", "--equivalents", "--part-of"],
    "statement": ["--speaker", "--role", "--quote", "--paraphrase"],
    "agreement": ["--parties", "--subject", "--agreement-type"],
}
COMMON = ["--id", "--title", "--summary", "--occurred", "--place", "--topics", "--actors", "--source",
          "--publisher", "--published"]  # fmt: skip


def _option_value(option: str) -> st.SearchStrategy[str]:
    if option in ("--occurred", "--published"):
        return dates
    if option in ("--amount", "--equivalents"):
        return amounts
    return hostile_text


@st.composite
def add_args(draw: st.DrawFn) -> list[str]:
    kind = draw(st.sampled_from(sorted(OPTIONS)))
    args = ["add", kind, "--title", draw(hostile_text), "--occurred", draw(dates), "--source", "https://example.org/x"]
    for option in draw(st.lists(st.sampled_from(COMMON + OPTIONS[kind]), max_size=6)):
        args += [option, draw(_option_value(option))]
    return args


@given(args=add_args())
def test_any_add_is_stored_or_refused_in_one_line(store: Store, args: list[str]) -> None:
    before = store.log_length()
    store.check(store.run(*[a.replace("\x00", "") for a in args]), before)  # argv cannot hold NUL


@given(
    changes=st.lists(st.tuples(st.sampled_from([*FIELDS, "amount", "occurred", "", "=", "bogus"]),
                               st.one_of(dates, amounts, hostile_text)), min_size=1, max_size=3),
    reason=hostile_text,
    source=st.one_of(st.none(), hostile_text),
)  # fmt: skip
def test_any_correct_is_stored_or_refused_in_one_line(
    store: Store, changes: list[tuple[str, str]], reason: str, source: str | None
) -> None:
    args = ["correct", PACKAGE, "--reason", reason]
    for name, value in changes:
        args += ["--set", f"{name}={value}"]
    if source is not None:
        args += ["--source", source]
    before = store.log_length()
    store.check(store.run(*[a.replace("\x00", "") for a in args]), before)


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["add", "visit", "--title", b"bad \xff", "--occurred", "2024", "--visitors", "A", "--source", "https://e.org"], "--title"),
        (["add", "visit", "--id", b"k\xfe", "--title", "T", "--occurred", "2024", "--visitors", "A", "--source", "https://e.org"], "--id"),
        (["add", "visit", "--title", "T", "--occurred", "2024", b"--visitors=\xc3\x28", "--source", "https://e.org"], "--visitors"),
        (["correct", PACKAGE, "--set", b"title=\xff", "--reason", "r"], "--set"),
        (["correct", PACKAGE, "--set", "title=x", "--reason", b"\xed\xa0\x80"], "--reason"),
    ],
)  # fmt: skip
@pytest.mark.slow
def test_arguments_that_are_not_utf8_are_refused_by_the_installed_command(
    store: Store, args: list[str | bytes], option: str
) -> None:
    before = store.log_length()
    argv = [*installed_timeline(), "--db", store.db, *(os.fsencode(a) if isinstance(a, str) else a for a in args)]
    result = subprocess.run(argv, capture_output=True, timeout=60)
    bad = next(a for a in args if isinstance(a, bytes))
    value = bad.split(b"=", 1)[1] if bad.startswith(b"--") else bad
    shown = value.decode("utf-8", "backslashreplace")
    assert (result.returncode, result.stdout) == (2, b"")  # a usage error, as every unreadable value
    assert (
        result.stderr.decode() == f"Error: the value of {option} is not UTF-8 text ('{shown}'); nothing was written\n"
    )
    assert store.log_length() == before

"""Replay (`replay --as-of`, `--as-of` of search, export and feeds build, `history`, `diff`)
reads only rows the log's Merkle tree proves, as the views' catch-up does: at the first
it does not, inside the range asked for, it stops and says where and why in one line.
Before that row the log is whole, and a replay that ends there still works."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Cli
from tests.forgery import edit_row
from timeline import config
from timeline.app import Timeline

REASON = "(`timeline verify` lists every problem)"
ALTERED_7 = "#7 was altered: the stored event differs from the one in the log's tree"


def _alter_row_7(target: str) -> None:
    app = Timeline.open(config.resolve(target))
    try:
        edit_row(app, 7, b"Japan", b"Japon")
    finally:
        app.close()


def test_replay_past_an_altered_row_stops_there_and_before_it_works(target: str, tmp_path: Path) -> None:
    site = tmp_path / "site"
    run = Cli(target)
    run.import_seed()
    before = run("replay", "--as-of", "#6", "--json").stdout
    _alter_row_7(target)

    assert run("replay", "--as-of", "#6", "--json").stdout == before  # the whole part of the log
    for args in (["replay", "--as-of", "#10"], ["feeds", "build", "--out", str(site), "--as-of", "#10"],
                 ["search", "Japon", "--as-of", "#20"]):  # fmt: skip
        result = run(*args, ok=False)
        assert (result.exit_code, result.stdout) == (1, ""), args
        assert result.stderr == f"Error: replay stops at #6: {ALTERED_7} {REASON}\n", args
    out = tmp_path / "lines.jsonl"
    result = run("export", "--format", "jsonl", "--out", str(out), ok=False)
    assert result.exit_code == 1 and result.stderr == f"Error: replay stops at #6: {ALTERED_7} {REASON}\n"
    assert not out.exists() and not site.exists() and list(tmp_path.glob(".*.tmp")) == []  # nothing written
    assert json.loads(run("replay", "--as-of", "#5", "--json").stdout)  # still readable before it


def test_an_altered_first_row_lets_no_replay_start(sqlite_run: Cli) -> None:
    sqlite_run.import_seed()
    app = Timeline.open(config.resolve(sqlite_run.target))
    try:
        edit_row(app, 1, b"Japan", b"Japon")
    finally:
        app.close()
    result = sqlite_run("replay", "--as-of", "#3", ok=False)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: replay cannot start: #1 was altered: the stored event differs from the one in the log's tree {REASON}\n"
    )

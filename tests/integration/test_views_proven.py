"""Catch-up projects only rows the log's Merkle tree proves: at the first row it does not,
the views stop just before it and the command says where and why, in one line."""

from __future__ import annotations

from typing import Any

from tests.conftest import Cli
from tests.forgery import edit_row, insert_row_without_leaf
from timeline import config
from timeline.app import Timeline
from timeline.views.runner import Views

REASON = "(`timeline verify` lists every problem)"


def _tamper(target: str, action: Any) -> int:
    app = Timeline.open(config.resolve(target))
    try:
        return int(action(app))
    finally:
        app.close()


def _views_position(target: str) -> int:
    app = Timeline.open(config.resolve(target))
    try:
        return Views(app).position()
    finally:
        app.close()


def test_a_row_without_a_leaf_is_not_projected(target: str) -> None:
    run = Cli(target)
    run.import_seed()
    shown = run("show", "--json").stdout
    forged = _tamper(target, lambda app: insert_row_without_leaf(app, copy_of=25))
    assert forged == 26
    for _ in range(2):  # refused each time, never applied
        result = run("show", "--json", ok=False)
        assert result.exit_code == 1 and result.stdout == ""
        assert result.stderr == (
            "Error: the views stop at #25: #26 is not in the log's tree: no append wrote it"
            f" (a row put in behind the log's back) {REASON}\n"
        )
        assert _views_position(target) == 25
    assert run("verify", ok=False).exit_code != 0  # verify names it too
    del shown


def test_views_catch_up_to_the_row_before_an_altered_one_and_stop(target: str) -> None:
    run = Cli(target)
    run.import_seed()  # the views are not caught up by an import
    _tamper(target, lambda app: edit_row(app, 7, b"Japan", b"Japon") or 0)
    result = run("topics", ok=False)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: the views stop at #6: #7 was altered: the stored event differs from the one in the log's tree"
        f" {REASON}\n"
    )
    assert _views_position(target) == 6


def test_an_altered_first_row_leaves_the_views_empty(target: str) -> None:
    run = Cli(target)
    run.import_seed()
    _tamper(target, lambda app: edit_row(app, 1, b"Japan", b"Japon") or 0)
    result = run("show", ok=False)
    assert result.stderr == (
        "Error: the views stay empty: #1 was altered: the stored event differs from the one in the log's tree"
        f" {REASON}\n"
    )
    assert _views_position(target) == 0

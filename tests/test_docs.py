"""Every command the README shows is checked, so the README cannot drift (the way
sqlite-utils' tests/test_docs.py keeps its documentation honest).

A command written out in full is run, in the README's order, against a scratch SQLite
database that its first block fills with the seed story, and must succeed. A synopsis
(with `[...]`, `ID`, `URL`, `...` placeholders), a command that runs until stopped
(`serve`, `log --follow`) and one aimed at another database (`--db postgresql://...`)
is checked against the command-line interface instead: the command exists and takes
every option the README gives it. Import lines shown as JSON must be lines `import` reads.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from timeline.cli import cli

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PLACEHOLDER = re.compile(r"#?[A-Z][A-Z_]*([=:][A-Z_#]+)?")
ENDLESS = ({"serve"}, {"log", "--follow"}, {"log", "-f"})


def blocks(language: str) -> Iterator[str]:
    yield from re.findall(rf"^```{language}\n(.*?)^```", README.read_text(), flags=re.S | re.M)


def commands() -> list[list[str]]:
    """Each `timeline ...` command of the README's sh blocks, as argv after `timeline`."""
    found = []
    for block in blocks("sh"):
        for line in block.replace("\\\n", " ").splitlines():
            tokens = shlex.split(line, comments=True)
            start = 0
            for i, token in enumerate([*tokens, "&&"]):
                if token in ("&&", "|", ";"):
                    part = tokens[start:i]
                    start = i + 1
                    if part and Path(part[0]).name == "timeline":
                        found.append(part[1:])
    return found


def is_synopsis(argv: list[str]) -> bool:
    return any(t == "..." or "[" in t or "]" in t or PLACEHOLDER.fullmatch(t) for t in argv)


def runs_forever(argv: list[str]) -> bool:
    return any(words <= set(argv) for words in ENDLESS)


def check_options(argv: list[str]) -> None:
    """The command path exists and each option shown is one it takes."""
    command: click.Command = cli
    known = {o for p in cli.params for o in (*p.opts, *p.secondary_opts)}
    words = [t.strip("[]") for t in argv]
    i = 0
    while i < len(words):
        word = words[i]
        if word in ("--db",):
            i += 2
            continue
        if isinstance(command, click.Group) and not word.startswith("-"):
            sub = command.get_command(click.Context(command), word)
            assert sub is not None, f"README: `timeline {' '.join(argv)}`: no command {word!r}"
            command = sub
        elif word.startswith("-"):
            name = word.split("=", 1)[0]
            options = known | {o for p in command.params for o in (*p.opts, *p.secondary_opts)} | {"-h", "--help"}
            assert name in options, f"README: `timeline {' '.join(argv)}`: {name} is not an option of {command.name}"
        i += 1
    assert not isinstance(command, click.Group) or command is cli, (
        f"README: `timeline {' '.join(argv)}` names no command"
    )


def test_the_readme_shows_commands() -> None:
    found = commands()
    assert len(found) >= 20 and sum(not is_synopsis(c) and not runs_forever(c) for c in found) >= 10


def test_every_command_the_readme_shows_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    env = {"TIMELINE_DB": str(tmp_path / "readme.db")}
    ran = 0
    for argv in commands():
        check_options(argv)
        if is_synopsis(argv) or runs_forever(argv) or "--db" in argv:
            continue
        result = CliRunner().invoke(cli, argv, env=env, catch_exceptions=False)
        assert result.exit_code == 0, (
            f"README: `timeline {shlex.join(argv)}` exited {result.exit_code}: {result.stderr}"
        )
        ran += 1
    assert ran >= 10


def test_every_import_line_the_readme_shows_is_read() -> None:
    from timeline.importer import _parse

    shown = [line for block in blocks("json") for line in block.splitlines() if line.strip()]
    assert len(shown) >= 4
    for number, line in enumerate(shown, 1):
        assert _parse(number, line) is not None, line
        json.loads(line)


def test_ci_runs_the_readmes_test_command() -> None:
    """`.ci/run` must run what a newcomer runs: the README's second set-up command, as its
    last line, after making sure PostgreSQL is up and the browser tests' tools are there."""
    setup = list(blocks("sh"))[:2]
    ci = (ROOT / ".ci" / "run").read_text()
    assert setup[1].strip() == ci.strip().splitlines()[-1]
    for step in ("pg_ctlcluster --skip-systemctl-redirect", "apt-get install -y -qq chromium", "axe-core@4",
                 "install -y -qq npm"):  # fmt: skip
        assert step in ci, step

"""Command groups kept apart from the core CLI; each module lists its COMMANDS.

A command is made (and its module imported) only when it is run or listed in full, so
that one `timeline add` pays for none of the others: `LazyCommands` is a group's table of
commands that makes each on first use, and `OPTIONAL` names the module of each command
these modules hold (a test checks it against their COMMANDS).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click

# Command name -> the module of this package that holds it in its COMMANDS.
OPTIONAL = {
    "actor": "actors", "actors": "actors", "search": "actors",
    "replay": "audit", "history": "audit", "diff": "audit", "verify": "audit",
    "config": "conventions",
    "export": "export",
    "feeds": "feeds", "serve": "feeds",
    "keys": "proof", "checkpoint": "proof", "prove": "proof", "check": "proof", "witness": "proof",
}  # fmt: skip


class LazyCommands(MutableMapping[str, "click.Command"]):
    """A click group's `commands`: each name listed at once, each command made when it is
    first looked up. Click only ever lists the names (usage, "no such command") or looks
    one up (the command run); `--help` looks up every one, to show its help."""

    def __init__(self, makers: Mapping[str, Callable[[], click.Command]]) -> None:
        self._makers = dict(makers)  # kept: listing the names never changes while made
        self._made: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._made:
            self._made[name] = self._makers[name]()  # KeyError: no such command
        return self._made[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._makers.pop(name, None)
        self._made[name] = command

    def __contains__(self, name: object) -> bool:  # without making it
        return name in self._makers or name in self._made

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self._makers.pop(name, None)
        self._made.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        yield from self._makers
        yield from [n for n in self._made if n not in self._makers]

    def __len__(self) -> int:
        return len(self._makers) + sum(n not in self._makers for n in self._made)

    @property
    def made(self) -> list[str]:
        """The names of the commands made so far."""
        return list(self._made)


def optional(name: str) -> Callable[[], click.Command]:
    """What makes the optional command `name`: importing its module."""

    def make() -> click.Command:
        module = importlib.import_module(f"{__name__}.{OPTIONAL[name]}")
        commands: list[click.Command] = module.COMMANDS
        return next(c for c in commands if c.name == name)

    return make

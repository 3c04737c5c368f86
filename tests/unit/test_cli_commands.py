"""The CLI's table of commands: every command listed at once, each made on first use."""

from __future__ import annotations

import importlib
import pkgutil

import click
import pytest

import timeline.commands
from timeline.commands import OPTIONAL, LazyCommands


def test_the_table_names_every_command_of_the_command_modules() -> None:
    """A command added to a module's COMMANDS must be listed in OPTIONAL (or it would never
    be offered), and every listed one must be there."""
    held = {}
    for info in pkgutil.iter_modules(timeline.commands.__path__):
        module = importlib.import_module(f"timeline.commands.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            held[command.name] = info.name
    assert held == OPTIONAL


def test_lazy_commands_make_each_command_once_when_looked_up() -> None:
    made: list[str] = []

    def maker(name: str) -> click.Command:
        def make() -> click.Command:
            made.append(name)
            return click.Command(name)

        return make

    commands = LazyCommands({"b": maker("b"), "a": maker("a")})
    commands["c"] = click.Command("c")
    assert sorted(commands) == ["a", "b", "c"] and len(commands) == 3
    assert "a" in commands and "z" not in commands and made == []  # listing makes nothing
    assert commands.get("z") is None and made == []
    first = commands["a"]
    assert commands["a"] is first and made == ["a"] and sorted(commands.made) == ["a", "c"]
    assert sorted(name for name, _ in commands.items()) == ["a", "b", "c"] and made == ["a", "b"]
    commands["a"] = replaced = click.Command("a")
    assert commands["a"] is replaced and len(commands) == 3
    del commands["b"]
    assert sorted(commands) == ["a", "c"]
    with pytest.raises(KeyError):
        del commands["b"]

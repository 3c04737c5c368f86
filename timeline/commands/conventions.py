"""`--date-order` and `--decimal-mark` on the commands that read dates and amounts, and
`timeline config` to store them for a database (`timeline.settings`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from events.conventions import DATE_ORDERS, DECIMAL_MARKS
from timeline.commands.common import CONTEXT, Session, emit_json, json_option, pass_session


def convention_params() -> list[click.Parameter]:
    return [
        click.Option(
            ["--date-order"], type=click.Choice(DATE_ORDERS), default=None,
            help="Read 03/04/2024 in this order (default: the database's setting; unset, refused).",
        ),
        click.Option(
            ["--decimal-mark"], type=click.Choice(DECIMAL_MARKS), default=None,
            help="Read 1,234 / 1.234 with this decimal mark (default: the database's setting; unset, refused).",
        ),
    ]  # fmt: skip


def read_by_conventions(f: Callable[..., Any]) -> Callable[..., Any]:
    """Runs the callback reading dates and amounts by `--date-order`/`--decimal-mark`,
    else by the database's stored settings. The callback receives the session first."""

    @functools.wraps(f)
    def wrapper(session: Session, *args: Any, date_order: str | None, decimal_mark: str | None, **kwargs: Any) -> Any:
        from events.conventions import reading
        from timeline import settings

        def open_app() -> Any:
            return session.app if session.exists() else None

        with reading(settings.for_command(open_app, date_order, decimal_mark)):
            return f(session, *args, **kwargs)

    return wrapper


def convention_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """The two options and `read_by_conventions`, as a decorator below @pass_session."""
    wrapper = read_by_conventions(f)
    params = getattr(wrapper, "__click_params__", [])
    wrapper.__click_params__ = [*params, *reversed(convention_params())]  # type: ignore[attr-defined]
    return wrapper


@click.group("config", context_settings=CONTEXT)
def config() -> None:
    """Reading conventions stored in this database (date-order, decimal-mark)."""


@config.command("show", context_settings=CONTEXT)
@json_option
@pass_session
def config_show(session: Session, as_json: bool) -> None:
    """Show each setting and its value."""
    from timeline import settings

    rows = settings.rows(settings.stored(session.app))
    if as_json:
        emit_json(rows)
        return
    for key, row in rows.items():
        click.echo(f"{key:<13} {row['value'] or '(unset)'}  {row['help']}")


@config.command("set", context_settings=CONTEXT)
@click.argument("key")
@click.argument("value")
@pass_session
def config_set(session: Session, key: str, value: str) -> None:
    """Set KEY (date-order: dmy|mdy, decimal-mark: point|comma) for this database."""
    from timeline import settings

    settings.store(session.app, key, value)


@config.command("unset", context_settings=CONTEXT)
@click.argument("key")
@pass_session
def config_unset(session: Session, key: str) -> None:
    """Unset KEY: ambiguous forms are refused again."""
    from timeline import settings

    settings.store(session.app, key, None)


COMMANDS: list[click.Command] = [config]

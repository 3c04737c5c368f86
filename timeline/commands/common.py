"""What every command shares: the session, option bundles, output and progress.

Kept apart from `timeline.cli` so that command modules can import it without a cycle.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any

import click

from events import KINDS, InvalidInput
from timeline import config

if TYPE_CHECKING:
    from timeline.app import Timeline
    from timeline.reading import Reader
    from timeline.views.queries import Filter

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
# Commands that may create a SQLite file that is not there yet (every other one refuses
# a path where no database is: unsetting a setting has nothing to unset there) and those
# that write to the database.
CREATING = ("add", "import", "config set", "feeds config set", "actor add", "actor import")
WRITING = (*CREATING, "config unset", "feeds config unset", "correct", "retract", "source", "rebuild", "actor")


class Session:
    """What a command needs, opened on first use: configuration is read when a command
    runs, never at import."""

    def __init__(self, db: str | None) -> None:
        self.db = db
        self._app: Timeline | None = None
        self._reader: Reader | None = None

    @property
    def target(self) -> config.Target:
        return config.resolve(self.db, create=_running(CREATING))

    @property
    def app(self) -> Timeline:
        if self._app is None:
            from timeline.app import Timeline
            from timeline.errors import StoreUnavailable

            target = self.target
            if target.read_only and _running(WRITING):
                raise StoreUnavailable(f"cannot write to {target.display}: the database is read-only")
            self._app = Timeline.open(target)
            for note in self._app.notes:
                click.echo(f"Note: {note}", err=True)
        return self._app

    def exists(self) -> bool:
        """Whether the log is there already, asked without creating it (`Target.holds_log`)."""
        if self._app is not None:
            return True
        return config.resolve(self.db).holds_log()

    @property
    def reader(self) -> Reader:
        if self._reader is None:
            from timeline.reading import Reader

            self._reader = Reader.live(self.app)
        return self._reader

    @property
    def opened(self) -> config.Target | None:
        """The database this command has opened, if it has opened one."""
        return self._app.target if self._app is not None else None

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


def _running(commands: tuple[str, ...]) -> bool:
    """Whether the command being run is one of `commands` (or a subcommand of one)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return True
    # The subcommands' own names, below the root: the root's is the program's, which is
    # "python -m timeline" when run that way, so command_path cannot be split on a space.
    names: list[str] = []
    while ctx.parent is not None:
        names.insert(0, ctx.info_name or "")
        ctx = ctx.parent
    path = " ".join(names)
    return any(path == c or path.startswith(c + " ") for c in commands)


def json_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Write JSON data only, to stdout.")(f)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False))


def pass_session(f: Callable[..., Any]) -> Callable[..., Any]:
    @click.pass_obj
    @functools.wraps(f)
    def wrapper(session: Session, *args: Any, **kwargs: Any) -> Any:
        return f(session, *args, **kwargs)

    return wrapper


@contextmanager
def reader_at(session: Session, as_of: str | None) -> Iterator[Reader]:
    """The live views, or (with --as-of) a replay's scratch views for as long as needed."""
    if as_of is None:
        yield session.reader
        return
    from timeline.audit.replay import reader_as_of

    with reader_as_of(session.app, as_of) as reader:
        yield reader


@contextmanager
def progress(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on a terminal, nothing when stderr is a file or a pipe."""
    if not sys.stderr.isatty():
        yield lambda n: None
        return
    if total is None:  # a pipe: count what has been done instead of a bar
        done = [0]

        def tick(n: int) -> None:
            done[0] += n
            click.echo(f"\r{label}: {done[0]:,}", err=True, nl=False)

        yield tick
        click.echo("", err=True)
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update


def occurred_range(start: str | None, end: str | None) -> tuple[date | None, date | None]:
    """--from/--to: precision-aware, '2023' means all of 2023."""
    try:
        from events.dates import OccurredDate

        lo = OccurredDate.parse(start).first_day if start else None
        hi = OccurredDate.parse(end).last_day if end else None
    except InvalidInput as e:
        raise click.BadParameter(str(e), param_hint="--from/--to") from None
    if lo and hi and lo > hi:
        raise click.BadParameter(f"--from {start} is after --to {end}", param_hint="--from/--to")
    return lo, hi


def filter_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option("--topic", help="Only this topic (slug)."),
            click.option("--actor", help="Only developments this actor takes part in."),
            click.option("--kind", type=click.Choice(sorted(KINDS)), help="Only this kind."),
            click.option("--from", "start", metavar="DATE", help="Occurred on or after DATE."),
            click.option("--to", "end", metavar="DATE", help="Occurred on or before DATE."),
        ]
    ):
        f = option(f)
    return f


def make_filter(topic: str | None, actor: str | None, kind: str | None, start: str | None, end: str | None) -> Filter:
    from timeline.views.queries import Filter

    lo, hi = occurred_range(start, end)
    return Filter(topic=topic, actor=actor, kind=kind, start=lo, end=hi)


@contextmanager
def streaming(docs: Iterable[dict[str, Any]]) -> Iterator[Iterable[dict[str, Any]]]:
    """`docs` read from a query as they are written out: if the reader goes away
    mid-stream (`| head`), the query ends now, while its connection pool is still open."""
    try:
        yield docs
    finally:
        close = getattr(docs, "close", None)
        if close:
            close()


def print_timeline(docs: Iterable[dict[str, Any]], as_json: bool) -> int:
    """Streams: the same bytes as emit_json(list(docs)) without holding the list.
    Returns how many it printed."""
    with streaming(docs):
        return _print_timeline(docs, as_json)


def _print_timeline(docs: Iterable[dict[str, Any]], as_json: bool) -> int:
    count = 0
    if not as_json:
        from timeline.render import render_line  # here: `add` and its like print no listing

        for doc in docs:
            click.echo(render_line(doc))
            count += 1
        return count
    for doc in docs:
        item = json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False).replace("\n", "\n  ")
        click.echo(("[\n  " if not count else ",\n  ") + item, nl=False)
        count += 1
    click.echo("[]" if not count else "\n]")
    return count

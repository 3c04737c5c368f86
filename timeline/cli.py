"""The `timeline` command: a thin shell over the application. Parse, call, print.

Expected errors become one line `Error: ...` on stderr. Exit status 2: the command line
cannot be used as written (an unknown command or option, a missing argument, or a value
given on it that cannot be read: `--kind bogus`, `--instrument bogus`, `--set x`).
Exit status 1: a well-formed command that could not be done (an unknown id, a conflict,
a bad line in an import file, a retracted development, a store that cannot be opened).
`--json` writes only data to stdout; messages go to stderr.
"""

from __future__ import annotations

# isort: off
from timeline import collector  # first: it pauses the collector while the rest loads (issue 16)

# isort: on
import functools
import gc
import json
import os
import sys
from typing import Any, TextIO

import click

from events import COMMON_FIELDS, KINDS, AlreadyRetracted, InvalidInput, NothingChanged, Report, read_report
from events.fields import flag
from timeline import __version__, config
from timeline.commands import OPTIONAL, LazyCommands, optional
from timeline.commands.common import (
    CONTEXT,
    Session,
    emit_json,
    filter_options,
    json_option,
    make_filter,
    pass_session,
    print_timeline,
    progress,
)
from timeline.commands.conventions import convention_options, convention_params, read_by_conventions
from timeline.errors import TimelineError, check_arguments, store_failed

collector.resume()


class TimelineGroup(click.Group):
    """Turns expected errors into one line on stderr, the way every command speaks."""

    def main(
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        args = list(sys.argv[1:] if args is None else args)
        try:
            check_arguments(args)
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Exit as e:  # pragma: no cover - click returns these itself
            sys.exit(e.exit_code)
        except click.ClickException as e:
            click.echo(f"Error: {e.format_message()}", err=True)
            sys.exit(e.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(130)
        except (TimelineError, AlreadyRetracted, NothingChanged) as e:
            click.echo(f"Error: {e}", err=True)
            sys.exit(getattr(e, "exit_code", 1))
        except InvalidInput as e:  # a value given on the command line: a usage error
            click.echo(f"Error: {e}", err=True)
            sys.exit(2)
        except BrokenPipeError:
            # `timeline show | head`: the reader left; say nothing more (as the docs advise).
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(141)
        sys.exit(rv if isinstance(rv, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        with collector.paused():  # the library's persistence module: a start-up's import
            from eventsourcing.persistence import PersistenceError

        try:
            return super().invoke(ctx)
        except PersistenceError as e:
            # The store failed under a command that had opened it (full disk, a lock held
            # too long, a lost connection): an expected failure of the machine, one line.
            session = ctx.obj if isinstance(ctx.obj, Session) else None
            raise store_failed(session.opened if session else None, e) from None


@click.group(cls=TimelineGroup, context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="timeline")
@click.option(
    "--db",
    envvar=config.ENV_VAR,
    show_envvar=True,
    metavar="TARGET",
    help=f"SQLite file path, or postgresql://user@host:port/dbname. Default: ./{config.DEFAULT_DB}",
)
@click.pass_context
def cli(ctx: click.Context, db: str | None) -> None:
    """An event-sourced news timeline: append reported developments, replay and audit the
    log, publish Atom and RSS feeds."""
    session = Session(db)
    ctx.obj = session
    ctx.call_on_close(session.close)


# The commands of `timeline.commands`' modules, each imported when one of its commands runs;
# the commands below are added to the same table as they are defined.
cli.commands = LazyCommands({name: optional(name) for name in OPTIONAL})


# --- appending ---------------------------------------------------------------------------


def _source(url: str, publisher: str | None, published: str | None, language: str | None = None,
            via: str | None = None) -> dict[str, str]:  # fmt: skip
    """A source as the domain reads it; absent parts are left out, not empty."""
    parts = {"url": url, "publisher": publisher, "published": published, "language": language, "via": via}
    return {k: v for k, v in parts.items() if v}


def _option_name(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")


def _add_command(kind_name: str) -> click.Command:
    kind = KINDS[kind_name]
    params: list[click.Parameter] = [
        click.Option(
            ["--id", "key"], metavar="KEY", help="Natural key for a stable id (default: kind, date and title)."
        ),
    ]
    for fld in (*COMMON_FIELDS, *kind.fields):
        name = "source" if fld.name == "sources" else fld.name
        params.append(
            click.Option(
                [_option_name(name), fld.name],
                multiple=fld.many,
                is_flag=fld.parse is flag,
                default=None,
                help=fld.help + (" [required]" if fld.required else ""),
            )
        )
    params += [
        *convention_params(),
        click.Option(["--publisher"], help="Publisher of the --source(s) given here."),
        click.Option(["--published"], help="When the --source(s) given here were published."),
        click.Option(["--source-language"], help="Language the --source(s) given here are written in: en, ja, ..."),
        click.Option(["--via"], help="Agency or outlet the --source(s) given here cite ('Anadolu Agency')."),
        click.Option(["--json", "as_json"], is_flag=True, help="Write JSON data only, to stdout."),
    ]

    @collector.paused()  # one development: what it makes is small and bounded
    @pass_session
    @read_by_conventions
    def callback(session: Session, key: str | None, publisher: str | None, published: str | None,  # noqa: PLR0913 - a click callback takes one parameter per option
                 source_language: str | None, via: str | None, as_json: bool, **values: Any) -> None:  # fmt: skip
        sources = [_source(url, publisher, published, source_language, via) for url in values.pop("sources")]
        raw = {"kind": kind_name, "id": key, "sources": sources, **values}
        report = _read_new(session, {k: list(v) if isinstance(v, tuple) else v for k, v in raw.items()})
        result = session.app.record(report)
        if as_json:
            emit_json({"id": result.id, "status": result.status})
            return
        click.echo(result.id)
        if result.status == "existing":
            click.echo(f"already there: {result.id} was recorded before; nothing added", err=True)

    return click.Command(
        kind_name,
        params=params,
        callback=callback,
        help=f"Record {kind.article} {kind_name}. Prints the development's id.",
        context_settings=CONTEXT,
    )


def _read_new(session: Session, raw: dict[str, Any]) -> Report:
    """The report to add, read before the database is opened where there is none yet: a
    refused add must not create it. A short id in --part-of needs the log to expand it;
    with no log, no package is recorded, so a part is refused before anything is created."""
    if session.exists():
        return session.app.read_report(raw)
    report = read_report(raw)
    if report.fields.get("part_of"):
        from timeline.app import check_package

        check_package(None, report.references.get("part_of") or str(report.fields["part_of"]))
    return report


@cli.group(context_settings=CONTEXT)
def add() -> None:
    """Record one development: visit, pledge, statement or agreement."""


# Each kind's command (some thirty options) is made only when it runs or help lists it.
add.commands = LazyCommands({kind: functools.partial(_add_command, kind) for kind in KINDS})


@cli.command("import", context_settings=CONTEXT)
@click.argument("file", type=click.File("r", encoding="utf-8"))
@json_option
@pass_session
@convention_options
def import_(session: Session, file: TextIO, as_json: bool) -> None:
    """Import developments, corrections and retractions from JSON Lines ('-' for stdin).

    The whole file is checked before anything is written: one bad line rejects it all.
    """
    from timeline.importer import import_lines

    # Where there is no log yet, the file is checked before the log is opened (so
    # created): a refused import creates nothing.
    target = session.target
    app = session.app if target.read_only or target.holds_log() else (lambda: session.app)
    result = import_lines(app, file, progress, _count_lines(file))
    if as_json:
        emit_json(result.as_dict())
        return
    from timeline.render import import_summary

    click.echo(import_summary(result.as_dict()), err=True)


def _count_lines(file: TextIO) -> int | None:
    """Lines in a seekable file, for the progress bar; None for a pipe."""
    if not sys.stderr.isatty() or not file.seekable():
        return None
    raw = file.buffer if hasattr(file, "buffer") else None
    if raw is None:
        return None
    count = int(sum(chunk.count(b"\n") for chunk in iter(lambda: raw.read(1 << 20), b"")))
    file.seek(0)
    return count


def _parse_set(pairs: tuple[str, ...]) -> dict[str, Any]:
    """--set FIELD=VALUE pairs; a list field given more than once collects its values
    (`--set visitors=A --set visitors=B`), as a repeated option does for `add`."""
    changes: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name:
            raise click.BadParameter(f"{pair!r} is not FIELD=VALUE", param_hint="--set")
        if name in changes:
            earlier = changes[name]
            changes[name] = [*(earlier if isinstance(earlier, list) else [earlier]), value]
        else:
            changes[name] = value
    return changes


@cli.command(context_settings=CONTEXT)
@click.argument("dev_id", metavar="ID")
@click.option("--set", "pairs", multiple=True, metavar="FIELD=VALUE", help="Field to correct (repeatable).")
@click.option("--reason", required=True, help="Why the correction is made.")
@click.option("--source", help="Source URL for the correction.")
@json_option
@pass_session
@convention_options
def correct(  # noqa: PLR0913 - a click callback takes one parameter per option
    session: Session, dev_id: str, pairs: tuple[str, ...], reason: str, source: str | None, as_json: bool
) -> None:
    """Correct fields of a development. The earlier version stays in the log."""
    result = session.app.correct(dev_id, _parse_set(pairs), reason, source)
    emit_json(result) if as_json else click.echo(result["id"])


@cli.command(context_settings=CONTEXT)
@click.argument("dev_id", metavar="ID")
@click.option("--reason", required=True, help="Why the development is withdrawn.")
@click.option("--source", help="Source URL for the retraction.")
@json_option
@pass_session
def retract(session: Session, dev_id: str, reason: str, source: str | None, as_json: bool) -> None:
    """Retract a development. It stays in the log and in the views, marked retracted."""
    result = session.app.retract(dev_id, reason, source)
    emit_json(result) if as_json else click.echo(result["id"])


@cli.command("source", context_settings=CONTEXT)
@click.argument("dev_id", metavar="ID")
@click.argument("url")
@click.option("--publisher", help="Who published it.")
@click.option("--published", help="When it was published.")
@click.option("--language", help="Language it is written in: en, ja, ...")
@click.option("--via", help="Agency or outlet it cites ('Anadolu Agency').")
@json_option
@pass_session
@convention_options
def add_source(session: Session, dev_id: str, url: str, publisher: str | None, published: str | None,  # noqa: PLR0913 - a click callback takes one parameter per option
               language: str | None, via: str | None, as_json: bool) -> None:  # fmt: skip
    """Add a source to a development."""
    src = _source(url, publisher, published, language, via)
    result = session.app.add_source(dev_id, src)
    emit_json(result) if as_json else click.echo(result["id"])


# --- reading -----------------------------------------------------------------------------


@cli.command(context_settings=CONTEXT)
@click.argument("dev_id", metavar="[ID]", required=False)
@filter_options
@json_option
@pass_session
@convention_options
def show(session: Session, dev_id: str | None, as_json: bool, **filters: Any) -> None:
    """List developments in timeline order, or show one development (with ID)."""
    flt = make_filter(**filters)
    if dev_id:
        from timeline.render import render_development

        doc = session.reader.development(str(session.app.resolve(dev_id)))
        emit_json(doc) if as_json else click.echo(render_development(doc, session.reader.related(doc)))
        return
    if not print_timeline(session.reader.iter_timeline(flt), as_json) and not as_json:
        click.echo("no developments match" if any(filters.values()) else "the timeline is empty", err=True)


def _facet_command(name: str, attr: str) -> click.Command:
    @json_option
    @pass_session
    def callback(session: Session, as_json: bool) -> None:
        rows = getattr(session.reader, attr)()
        if as_json:
            emit_json(rows)
            return
        from timeline.render import render_facets

        for line in render_facets(rows):
            click.echo(line)
        if not rows:
            click.echo(f"no {name} yet", err=True)

    return click.Command(name, callback=callback, params=callback.__click_params__, context_settings=CONTEXT,  # type: ignore[attr-defined]
                         help=f"List {name} with how many developments name each.")  # fmt: skip


cli.add_command(_facet_command("topics", "topics"))


@cli.command(context_settings=CONTEXT)
@json_option
@pass_session
def state(session: Session, as_json: bool) -> None:
    """The story now: counts, topics, actors, the pledge ledger and discrepancies."""
    from timeline.proof.publish import checkpoint_at
    from timeline.render import render_state

    data = session.reader.state()
    data["checkpoint"] = checkpoint_at(session.app, data["position"]).as_dict()
    emit_json(data) if as_json else click.echo(render_state(data))


@cli.command(context_settings=CONTEXT)
@pass_session
def rebuild(session: Session) -> None:
    """Check the whole log against its tree, then drop every view and rebuild it from position 0."""
    from timeline.views.runner import Views

    views = Views(session.app)
    with progress("Rebuilding", session.app.event_count()) as tick:
        n = views.rebuild(tick)
    click.echo(f"rebuilt the views from {n} events", err=True)


@cli.command(context_settings=CONTEXT)
@json_option
@click.option("--follow", "-f", is_flag=True, help="Keep printing events as they are appended (Ctrl-C stops).")
@click.option("--from", "start", metavar="#N", default=None, help="Start after log position N.")
@pass_session
def log(session: Session, as_json: bool, follow: bool, start: str | None) -> None:
    """Print the stored events in log order, one line each (JSON Lines with --json)."""
    from timeline.audit.log import follow_events, stored_events

    after = begin = _position(start) if start else 0
    try:
        for item in stored_events(session.app, after):
            _print_event(item, as_json)
            after = item["position"]
        if after == begin and not follow and not as_json:
            click.echo("no events" + (f" after #{begin}" if begin else ""), err=True)
        if follow:
            for item in follow_events(session.app, after):
                _print_event(item, as_json)
    except KeyboardInterrupt:
        return


def _position(text: str) -> int:
    value = text[1:] if text.startswith("#") else text
    if not value.isdigit():
        raise click.BadParameter(f"{text!r} is not a log position #N", param_hint="--from")
    return int(value)


def _print_event(item: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(item, sort_keys=True, ensure_ascii=False))
    else:
        from timeline.render import render_event  # the commands' renderings: none is an add's

        click.echo(render_event(item))
    sys.stdout.flush()


def main() -> None:
    # What is loaded by now (click, the library, the domain) lives as long as the process:
    # the collector leaves it be instead of walking it again on every collection that the
    # command's own work sets off. It is 5% of one `timeline add`'s instructions (issue 16).
    gc.freeze()
    collector.one_command()
    cli()

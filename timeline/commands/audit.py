"""`timeline replay`, `history`, `diff` and `verify` (see the audit issue).

Thin callbacks: parse, call `timeline.audit`, print. Heavy modules are imported inside the
callbacks so that `timeline add` does not pay for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from events.fields import source_text
from timeline.commands.common import (
    CONTEXT,
    Session,
    emit_json,
    filter_options,
    json_option,
    make_filter,
    pass_session,
    print_timeline,
)
from timeline.commands.conventions import convention_options

if TYPE_CHECKING:
    from timeline.audit.verify import Verdict


@click.command(context_settings=CONTEXT)
@click.option("--as-of", "when", required=True, metavar="WHEN",
              help="A log position #N, or a recorded time (any form dateutil reads; UTC unless it says).")  # fmt: skip
@filter_options
@click.option("--html", "html_out", type=click.Path(dir_okay=False, path_type=Path), metavar="OUT",
              help="Write the story page as it stood then to OUT (one self-contained file) instead.")  # fmt: skip
@json_option
@pass_session
@convention_options
def replay(session: Session, when: str, as_json: bool, html_out: Path | None, **filters: Any) -> None:
    """The timeline exactly as the log knew it at WHEN; same output as `show`.

    Combine --as-of (what was known) with --from/--to (when things occurred).
    """
    from timeline.audit.replay import reader_as_of

    flt = make_filter(**filters)
    with reader_as_of(session.app, when) as reader:
        if html_out is not None:
            from timeline.commands.feeds import write_embedded

            write_embedded(session, reader, html_out, as_of=when, only=flt)
            return
        printed = print_timeline(reader.iter_timeline(flt), as_json)
        if not printed and not as_json:
            if not reader.position:
                click.echo(f"the log held no events as of {when}", err=True)
            else:
                click.echo(f"no developments match as of {when} (#{reader.position})", err=True)


@click.command(context_settings=CONTEXT)
@click.argument("dev_id", metavar="ID")
@json_option
@pass_session
def history(session: Session, dev_id: str, as_json: bool) -> None:
    """Every version of one development: position, time, event, what changed and why."""
    from timeline.audit.history import history as versions_of

    data = versions_of(session.app, str(session.app.resolve(dev_id)))
    if as_json:
        emit_json(data)
        return
    click.echo(f"{data['title']}  ({data['id']})")
    for v in data["versions"]:
        click.echo(f"v{v['version']:<3} #{v['position']:<6} {v['recorded']}  {v['event']}")
        _echo_changes(v["changes"], " " * 7)
        for s in v["sources_added"]:
            click.echo(f"       source: + {source_text(s)}")
        if v["reason"]:
            click.echo(f"       reason: {v['reason']}")


@click.command(context_settings=CONTEXT)
@click.argument("start", metavar="FROM")
@click.argument("end", metavar="TO")
@json_option
@pass_session
def diff(session: Session, start: str, end: str, as_json: bool) -> None:
    """Developments added, corrected, retracted and sourced between FROM and TO.

    FROM and TO are log positions #N or recorded times, as for `replay --as-of`.
    """
    from timeline.audit.diff import diff as compare

    data = compare(session.app, start, end)
    if as_json:
        emit_json(data)
        return
    span = f"#{data['from']['position']} to #{data['to']['position']}"
    if not any(data[k] for k in ("added", "corrected", "retracted", "sourced", "registry")):
        click.echo(f"no changes from {span}", err=True)
        return
    click.echo(f"From {span}:")
    width = max((len(d["occurred"]) for d in data["added"]), default=0)
    for d in data["added"]:
        click.echo(f"  added      {d['occurred']:<{width}}  {d['title']}  ({d['id'][:8]})")
    for d in data["corrected"]:
        click.echo(f"  corrected  {d['title']}  ({d['id'][:8]})")
        _echo_changes(d["changes"], " " * 15)
    for d in data["retracted"]:
        click.echo(f"  retracted  {d['title']}  ({d['id'][:8]}): {d['reason']}")
    for d in data["sourced"]:
        for s in d["sources"]:
            click.echo(f"  sourced    {d['title']}  ({d['id'][:8]}): {source_text(s)}")
    for r in data["registry"]:
        said = ", ".join(f"{k}={v}" for k, v in r.items() if k not in ("position", "event", "actor") and v)
        click.echo(f"  registry   #{r['position']} {r['event']} {r['actor'][:8]}: {said}")


@click.command(context_settings=CONTEXT)
@click.option(
    "--full", is_flag=True, help="Re-read every stored event, not only those after the last verified checkpoint."
)
@click.option(
    "--expect-head",
    metavar="#N:HEX",
    help="A head published earlier (the tree's size and root): check that history was only appended to.",
)
@json_option
@pass_session
def verify(session: Session, full: bool, expect_head: str | None, as_json: bool) -> None:
    """Check every stored event against the log's Merkle tree; exit 1 naming each altered position.

    Incremental: the events after the last checkpoint found sound are read, and the tree must
    still have that checkpoint's root; --full re-reads them all.
    """
    from timeline.audit.verify import parse_head
    from timeline.audit.verify import verify as check

    expect = parse_head(expect_head) if expect_head is not None else None
    verdict = check(session.app, full=full, expect=expect)
    if as_json:
        emit_json(verdict.as_dict())
    failure = verdict.failure()
    if failure is not None:
        raise failure
    if not as_json:
        click.echo(render_verdict(verdict))


def render_verdict(verdict: Verdict) -> str:
    head = verdict.head
    if head is None:
        return "ok: the log is empty"
    where = f"head #{head['size']}:{head['hash']}"
    if verdict.verified:
        return (
            f"ok: {head['size']} events match the log's tree ({verdict.checked} read now, {verdict.verified}"
            f" verified before: `verify --full` re-reads them); {where}"
        )
    return f"ok: {head['size']} events match the log's tree, every one read; {where}"


def _echo_changes(changes: dict[str, dict[str, Any]], indent: str) -> None:
    """One line per changed field, as people read it: `amount: USD 103 million → USD 104.2 million`."""
    from events.display import value_text

    for name, change in changes.items():
        line = f"{indent}{name}: {value_text(name, change['before'])} → {value_text(name, change['after'])}"
        click.echo(line.replace("\n", "\n" + indent + "  "))  # a paragraph stays under its field


COMMANDS: list[click.Command] = [replay, history, diff, verify]

"""`timeline actor add|alias|role|merge|split`, `timeline actors [--unresolved]` and
`timeline search`. Thin callbacks: parse, call `timeline.registry` or the views, print."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TextIO

import click

from events import KINDS
from events.actor_kinds import ACTOR_KINDS
from timeline.commands.common import CONTEXT, Session, emit_json, json_option, pass_session
from timeline.errors import TimelineError

if TYPE_CHECKING:
    from timeline.store import Sql
    from timeline.views.search import Query


def _echo_actor(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(result)
        return
    click.echo(result["id"])
    if result["status"] == "existing":
        click.echo(f"already there: {result['name']} was registered so before; nothing added", err=True)


@click.group(context_settings=CONTEXT)
def actor() -> None:
    """Record actors in the registry: names, aliases, roles over time, merges and splits.

    A development keeps the names as reported; the registry says whom they mean."""


@actor.command("add", context_settings=CONTEXT)
@click.argument("name")
@click.option(
    "--alias", "aliases", multiple=True, metavar="NAME", help="Another name that always means it (repeatable)."
)
@click.option("--kind", type=click.Choice(ACTOR_KINDS), help="What sort of actor it is.")
@click.option("--wikidata", metavar="QID", help="Its Wikidata item id, e.g. Q11488370 (never looked up).")
@click.option("--role", metavar="TEXT", help='A role that means it for a term, e.g. "Japan\'s foreign minister".')
@click.option("--from", "start", metavar="DATE", help="When the --role's term began.")
@click.option("--to", "end", metavar="DATE", help="When it ended (none: it still holds).")
@json_option
@pass_session
def add(session: Session, name: str, aliases: tuple[str, ...], kind: str | None, wikidata: str | None,  # noqa: PLR0913 - a click callback takes one parameter per option
        role: str | None, start: str | None, end: str | None, as_json: bool) -> None:  # fmt: skip
    """Register an actor under NAME. Prints its id; adding it again adds only new aliases."""
    from timeline.registry import add_actor

    _echo_actor(add_actor(session, name, aliases, kind, wikidata, role, start, end), as_json)


@actor.command("alias", context_settings=CONTEXT)
@click.argument("actor_ref", metavar="ACTOR")
@click.argument("name")
@json_option
@pass_session
def alias(session: Session, actor_ref: str, name: str, as_json: bool) -> None:
    """NAME means ACTOR (one of its names) wherever a development reports it."""
    from timeline.registry import add_alias

    _echo_actor(add_alias(session.app, actor_ref, name), as_json)


@actor.command("role", context_settings=CONTEXT)
@click.argument("actor_ref", metavar="ACTOR")
@click.argument("role")
@click.option("--from", "start", metavar="DATE", required=True, help="When the term began.")
@click.option("--to", "end", metavar="DATE", help="When it ended (none: it still holds).")
@json_option
@pass_session
def role(session: Session, actor_ref: str, role: str, start: str, end: str | None, as_json: bool) -> None:  # noqa: PLR0913 - a click callback takes one parameter per option
    """ROLE means ACTOR for developments that occurred wholly within the term."""
    from timeline.registry import assign_role

    _echo_actor(assign_role(session.app, actor_ref, role, start, end), as_json)


@actor.command("merge", context_settings=CONTEXT)
@click.argument("into", metavar="A")
@click.argument("other", metavar="B")
@click.option("--reason", required=True, help="Why they are one actor.")
@json_option
@pass_session
def merge(session: Session, into: str, other: str, reason: str, as_json: bool) -> None:
    """B is the same actor as A: B's developments become A's, from this event on."""
    from timeline.registry import merge as merge_actors

    result = merge_actors(session.app, into, other, reason)
    emit_json(result) if as_json else click.echo(result["id"])


@actor.command("split", context_settings=CONTEXT)
@click.argument("actor_ref", metavar="B")
@click.option("--reason", required=True, help="Why the merge was wrong.")
@json_option
@pass_session
def split(session: Session, actor_ref: str, reason: str, as_json: bool) -> None:
    """Undo B's merge, as a new event: B's developments are its own again."""
    from timeline.registry import split as split_actor

    result = split_actor(session.app, actor_ref, reason)
    emit_json(result) if as_json else click.echo(result["id"])


@actor.command("import", context_settings=CONTEXT)
@click.argument("file", type=click.File("r", encoding="utf-8"))
@json_option
@pass_session
def import_(session: Session, file: TextIO, as_json: bool) -> None:
    """Record registry lines from JSON Lines ('-' for stdin), all checked first: one bad
    line rejects the file and nothing is written. See examples/japan-cambodia-2024-actors.jsonl.

    Replays a whole `timeline export --format jsonl` file too, development lines and
    registry lines in their order, into an empty database."""
    from timeline.registry import import_registry
    from timeline.render import import_summary

    counts = import_registry(session, file)
    if as_json:
        emit_json(counts)
        return
    click.echo(
        f"{counts['new']} new actors, {counts['changed']} changed, {counts['existing']} already so"
        f" ({counts['lines']} lines)",
        err=True,
    )
    if "developments" in counts:
        click.echo(f"developments: {import_summary(counts['developments'])}", err=True)


@click.command(context_settings=CONTEXT)
@click.option("--unresolved", is_flag=True, help="Only names no registered actor takes, with likely matches.")
@json_option
@pass_session
def actors(session: Session, unresolved: bool, as_json: bool) -> None:
    """List actors with how many developments name each: registered ones with their
    aliases, roles and merges, then names the registry does not resolve."""
    from timeline.registry import describe_term
    from timeline.registry import unresolved as unresolved_names
    from timeline.views.registry import listing

    rows = listing(session.reader.sql)
    if unresolved:
        rows = unresolved_names(rows)
    if as_json:
        emit_json(rows)
        return
    from timeline.render import render_facets

    if not rows:
        click.echo("no unresolved names" if unresolved else "no actors yet", err=True)
    for line, r in zip(render_facets(rows), rows, strict=True):
        click.echo(line)
        if r["registered"]:
            about = [x for x in (r["kind"], r["wikidata"] and f"wikidata {r['wikidata']}") if x]
            if about:
                click.echo(f"{'':4}{', '.join(about)}")
            if r["aliases"]:
                click.echo(f"{'':4}also: {'; '.join(r['aliases'])}")
            for x in r["roles"]:
                click.echo(f"{'':4}role: {x['role']} ({describe_term(x['from'], x['to'])})")
            if r["merged_into"]:
                click.echo(f"{'':4}merged into {r['merged_into']} ({r['merged_into_slug']}): {r['merge_reason']}")
        for m in r.get("likely", []):
            click.echo(f"{'':4}likely {m['actor'] or m['name']} ({m['score']:g}): {m['command']}")


@click.command(context_settings=CONTEXT)
@click.argument("query")
@click.option("--as-of", "when", metavar="WHEN", help="Search the log as it stood then (#N or a recorded time).")
@click.option("--kind", type=click.Choice(sorted(KINDS)), help="Only this kind.")
@click.option("--topic", help="Only this topic (slug).")
@click.option("--actor", help="Only developments this actor takes part in (any of its names).")
@click.option("--limit", type=click.IntRange(1, 200), default=20, show_default=True, help="At most this many results.")
@json_option
@pass_session
def search(session: Session, query: str, when: str | None, kind: str | None, topic: str | None,  # noqa: PLR0913 - a click callback takes one parameter per option
           actor: str | None, limit: int, as_json: bool) -> None:  # fmt: skip
    """Find developments by their words: titles, summaries, quotes, paraphrases, names,
    places. Every word must match (a trailing * matches a prefix), best matches first,
    accent- and case-insensitive."""
    from timeline.views import search as index
    from timeline.views.registry import actor_slug

    try:
        q = index.Query.read(query)
    except index.BadQuery as e:
        raise TimelineError(str(e)) from None

    def run(sql: Sql) -> list[dict[str, Any]]:
        slug = actor_slug(sql, actor) if actor else None
        return index.search(sql, q, kind=kind, topic=topic, actor_slug=slug, limit=limit)

    if when:
        from timeline.audit.replay import reader_as_of

        with reader_as_of(session.app, when) as reader:
            found = run(reader.sql)
    else:
        found = run(session.reader.sql)
    if as_json:
        emit_json([{"id": d["id"], "kind": d["kind"], "title": d["title"], "occurred": d["occurred"],
                    "retracted": d["retracted"] is not None, "rank": d["rank"]} for d in found])  # fmt: skip
        return
    _print_results(found, q)


def _print_results(found: list[dict[str, Any]], q: Query) -> None:
    from timeline.render import render_line
    from timeline.views.search import highlight, snippet

    color = sys.stdout.isatty()

    def mark(word: str) -> str:
        return click.style(word, bold=True, underline=True) if color else f"[{word}]"

    if not found:
        click.echo("no development matches", err=True)
    for d in found:
        click.echo(highlight(render_line(d), q, mark))
        cut = snippet(d, q)
        if cut:
            click.echo("        " + highlight(cut, q, mark))


COMMANDS: list[click.Command] = [actor, actors, search]

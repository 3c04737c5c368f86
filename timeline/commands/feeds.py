"""`timeline feeds build`, `timeline feeds config` and `timeline serve` (see the feeds issue).

feedgen and waitress are imported inside the callbacks, so other commands never load them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from timeline.commands.common import CONTEXT, Session, emit_json, json_option, pass_session, reader_at
from timeline.errors import TimelineError


def setting_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Per-command overrides of the feed settings stored for the database."""
    for option in reversed(
        [
            click.option("--base-url", metavar="URL", help="Absolute URL the feeds are published under."),
            click.option("--title", help="Title of the story feed."),
            click.option("--authority", help="Tag URI authority for ids: a domain or an email address."),
            click.option("--author", help="Author named in the feeds."),
            click.option(
                "--page-size",
                type=click.IntRange(1, 10_000),
                help="Entries per subscription document and archive page.",
            ),
        ]
    ):
        f = option(f)
    return f


def feed_settings(session: Session, default_base_url: str | None = None, **options: Any) -> Any:
    """The feeds' settings for this command: its options over the database's over the defaults."""
    from feeds import settings as fs
    from timeline import settings

    overrides = {k.replace("_", "-"): (str(v) if v is not None else None) for k, v in options.items()}
    return fs.resolve(settings.stored(session.app, settings.FEEDS_TABLE), overrides, default_base_url)


@click.group(context_settings=CONTEXT)
def feeds() -> None:
    """Build the Atom and RSS feeds, and set what they say about themselves."""


@feeds.command(context_settings=CONTEXT)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the feeds into.",
)
@setting_options
@click.option("--as-of", "as_of", metavar="WHEN", help="The feeds as they were at WHEN (a recorded time or #N).")
@click.option(
    "--embed", is_flag=True, help="Also write embed.html: the story on one self-contained page for an iframe."
)
@json_option
@pass_session
def build(session: Session, out: Path, as_of: str | None, embed: bool, as_json: bool, **options: Any) -> None:
    """Write every feed and an index into DIR; only feeds touched since the last build are
    rewritten. Prints the files written."""
    from feeds import CHECKPOINT_FILE
    from feeds.folder import Directory
    from feeds.proof_http import write_checkpoint

    settings = feed_settings(session, **options)
    # The folder is made once the views (or a replay's) can be read: a refused build makes none.
    with reader_at(session, as_of) as reader:
        try:
            directory = Directory(out)
        except OSError as e:
            raise TimelineError(f"cannot write to {str(out)!r}: {e.strerror}") from None
        with _writing(out):
            result, written = directory.build(reader, settings, apart=True)
            position = reader.position
            if write_checkpoint(directory, session.app, position):
                written.append(CHECKPOINT_FILE)
            if embed:
                from feeds.page import embedded_page

                if directory.write("embed.html", embedded_page(reader, settings.title, settings.base_url, as_of)):
                    written.append("embed.html")
    with written:  # the paths, kept on disk by the build until they are printed
        if as_json:
            summary = {"out": str(out), "position": position, "head": result.manifest["head"],
                       "feeds": len(result.manifest["feeds"]), "rebuilt": result.rebuilt}  # fmt: skip
            emit_json({**summary, "written": list(written), "removed": result.removed})
            return
        for path in written:
            click.echo(path)
    click.echo(
        f"{len(written)} files written, {len(result.removed)} removed, {len(result.manifest['feeds'])} feeds "
        f"in {out} (log position #{position})",
        err=True,
    )


def write_embedded(session: Session, reader: Any, out: Path, as_of: str | None = None, only: Any = None) -> None:
    """The story page as one self-contained file at `out` (`replay --as-of WHEN --html OUT`)."""
    from feeds.folder import Directory
    from feeds.page import embedded_page

    settings = feed_settings(session)
    data = embedded_page(reader, settings.title, settings.base_url, as_of, *([only] if only else []))
    try:
        Directory(out.parent if str(out.parent) else Path(".")).write(out.name, data)
    except OSError as e:
        raise TimelineError(f"cannot write {str(out)!r}: {e.strerror or e}") from None


@contextmanager
def _writing(out: Path) -> Iterator[None]:
    """A build that cannot write says so in one line; what it left is whole (see
    `feeds.folder.Directory`), and the next build finishes the work."""
    import errno
    import tempfile

    from feeds.folder import UnsafePath
    from timeline.errors import disk_full

    try:
        yield
    except OSError as e:
        scratch = Path(tempfile.gettempdir())
        if e.errno in (errno.ENOSPC, errno.EDQUOT) and disk_full(scratch) and not disk_full(out):
            # The build keeps its working files (feed records, the changes pages' rows, each
            # development's entry and page parts, the ledger's) in the temporary folder: that one is full, not OUT.
            raise TimelineError(
                f"the temporary folder {str(scratch)!r} is full: the feeds build keeps its working files there"
                f" (set TMPDIR to a folder with room); every file in {str(out)!r} is still whole"
            ) from None
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise TimelineError(
                f"the disk is full: cannot write the feeds in {str(out)!r}; every file there is still whole, "
                "and the next build after space is freed finishes the work"
            ) from None
        where = f" ({e.filename})" if e.filename else ""
        raise TimelineError(f"cannot write the feeds in {str(out)!r}: {e.strerror or e}{where}") from None
    except UnsafePath as e:
        raise TimelineError(f"cannot write the feeds: {e}") from None


@feeds.group("config", context_settings=CONTEXT)
def config_group() -> None:
    """Feed settings stored in this database (title, authority, base-url, author, page-size)."""


@config_group.command("show", context_settings=CONTEXT)
@json_option
@pass_session
def config_show(session: Session, as_json: bool) -> None:
    """Show each setting, its value and where it comes from."""
    from feeds import settings as fs
    from timeline import settings

    rows = fs.rows(settings.stored(session.app, settings.FEEDS_TABLE))
    if as_json:
        emit_json(rows)
        return
    for key, row in rows.items():
        click.echo(f"{key:<10} {row['value']}  ({row['from']})")


@config_group.command("set", context_settings=CONTEXT)
@click.argument("key")
@click.argument("value")
@pass_session
def config_set(session: Session, key: str, value: str) -> None:
    """Set KEY to VALUE for this database."""
    from feeds import settings as fs
    from timeline import settings

    settings.put(session.app, settings.FEEDS_TABLE, key, fs.check(key, value))


@config_group.command("unset", context_settings=CONTEXT)
@click.argument("key")
@pass_session
def config_unset(session: Session, key: str) -> None:
    """Return KEY to its default."""
    from feeds import settings as fs
    from timeline import settings

    settings.put(session.app, settings.FEEDS_TABLE, fs.check_key(key), None)


@click.command(context_settings=CONTEXT)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free port).")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder the feeds are built in and served from, kept between runs so a restart rewrites only the feeds "
    "changed since. It can be the folder `feeds build --out` keeps, built with the same settings (base URL "
    "included; other settings rebuild it all). Default: beside a SQLite database, NAME-feeds (./timeline-feeds "
    "for ./timeline.db); for PostgreSQL, DBNAME-feeds in the current folder.",
)
@setting_options
@pass_session
def serve(session: Session, host: str, port: int, out: Path | None, **options: Any) -> None:
    """Keep the feeds and their index built in a folder and serve it over HTTP (waitress);
    new events appear without a restart. Listens at once and prints the URL to stderr; the
    folder is brought up to date in the background (feeds not built yet answer 503 with
    Retry-After meanwhile), and requests never wait on the database (but for proofs:
    /proof/consistency and /proof/inclusion read the log's tree)."""
    from feeds.proof_http import ProofHandler
    from feeds.server import Site
    from feeds.server import serve as run

    if port == 0:
        port = _free_port(host)  # so that self links name the port really served
    from feeds.settings import http_url

    settings = feed_settings(session, default_base_url=http_url(host, port) if port else None, **options)
    out = out or _default_out(session.target)
    target = session.target
    if target.is_postgres:
        # The refresh thread's own pool gives up a lost server after 10 tries of 2 s (the
        # library's retries), not 10 of 5 s, and is then replaced by a fresh one.
        target = dataclasses.replace(target, settings={**target.settings, "POSTGRES_CONNECT_TIMEOUT": "2"})

    def reopen() -> Any:
        from timeline.app import Timeline

        return Timeline.open(target)

    try:
        site = Site(reopen(), settings, out, reopen=reopen, probe=_probe(target))
    except OSError as e:
        raise TimelineError(f"cannot write to {str(out)!r}: {e.strerror or e}") from None
    try:
        from feeds.search_page import search_handler

        # /checkpoint and /proof/..., then /search
        run(site, host, port, handlers=[ProofHandler(site), search_handler(reopen, _probe(target))])
    except KeyboardInterrupt:
        return


def _default_out(target: Any) -> Path:
    """NAME-feeds beside a SQLite file NAME.db; DBNAME[-SCHEMA]-feeds here for PostgreSQL."""
    if not target.is_postgres:
        db = Path(target.settings["SQLITE_DBNAME"])
        return db.with_name(f"{db.stem}-feeds")
    schema = target.settings.get("POSTGRES_SCHEMA")
    return Path(f"{target.settings['POSTGRES_DBNAME']}{'-' + schema if schema else ''}-feeds")


def _probe(target: Any) -> Callable[[], None] | None:
    """For PostgreSQL, a check that the server accepts connections, answered at once (a
    refused or timed-out connection), so `serve` need not wait out the pool's retries."""
    if not target.is_postgres:
        return None
    import socket

    host, port = target.settings["POSTGRES_HOST"], int(target.settings["POSTGRES_PORT"])

    def probe() -> None:
        try:
            if host.startswith("/"):
                with socket.socket(socket.AF_UNIX) as s:
                    s.settimeout(2)
                    s.connect(f"{host}/.s.PGSQL.{port}")
            else:
                socket.create_connection((host, port), timeout=2).close()
        except OSError as e:
            raise TimelineError(f"cannot reach the database at {host}:{port} ({e.strerror or e})") from None

    return probe


def _free_port(host: str) -> int:
    import socket

    try:
        infos = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as s:
            s.bind(infos[0][4])
            return int(s.getsockname()[1])
    except (OSError, UnicodeError) as e:
        raise TimelineError(f"cannot listen on {host}: {getattr(e, 'strerror', None) or e}") from None


COMMANDS: list[click.Command] = [feeds, serve]

"""`timeline export`: the timeline in TimelineJS 3 JSON, CSV or the import's JSON Lines."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

from timeline.commands.common import CONTEXT, Session, pass_session, reader_at, streaming
from timeline.errors import TimelineError

if TYPE_CHECKING:
    pass


@contextmanager
def _output(out: Path | None) -> Iterator[IO[str]]:
    """stdout, or a file written whole: a temporary name beside it, renamed when done."""
    if out is None:
        yield sys.stdout
        return
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            yield f
        tmp.replace(out)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise TimelineError(f"cannot write {str(out)!r}: {e.strerror or e}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@click.command(context_settings=CONTEXT)
@click.option("--format", "fmt", required=True, type=click.Choice(["timelinejs", "csv", "jsonl"]),
              help="timelinejs: TimelineJS 3 JSON; csv: one row per development (GDELT/ACLED-style "
              "columns); jsonl: import lines that rebuild the same timeline and history.")  # fmt: skip
@click.option("--as-of", "as_of", metavar="WHEN", help="As the log stood at WHEN (a recorded time or #N).")
@click.option(
    "--out", type=click.Path(dir_okay=False, writable=True, path_type=Path), help="File to write (default: stdout)."
)
@click.option("--title", default="News timeline", show_default=True, help="Title of the TimelineJS timeline.")
@pass_session
def export(session: Session, fmt: str, as_of: str | None, out: Path | None, title: str) -> None:
    """Write the timeline for another tool: TimelineJS, a spreadsheet, or another database."""
    from timeline import export as ex

    app = session.app
    if fmt == "jsonl":
        from timeline.audit.replay import point, stream

        until = point(app, as_of if as_of is not None else f"#{app.event_count()}")
        lines = ex.ImportLines(stream(app, 0, until))
        with _output(out) as f:
            for line in lines:
                f.write(line + "\n")
        if lines.registry_lines:
            click.echo(
                f"note: {lines.registry_lines} of the lines are the actor registry's: replay the file with"
                " `timeline actor import FILE` into an empty database (`timeline import` reads development"
                " lines only)",
                err=True,
            )
        return
    from timeline.views.registry import load

    with reader_at(session, as_of) as reader, _output(out) as f:
        registry = load(reader.sql)
        with streaming(reader.iter_timeline()) as docs:
            if fmt == "timelinejs":
                json.dump(ex.timelinejs(docs, title, registry=registry), f, ensure_ascii=False, indent=2)
                f.write("\n")
            else:
                writer = csv.writer(f, lineterminator="\r\n")
                writer.writerows(ex.csv_rows(docs, registry))


COMMANDS = [export]

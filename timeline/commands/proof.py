"""`timeline keys`, `checkpoint`, `prove`, `check` and `witness`: the log's proof of itself.

Thin callbacks over `timeline.proof`. `check` and `witness` never open the database: they
work from files and URLs alone, as a subscriber or a watchdog runs them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from timeline.commands.common import CONTEXT, Session, emit_json, json_option, pass_session
from timeline.errors import TimelineError

if TYPE_CHECKING:
    from timeline.app import Timeline
    from timeline.proof.note import Verifier


def _read(path: str, what: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise TimelineError(f"cannot read the {what} {path!r}: {e.strerror}") from None


def _verifier(text: str) -> Verifier:
    from timeline.proof.note import NoteError, Verifier

    try:
        return Verifier.parse(text)
    except NoteError as e:
        raise click.BadParameter(str(e), param_hint="--key") from None


def _size(text: str | None, app: Timeline, option: str) -> int | None:
    """SIZE (a number of events) or #N (the log up to and including position N)."""
    if text is None:
        return None
    value = text[1:] if text.startswith("#") else text
    if not value.isdigit():
        raise click.BadParameter(f"{text!r} is neither a size N nor a log position #N", param_hint=option)
    if not text.startswith("#"):
        return int(value)
    from timeline.proof.publish import size_at

    return size_at(app, int(value))


# --- keys ---------------------------------------------------------------------------------


@click.group(context_settings=CONTEXT)
def keys() -> None:
    """The log's Ed25519 signing key, which signs its checkpoints.

    Commands find the key in the file named by $TIMELINE_SIGNING_KEY, else in the file whose
    path `keys init` stored in the database; without either, checkpoints are unsigned."""


@keys.command("init", context_settings=CONTEXT)
@click.option("--name", help="The key's name, which is also the checkpoints' origin line. Default: AUTHORITY/timeline, "
              "AUTHORITY being the feeds' authority setting.")  # fmt: skip
@click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the key (a new file, mode 0600). Default: NAME-signing.key beside a SQLite "
              "NAME.db; DBNAME-signing.key in the current folder for PostgreSQL.")  # fmt: skip
@click.option(
    "--replace", is_flag=True, help="Make a new key although the database has one (witnesses must pin the new one)."
)
@pass_session
def keys_init(session: Session, name: str | None, path: Path | None, replace: bool) -> None:
    """Make a signing key in a file only you can read, record its path in the database, and
    print its public key (C2SP verifier key NAME+KEYID+KEY) for subscribers to pin."""
    import os

    from timeline.commands.feeds import feed_settings
    from timeline.proof.keys import ENV_VAR, default_key_file, init_key

    if name is None:
        name = feed_settings(session).authority + "/timeline"
    path = path or default_key_file(session.target)
    key = init_key(session.app, name, path, replace)
    click.echo(str(key.verifier))
    click.echo(f"signing key written to {path} (keep it secret; publish the line above)", err=True)
    if os.environ.get(ENV_VAR):
        click.echo(f"note: ${ENV_VAR} is set, and names the key commands use instead of this one", err=True)


@keys.command("show", context_settings=CONTEXT)
@pass_session
def keys_show(session: Session) -> None:
    """Print the public key checkpoints are signed with, and where its file was found."""
    from timeline.proof.keys import configured_path, read_key

    found = configured_path(session.app)
    if found is None:
        raise TimelineError("no signing key: checkpoints are unsigned (`timeline keys init` makes one)")
    click.echo(str(read_key(found[0]).verifier))
    click.echo(f"key file {found[0]} (from {found[1]})", err=True)


# --- checkpoint and prove -----------------------------------------------------------------


@click.command(context_settings=CONTEXT)
@click.option(
    "--at", "at", metavar="SIZE|#N", help="The checkpoint of the log's first SIZE events, or up to position #N."
)
@json_option
@pass_session
def checkpoint(session: Session, at: str | None, as_json: bool) -> None:
    """Print the log's checkpoint (C2SP tlog-checkpoint), signed when a key is configured."""
    from timeline.proof.publish import checkpoint as make

    published = make(session.app, _size(at, session.app, "--at"))
    if as_json:
        emit_json(published.as_dict())
        return
    sys.stdout.buffer.write(published.data)
    if published.signer is None:
        click.echo("unsigned: no signing key (`timeline keys init` makes one)", err=True)


@click.command(context_settings=CONTEXT)
@click.argument("ref", metavar="[ID|#N]", required=False)
@click.option(
    "--at",
    "at",
    metavar="SIZE|#M",
    help="Prove inclusion in the log of its first SIZE events, or up to #M. Default: the whole log.",
)
@click.option("--from", "start", metavar="SIZE|#N", help="Consistency: the log of this size ...")
@click.option("--to", "end", metavar="SIZE|#M", help="... is a prefix of the log of this size. Default: the whole log.")
@click.option("--hex", "as_hex", is_flag=True, help="Write hashes in hex instead of base64.")
@pass_session
def prove(session: Session, ref: str | None, at: str | None, start: str | None, end: str | None, as_hex: bool) -> None:  # noqa: PLR0913 - a click callback takes one parameter per option
    """Print an inclusion proof (ID or #N: the development's events, or one event, are in
    the log) or a consistency proof (--from: the smaller log is a prefix of the larger), as
    JSON that `timeline check --proof` verifies."""
    from timeline.proof import proofs, publish

    if (ref is None) == (start is None):
        raise click.UsageError("give ID or #N (inclusion), or --from SIZE (consistency)")
    if ref is not None and end is not None:
        raise click.UsageError("--to goes with --from; an inclusion proof takes --at")
    if start is not None and at is not None:
        raise click.UsageError("--at goes with ID or #N; a consistency proof takes --to")
    app = session.app
    if ref is not None:
        proof: proofs.Inclusion | proofs.Consistency = publish.inclusion(app, ref, _size(at, app, "--at"))
    else:
        old = _size(start, app, "--from")
        assert old is not None
        proof = publish.consistency(app, old, _size(end, app, "--to"))
    click.echo(json.dumps(proofs.to_json(proof, "hex" if as_hex else "base64"), sort_keys=True, indent=2))


# --- check and witness (no database) ------------------------------------------------------


@click.command(context_settings=CONTEXT)
@click.option("--checkpoint", "checkpoints", multiple=True, metavar="FILE",
              help="A checkpoint file (repeatable: two for a consistency proof). '-' reads stdin.")  # fmt: skip
@click.option(
    "--key", metavar="PUBKEY", help="The log's public key, NAME+KEYID+KEY: every checkpoint must be signed by it."
)
@click.option(
    "--proof", "proof_file", metavar="FILE", help="A proof file from `timeline prove` or `serve` ('-' reads stdin)."
)
def check(checkpoints: tuple[str, ...], key: str | None, proof_file: str | None) -> None:
    """Verify checkpoints' signatures and a proof against them, without the database.

    Exit 1 with one line when a signature or a proof does not verify."""
    from timeline.proof import checkpoint as cpmod
    from timeline.proof import proofs

    if not checkpoints and not proof_file:
        raise click.UsageError("give --checkpoint FILE (with --key to check its signature) and/or --proof FILE")
    verifier = _verifier(key) if key is not None else None
    read = []
    for path in checkpoints:
        data = _read(path, "checkpoint")
        try:
            read.append(cpmod.read(data, verifier))
        except TimelineError as e:
            raise TimelineError(f"{path}: {e}") from None
    if proof_file is None:
        for path, r in zip(checkpoints, read, strict=True):
            cp = r.checkpoint
            how = (
                f"signed by {r.signed_by.name}+{r.signed_by.key_id:08x}"
                if r.signed_by
                else "signature not checked (no --key)"
            )
            click.echo(f"ok: {path}: {cp.origin}, {cp.size} events, {how}")
        return
    proof = proofs.parse(_read(proof_file, "proof"))
    shown = proofs.check(proof, [r.checkpoint for r in read])
    if any(r.data.count(b"\n\n") for r in read) and verifier is None:
        shown += "; the checkpoints' signatures were not checked (no --key)"
    elif read and verifier is None:
        shown += "; the checkpoints are unsigned"
    click.echo(f"ok: {shown}")


@click.command(context_settings=CONTEXT)
@click.argument("url")
@click.option("--key", required=True, metavar="PUBKEY", help="The log's public key (NAME+KEYID+KEY), pinned.")
@click.option("--state", "state", type=click.Path(dir_okay=False, path_type=Path),
              help="The last checkpoint seen, kept between runs. Default: "
              "$XDG_STATE_HOME/news-timeline/witness/NAME+KEYID.checkpoint (~/.local/state/...).")  # fmt: skip
def witness(url: str, key: str, state: Path | None) -> None:
    """Check that the log served at URL was only appended to since the last run: exit 0 if
    so, 1 (one line) when it was rewritten, forked or badly signed, 3 when it could not be
    checked. Meant for cron."""
    from timeline.proof.witness import CannotCheck, default_state
    from timeline.proof.witness import witness as run

    verifier = _verifier(key)
    try:
        outcome = run(url, verifier, state or default_state(verifier))
    except CannotCheck as e:
        click.echo(f"Error: {e}", err=True)
        sys.exit(3)
    click.echo(outcome.message())


COMMANDS: list[click.Command] = [keys, checkpoint, prove, check, witness]

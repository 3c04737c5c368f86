"""The log's Ed25519 signing key: made once, kept in a file only its owner can read, found
again by every command that publishes a checkpoint.

Where the key is found, first match wins:
1. the `TIMELINE_SIGNING_KEY` environment variable: a key file's path;
2. the path `timeline keys init` stored in the database (table `timeline_proof_settings`);
3. none: checkpoints are published unsigned.
A key that is configured but cannot be read (missing, readable by others, not a key) is an
error, never a silent fall back to unsigned checkpoints.

The file holds one line, the signer key in golang.org/x/mod/sumdb/note's form
(`PRIVATE+KEY+NAME+KEYID+base64(0x01 || seed)`), so Go's tools can sign with it too. It is
created with mode 0600 and never overwritten; the database holds only its path.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from timeline.errors import TimelineError
from timeline.proof.note import NoteError, Signer, check_name
from timeline.store import Sql

if TYPE_CHECKING:
    from timeline.app import Timeline
    from timeline.config import Target

ENV_VAR = "TIMELINE_SIGNING_KEY"
TABLE = "timeline_proof_settings"
KEY_SETTING = "signing-key"
DEFAULT_ORIGIN = "news-timeline.example/timeline"  # the origin of unsigned checkpoints


class SigningKeyError(TimelineError):
    """A signing key that cannot be made or read."""


def _sql(app: Timeline) -> Sql:
    sql = Sql.for_recorder(app.recorder)
    with sql.transaction(commit=True) as c:
        sql.execute(c, f"CREATE TABLE IF NOT EXISTS {sql.table(TABLE)} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    return sql


def stored_path(app: Timeline) -> str | None:
    # Read without creating the table: a CREATE, even IF NOT EXISTS, is a write transaction,
    # and every command that publishes a checkpoint asks.
    sql = Sql.for_recorder(app.recorder)
    with sql.transaction(commit=False) as c:
        if sql.postgres:
            exists = sql.scalar(c, "SELECT to_regclass(?) IS NOT NULL", [sql.table(TABLE)]) is True
        else:
            exists = bool(
                sql.scalar(c, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", [TABLE])
            )
        rows = sql.rows(c, f"SELECT value FROM {sql.table(TABLE)} WHERE key = ?", [KEY_SETTING]) if exists else []
    return str(rows[0]["value"]) if rows else None


def _store_path(app: Timeline, path: str) -> None:
    sql = _sql(app)
    with sql.transaction(commit=True) as c:
        sql.execute(
            c,
            f"INSERT INTO {sql.table(TABLE)} (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [KEY_SETTING, path],
        )


def configured_path(app: Timeline) -> tuple[str, str] | None:
    """(path, where it was configured) or None."""
    env = os.environ.get(ENV_VAR)
    if env:
        return env, f"${ENV_VAR}"
    stored = stored_path(app)
    return (stored, "the database") if stored else None


def read_key(path: str) -> Signer:
    """The signer in `path`; refused when others can read the file, as ssh does."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not hang us
    except OSError as e:
        raise SigningKeyError(f"cannot read the signing key {path!r}: {e.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise SigningKeyError(f"the signing key {path!r} is not a file")
        if st.st_mode & 0o077:
            raise SigningKeyError(
                f"the signing key {path!r} can be read by others (mode {st.st_mode & 0o777:o}); chmod 600 it"
            )
        data = os.read(fd, 4096)
    except OSError as e:
        raise SigningKeyError(f"cannot read the signing key {path!r}: {e.strerror}") from None
    finally:
        os.close(fd)
    try:
        return Signer.parse(data.decode("ascii"))
    except (UnicodeDecodeError, NoteError) as e:
        reason = str(e) if isinstance(e, NoteError) else "it is not text"
        raise SigningKeyError(f"the signing key {path!r} cannot be read: {reason}") from None


def signer(app: Timeline) -> Signer | None:
    """The configured signing key, or None when there is none."""
    found = configured_path(app)
    return read_key(found[0]) if found else None


def origin(found: Signer | None) -> str:
    """A checkpoint's origin line: the key's name (C2SP: it SHOULD match)."""
    return found.name if found else DEFAULT_ORIGIN


def default_key_file(target: Target) -> Path:
    """Where `keys init` writes the key when not told: NAME-signing.key beside a SQLite
    NAME.db; DBNAME[-SCHEMA]-signing.key in the current folder for PostgreSQL."""
    if not target.is_postgres:
        db = Path(target.settings["SQLITE_DBNAME"])
        return db.with_name(f"{db.stem}-signing.key")
    schema = target.settings.get("POSTGRES_SCHEMA")
    return Path(f"{target.settings['POSTGRES_DBNAME']}{'-' + schema if schema else ''}-signing.key")


def init_key(app: Timeline, name: str, path: Path, replace: bool = False) -> Signer:
    """Make a key in a new file (mode 0600) and record its path in the database."""
    check_name(name)
    current = stored_path(app)
    if current and not replace:
        raise SigningKeyError(
            f"this database already signs with the key in {current!r}; a new key breaks every witness "
            "that pinned the old one (give --replace to make one anyway)"
        )
    key = Signer.generate(name)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise SigningKeyError(f"{str(path)!r} already exists; a key file is never overwritten") from None
    except OSError as e:
        raise SigningKeyError(f"cannot create {str(path)!r}: {e.strerror}") from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        os.fchmod(f.fileno(), 0o600)  # whatever the umask
        f.write(key.secret_text() + "\n")
    _store_path(app, str(path.resolve()))
    return key

"""Where the log lives: `--db TARGET` (or TIMELINE_DB) turned into eventsourcing settings.

A file path means SQLite (the embedded default); `postgresql://user[:password]@host[:port]/dbname`
(optionally `?schema=NAME`) means PostgreSQL. Any other `scheme://` is refused rather than
taken for a file name. Read when a command runs, never at import.

Nothing here ever prints a password: every message shows a URL through `redact`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from events.patterns import Lazy
from timeline.errors import StoreUnavailable

DEFAULT_DB = "timeline.db"
ENV_VAR = "TIMELINE_DB"
LOCK_TIMEOUT_VAR = "TIMELINE_LOCK_TIMEOUT"
POSTGRES_SCHEMES = ("postgresql", "postgres")
# A scheme as RFC 3986 spells one, followed by "://": a URL, never a file name.
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# A schema the library can put into its DDL as written: it quotes some statements and not
# others, so only plain lower-case identifiers work everywhere.
_SCHEMA = Lazy(r"^[a-z_][a-z0-9_]{0,62}$")  # PostgreSQL only: compiled when first used


@dataclass(frozen=True)
class Target:
    backend: str  # "sqlite" or "postgres"
    display: str  # safe to print: never holds a password
    settings: dict[str, str] = field(default_factory=dict)
    read_only: bool = False  # SQLite only: the file (or its folder) cannot be written
    create: bool = True  # whether the command may create what is missing (file, schema)

    @property
    def is_postgres(self) -> bool:
        return self.backend == "postgres"

    @property
    def path(self) -> Path:
        """The SQLite file (SQLite targets only)."""
        return Path(self.display)

    def holds_log(self) -> bool:
        """Whether a log is there already (a SQLite file; on PostgreSQL the log's table in
        its schema), found without opening it: opening creates it."""
        if not self.is_postgres:
            return self.path.exists()
        from timeline.recorders.postgres import log_exists

        return log_exists(self.settings)


def redact(text: str) -> str:
    """A URL with any password replaced by `***`; anything that is not a URL unchanged.

    Done on the text, not on a parse of it: a URL that does not parse (a bad port, a `/` in
    the password) must be redacted all the same. Everything between `//` and the last `@`
    is taken for the user part, so a password holding `@`, `/` or `?` is hidden too.
    """
    match = _URL.match(text)
    if not match:
        return text
    rest = text[match.end() :]
    at = rest.rfind("@")
    if at >= 0 and ":" in rest[:at]:
        user = rest[:at].split(":", 1)[0]
        rest = f"{user}:***@{rest[at + 1 :]}"
    rest = re.sub(r"(?i)(password=)[^&#]*", r"\1***", rest)
    return match.group(0) + rest


def resolve(text: str | None, *, create: bool = True) -> Target:
    """The target a --db text names. With `create=False` (a command that only reads) a
    SQLite file that does not exist is refused instead of created."""
    text = text or os.environ.get(ENV_VAR) or DEFAULT_DB
    match = _URL.match(text)
    if match:
        if match.group(1).lower() in POSTGRES_SCHEMES:
            return replace(_postgres(text), create=create)
        raise StoreUnavailable(
            f"cannot open database {redact(text)}: {match.group(1)}:// is not supported "
            "(use a SQLite file path or a postgresql:// URL)"
        )
    return _sqlite(text, create=create)


def _sqlite(text: str, *, create: bool) -> Target:
    path = Path(text).expanduser()
    if path.is_dir():
        raise StoreUnavailable(f"cannot open database {text!r}: it is a directory")
    if not path.parent.is_dir():
        raise StoreUnavailable(f"cannot open database {text!r}: folder {str(path.parent)!r} does not exist")
    if not create and not path.exists():
        raise StoreUnavailable(f"no timeline database at {text}")
    read_only = path.exists() and not _writable(path)
    name = str(path)
    if read_only:
        # Opened through a URI so that SQLite never tries to write (the library passes
        # uri=True); the library's CREATE TABLE statements are skipped too.
        name = f"file:{quote(str(path.resolve()))}?mode=ro"
    settings = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "APPLICATION_RECORDER_TOPIC": "timeline.recorders.sqlite:SQLiteRecorder",
        "TRACKING_RECORDER_TOPIC": "timeline.recorders.sqlite:SQLiteTracking",
        "SQLITE_DBNAME": name,
        "SQLITE_LOCK_TIMEOUT": lock_timeout(),
    }
    if read_only:
        settings["CREATE_TABLE"] = "false"
    return Target("sqlite", str(path), settings, read_only=read_only, create=create)


def lock_timeout() -> str:
    """Seconds a SQLite command waits for another writer's lock: TIMELINE_LOCK_TIMEOUT or 10."""
    text = os.environ.get(LOCK_TIMEOUT_VAR, "").strip()
    if not text:
        return "10"
    if not text.isdigit() or int(text) == 0:
        raise StoreUnavailable(f"{LOCK_TIMEOUT_VAR} must be a whole number of seconds, not {text!r}")
    return text


def _writable(path: Path) -> bool:
    """Whether this process may write the file and create its `-wal` and `-shm` beside it.

    `os.access` asks the kernel, which also answers for root: an immutable file
    (`chattr +i`) or a read-only mount says no even to root, where file modes do not.
    """
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)


def _postgres(text: str) -> Target:
    shown = redact(text)
    try:
        parts = urlsplit(text)
        port = parts.port or 5432
    except ValueError as e:
        raise StoreUnavailable(f"cannot open database {shown}: {_url_problem(e)}") from None
    dbname = unquote(parts.path.lstrip("/"))
    if not parts.hostname or not dbname:
        raise StoreUnavailable(f"cannot open database {shown}: a PostgreSQL URL needs a host and a database name")
    settings = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "APPLICATION_RECORDER_TOPIC": "timeline.recorders.postgres:PostgresRecorder",
        "TRACKING_RECORDER_TOPIC": "timeline.recorders.postgres:PostgresTracking",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": parts.hostname,
        "POSTGRES_PORT": str(port),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_POOL_SIZE": "2",
    }
    options = parse_qsl(parts.query, keep_blank_values=True)
    for key, _ in options:
        if key != "schema":
            raise StoreUnavailable(f"cannot open database {shown}: unknown option {key!r} (only schema=NAME is read)")
    schemas = [value for _, value in options]
    if len(schemas) > 1:
        raise StoreUnavailable(f"cannot open database {shown}: schema is given {len(schemas)} times")
    if schemas:
        if not _SCHEMA.match(schemas[0]):
            raise StoreUnavailable(
                f"cannot open database {shown}: schema {schemas[0]!r} is not a plain name "
                "(lower-case letters, digits and _, not starting with a digit, at most 63)"
            )
        settings["POSTGRES_SCHEMA"] = schemas[0]
    user = settings["POSTGRES_USER"]
    query = f"?schema={schemas[0]}" if schemas else ""
    return Target("postgres", f"postgresql://{user}@{parts.hostname}:{port}/{dbname}{query}", settings)


def _url_problem(e: ValueError) -> str:
    text = str(e)
    if "port" in text.lower():
        return "the port is not a number from 0 to 65535"
    return f"not a URL ({text})"

"""Where the log lives: `--db TARGET` (or TIMELINE_DB) turned into eventsourcing settings.

A file path means SQLite (the embedded default); `postgresql://user[:password]@host[:port]/dbname`
(optionally `?schema=NAME`) means PostgreSQL. Read when a command runs, never at import.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from timeline.errors import StoreUnavailable

DEFAULT_DB = "timeline.db"
ENV_VAR = "TIMELINE_DB"


@dataclass(frozen=True)
class Target:
    backend: str  # "sqlite" or "postgres"
    display: str  # safe to print: never holds a password
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def is_postgres(self) -> bool:
        return self.backend == "postgres"


def resolve(text: str | None) -> Target:
    text = text or os.environ.get(ENV_VAR) or DEFAULT_DB
    if text.startswith(("postgresql://", "postgres://")):
        return _postgres(text)
    return _sqlite(text)


def _sqlite(text: str) -> Target:
    path = Path(text).expanduser()
    if path.is_dir():
        raise StoreUnavailable(f"cannot open database {text!r}: it is a directory")
    if not path.parent.is_dir():
        raise StoreUnavailable(f"cannot open database {text!r}: folder {str(path.parent)!r} does not exist")
    return Target(
        "sqlite",
        str(path),
        {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "APPLICATION_RECORDER_TOPIC": "timeline.recorders.sqlite:SQLiteRecorder",
            "SQLITE_DBNAME": str(path),
            "SQLITE_LOCK_TIMEOUT": "10",
        },
    )


def _postgres(text: str) -> Target:
    parts = urlsplit(text)
    dbname = unquote(parts.path.lstrip("/"))
    if not parts.hostname or not dbname:
        raise StoreUnavailable(f"cannot open database: {text!r} needs a host and a database name")
    try:
        port = parts.port or 5432
    except ValueError:
        raise StoreUnavailable(f"cannot open database: bad port in {text!r}") from None
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
    schema = parse_qs(parts.query).get("schema")
    if schema:
        settings["POSTGRES_SCHEMA"] = schema[0]
    user = settings["POSTGRES_USER"]
    return Target("postgres", f"postgresql://{user}@{parts.hostname}:{port}/{dbname}", settings)

"""Settings stored per database, beside the log, in small `(key, value)` tables.

One piece of storage serves two tables: `timeline_settings` holds the reading conventions
(`timeline config set date-order dmy`), `timeline_feed_settings` the feeds' settings
(`timeline feeds config set title ...`, whose defaults and checks are `feeds.settings`'). Both
go through the same `Sql` helper as the views, so SQLite and PostgreSQL behave alike, and
reading creates nothing (a database not configured has no table yet).

The conventions: a command's own `--date-order` or `--decimal-mark` wins over the stored
value; with neither, ambiguous forms are refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from events.conventions import DATE_ORDERS, DECIMAL_MARKS, Conventions
from timeline.errors import BadValue, TimelineError
from timeline.store import Sql

if TYPE_CHECKING:
    from timeline.app import Timeline

TABLE = "timeline_settings"  # the reading conventions
FEEDS_TABLE = "timeline_feed_settings"  # the feeds' settings (see feeds.settings)
CHOICES: dict[str, tuple[str, ...]] = {"date-order": DATE_ORDERS, "decimal-mark": DECIMAL_MARKS}
HELP: dict[str, str] = {
    "date-order": "How to read 03/04/2024: dmy (3 April) or mdy (March 4). Unset: refused as ambiguous.",
    "decimal-mark": "How to read 1,234 and 1.234: point (1,234 is 1234) or comma (1,234 is 1.234). Unset: refused.",
}


# --- the key-value storage, for either table ----------------------------------------------


def stored(app: Timeline, table: str = TABLE) -> dict[str, str]:
    """The settings stored in `table` for this database; reading creates nothing."""
    sql = Sql.for_recorder(app.recorder)
    with sql.transaction(commit=False) as c:
        if sql.postgres:
            found = sql.scalar(c, "SELECT to_regclass(?) IS NOT NULL", [sql.table(table)])
        else:
            found = sql.scalar(c, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", [table])
        if not found:
            return {}
        return {r["key"]: r["value"] for r in sql.rows(c, f"SELECT key, value FROM {sql.table(table)} ORDER BY key")}


def put(app: Timeline, table: str, key: str, value: str | None) -> None:
    """Set (or with None, unset) one key of `table`, as given: the caller has checked it."""
    sql = Sql.for_recorder(app.recorder)
    name = sql.table(table)
    with sql.transaction(commit=True) as c:
        sql.execute(c, f"CREATE TABLE IF NOT EXISTS {name} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        if value is None:
            sql.execute(c, f"DELETE FROM {name} WHERE key = ?", [key])
        else:
            sql.execute(
                c,
                f"INSERT INTO {name} (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value],
            )


# --- the reading conventions ----------------------------------------------------------------


def check(key: str, value: str) -> str:
    if key not in CHOICES:
        raise BadValue(f"unknown setting {key!r}; known: {', '.join(CHOICES)}")
    value = value.strip().lower()
    if value not in CHOICES[key]:
        raise BadValue(f"{key} must be one of {', '.join(CHOICES[key])}, not {value!r}")
    return value


def store(app: Timeline, key: str, value: str | None) -> None:
    """Set (or with None, unset) one reading convention for this database."""
    if value is None and key not in CHOICES:
        raise TimelineError(f"unknown setting {key!r}; known: {', '.join(CHOICES)}")
    put(app, TABLE, key, None if value is None else check(key, value))


def rows(saved: dict[str, str]) -> dict[str, dict[str, Any]]:
    """What `timeline config show` lists: each convention, its stored value (or None) and help."""
    return {k: {"value": saved.get(k), "help": HELP[k]} for k in CHOICES}


def for_command(
    open_app: Callable[[], Timeline | None], date_order: str | None = None, decimal_mark: str | None = None
) -> Conventions:
    """The conventions a command reads by: its options, else the database's settings. The
    database is opened (`open_app`, None when it does not exist yet: it has no settings, and
    reading them must not create it) only when an option is missing."""
    app = None if (date_order and decimal_mark) else open_app()
    return conventions(stored(app) if app is not None else {}, date_order, decimal_mark)


def conventions(saved: dict[str, str], date_order: str | None = None, decimal_mark: str | None = None) -> Conventions:
    """This command's options, else the stored settings, else none."""
    return Conventions(
        date_order=date_order or saved.get("date-order"),
        decimal_mark=decimal_mark or saved.get("decimal-mark"),
    )

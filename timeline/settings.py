"""Reading conventions stored per database: `timeline config set date-order dmy`.

Kept in `timeline_settings (key, value)` beside the log, through the same `Sql` helper as
the views, so SQLite and PostgreSQL behave alike. A command's own `--date-order` or
`--decimal-mark` wins over the stored value; with neither, ambiguous forms are refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from events.conventions import DATE_ORDERS, DECIMAL_MARKS, Conventions
from timeline.errors import BadValue, TimelineError
from timeline.store import Sql

if TYPE_CHECKING:
    from timeline.app import Timeline

TABLE = "timeline_settings"
CHOICES: dict[str, tuple[str, ...]] = {"date-order": DATE_ORDERS, "decimal-mark": DECIMAL_MARKS}
HELP: dict[str, str] = {
    "date-order": "How to read 03/04/2024: dmy (3 April) or mdy (March 4). Unset: refused as ambiguous.",
    "decimal-mark": "How to read 1,234 and 1.234: point (1,234 is 1234) or comma (1,234 is 1.234). Unset: refused.",
}


def check(key: str, value: str) -> str:
    if key not in CHOICES:
        raise BadValue(f"unknown setting {key!r}; known: {', '.join(CHOICES)}")
    value = value.strip().lower()
    if value not in CHOICES[key]:
        raise BadValue(f"{key} must be one of {', '.join(CHOICES[key])}, not {value!r}")
    return value


def stored(app: Timeline) -> dict[str, str]:
    """The settings stored for this database; reading creates nothing."""
    sql = Sql.for_recorder(app.recorder)
    with sql.transaction(commit=False) as c:
        if sql.postgres:
            found = sql.scalar(c, "SELECT to_regclass(?) IS NOT NULL", [sql.table(TABLE)])
        else:
            found = sql.scalar(c, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", [TABLE])
        if not found:
            return {}
        return {r["key"]: r["value"] for r in sql.rows(c, f"SELECT key, value FROM {sql.table(TABLE)} ORDER BY key")}


def store(app: Timeline, key: str, value: str | None) -> None:
    """Set (or with None, unset) one setting for this database."""
    sql = Sql.for_recorder(app.recorder)
    table = sql.table(TABLE)
    with sql.transaction(commit=True) as c:
        sql.execute(c, f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        if value is None:
            if key not in CHOICES:
                raise TimelineError(f"unknown setting {key!r}; known: {', '.join(CHOICES)}")
            sql.execute(c, f"DELETE FROM {table} WHERE key = ?", [key])
        else:
            sql.execute(
                c,
                f"INSERT INTO {table} (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, check(key, value)],
            )


def conventions(saved: dict[str, str], date_order: str | None = None, decimal_mark: str | None = None) -> Conventions:
    """This command's options, else the stored settings, else none."""
    return Conventions(
        date_order=date_order or saved.get("date-order"),
        decimal_mark=decimal_mark or saved.get("decimal-mark"),
    )

"""Feed settings: documented defaults, stored per database, overridden per command.

Stored in one small table, `timeline_feed_settings (key, value)`, through the same `Sql`
helper as the views, so SQLite and PostgreSQL behave alike.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from timeline.errors import BadValue
from timeline.store import Sql

DEFAULTS: dict[str, str] = {
    "title": "News timeline",
    "authority": "news-timeline.example",
    "base-url": "http://127.0.0.1:8080",
    "author": "News timeline editors",
    "page-size": "50",
}
HELP: dict[str, str] = {
    "title": "Title of the story feed; topic and actor feeds add their name.",
    "authority": "Tag URI authority (RFC 4151) for entry ids: a domain you own, or an email address.",
    "base-url": "Absolute URL the feeds are published under (self links, index).",
    "author": "Author named in every feed and entry.",
    "page-size": "Entries in a subscription document and in each archive page.",
}
TABLE = "timeline_feed_settings"
_DOMAIN = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
# RFC 3986's unreserved, reserved and '%': no space, quote, angle bracket or control character.
_URL_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$")
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@(.+)$")


@dataclass(frozen=True)
class FeedSettings:
    title: str
    authority: str
    base_url: str
    author: str
    page_size: int

    def fingerprint(self) -> dict[str, Any]:
        return asdict(self)


def check(key: str, value: str) -> str:
    """The value as stored, or a one-line error."""
    if key not in DEFAULTS:
        raise BadValue(f"unknown feed setting {key!r}; known: {', '.join(sorted(DEFAULTS))}")
    value = value.strip()
    if not value:
        raise BadValue(f"feed setting {key} must not be empty")
    if key == "authority":
        email = _EMAIL.match(value)
        if not _DOMAIN.match(email.group(1) if email else value):
            raise BadValue(f"authority {value!r} is neither a domain name nor an email address")
        return value.lower()
    if key == "base-url":
        parts = urlsplit(value)
        if (
            parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment
            or not _URL_CHARS.match(value)
        ):  # fmt: skip
            raise BadValue(
                f"base URL {value!r} must be an absolute http(s) URL without query or fragment, "
                "in URL characters only (percent-encode others)"
            )
        return value.rstrip("/")
    if key == "page-size":
        if not value.isdigit() or not 1 <= int(value) <= 10_000:
            raise BadValue(f"page-size {value!r} must be a whole number from 1 to 10000")
        return str(int(value))
    return value


def _sql(app: Any) -> Sql:
    sql = Sql.for_recorder(app.recorder)
    with sql.transaction(commit=True) as c:
        sql.execute(c, f"CREATE TABLE IF NOT EXISTS {TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    return sql


def stored(app: Any) -> dict[str, str]:
    sql = _sql(app)
    with sql.transaction(commit=False) as c:
        return {r["key"]: r["value"] for r in sql.rows(c, f"SELECT key, value FROM {TABLE} ORDER BY key")}


def store(app: Any, key: str, value: str | None) -> None:
    """Set (or with None, unset) one setting for this database."""
    sql = _sql(app)
    with sql.transaction(commit=True) as c:
        if value is None:
            sql.execute(c, f"DELETE FROM {TABLE} WHERE key = ?", [key])
        else:
            sql.execute(
                c,
                f"INSERT INTO {TABLE} (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, check(key, value)],
            )


def resolve(saved: dict[str, str], overrides: dict[str, str | None]) -> FeedSettings:
    """Defaults, then the database's settings, then this command's options."""
    values = dict(DEFAULTS)
    values.update({k: v for k, v in saved.items() if k in DEFAULTS})
    values.update({k: v for k, v in overrides.items() if v is not None})
    values = {k: check(k, v) for k, v in values.items()}
    return FeedSettings(
        title=values["title"],
        authority=values["authority"],
        base_url=values["base-url"],
        author=values["author"],
        page_size=int(values["page-size"]),
    )

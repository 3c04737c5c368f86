"""Feed settings: documented defaults, their checks, and how they combine.

The values stored per database live in `timeline_feed_settings`, read and written by
`timeline.settings` (the one key-value storage, which the CLI calls); this module only
says what a value may be, which wins (`resolve`), and what `feeds config show` lists
(`rows`), so all of it is tested without a database or click.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from timeline.errors import BadValue

DEFAULTS: dict[str, str] = {
    "title": "News timeline",
    "authority": "news-timeline.example",
    "base-url": "http://127.0.0.1:8080",
    "author": "News timeline editors",
    "page-size": "50",
}
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


def check_key(key: str) -> str:
    """A known setting's name, or a one-line error naming the known ones."""
    if key not in DEFAULTS:
        raise BadValue(f"unknown feed setting {key!r}; known: {', '.join(sorted(DEFAULTS))}")
    return key


def check(key: str, value: str) -> str:
    """The value as stored, or a one-line error."""
    check_key(key)
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


def resolve(
    saved: dict[str, str], overrides: dict[str, str | None], default_base_url: str | None = None
) -> FeedSettings:
    """Defaults, then `default_base_url` (where `serve` listens), then the database's
    settings, then this command's options."""
    values = dict(DEFAULTS)
    if default_base_url:
        values["base-url"] = default_base_url
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


def rows(saved: dict[str, str]) -> dict[str, dict[str, str]]:
    """What `feeds config show` lists: each setting, its value and where it comes from."""
    return {k: {"value": saved.get(k, v), "from": "database" if k in saved else "default"} for k, v in DEFAULTS.items()}


def http_url(host: str, port: int) -> str:
    """http://HOST:PORT, an IPv6 address in brackets (RFC 3986): where `serve` listens."""
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"

"""Where each document of a build lives in the folder, and what it is (see `feeds`).

Every path a build writes is made here from names that may come from anywhere (topic and
actor slugs), so none can reach outside the folder.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from feeds.settings import FeedSettings

STORY = "story"
FACETS = ("topic", "actor")
ARCHIVED = ".timeline-archived"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The media type of every kind of file the folder holds, by extension: what `serve` sends
# and the only extensions it serves.
MEDIA_TYPES = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
}
FORMATS = ("atom", "rss")
_SAFE = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")


@dataclass(frozen=True)
class Output:
    path: str  # relative, '/'-separated, always made of safe segments
    data: bytes | Iterable[bytes]  # or its chunks, in order: a large page written as it is rendered
    modified: datetime  # for Last-Modified: the time of the event that last changed it
    append_at: int | None = None  # a sidecar: cut the file to this many bytes, then append data

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.path.rsplit(".", 1)[-1]]


def safe_segment(slug: str) -> str:
    """A slug as one path segment: as it is when it is already safe, else a hash of it,
    so no name ('../x', '/etc', 'a\\0b', '') can reach outside the output folder."""
    if _SAFE.match(slug):
        return slug
    return "x-" + hashlib.sha256(slug.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def feed_path(name: str) -> str:
    """'story' -> 'story'; 'topic/<slug>' -> 'topic/<safe slug>'."""
    if name == STORY:
        return STORY
    facet, _, slug = name.partition("/")
    if facet not in FACETS:
        return "other/" + safe_segment(name)
    return f"{facet}/{safe_segment(slug)}"


def sidecar_path(base: str) -> str:
    """Where a topic or actor feed keeps the ids of its archived entries, one per line,
    page after page (never served: the server refuses paths starting with '.')."""
    return f"{ARCHIVED}/{base}.ids"


def archive_path(base: str, number: int, fmt: str) -> str:
    return f"archive/{base}/{number}.{fmt}"


def permalink_path(dev_id: str) -> str:
    """A development's own page, which never moves (the story's pages do: see `feeds.page`)."""
    return f"d/{safe_segment(dev_id)}.html"


def url(settings: FeedSettings, path: str) -> str:
    return f"{settings.base_url}/{quote(path)}"


def digest(data: bytes) -> str:
    """What the manifest keeps of a file's bytes, with its size: enough to notice damage."""
    return hashlib.sha256(data).hexdigest()[:16]

"""Slugs: the stable, file- and URL-safe names of topics and actors."""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata

from events.errors import InvalidInput

__all__ = ["slugify", "check_topic"]

_NON_SLUG = re.compile(r"[^a-z0-9]+")
_TOPIC = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@functools.lru_cache(maxsize=65536)
def slugify(name: str) -> str:
    """'Yoko Kamikawa' -> 'yoko-kamikawa'. Names with no Latin letters (Khmer, Arabic)
    get a short hash so that every name has a slug and two names never share one by
    accident of transliteration."""
    ascii_ = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = _NON_SLUG.sub("-", ascii_.lower()).strip("-")[:80].strip("-")
    if not slug:
        slug = "u-" + hashlib.sha256(name.strip().encode()).hexdigest()[:12]
    return slug


def check_topic(topic: str) -> str:
    """Topics are slugs already: lower-case words joined by hyphens."""
    t = topic.strip() if isinstance(topic, str) else topic
    if not isinstance(t, str) or not _TOPIC.match(t) or len(t) > 80:
        raise InvalidInput(f"topic {topic!r} is not a slug (lower-case letters, digits, hyphens)")
    return t

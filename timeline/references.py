"""What a reference names, the one rule every reader of a development uses."""

from __future__ import annotations

from uuid import UUID

from events import resolve_reference
from timeline.errors import DevelopmentNotFound


def reference_id(ref: object) -> UUID:
    """The id a full id or a natural key names (unique prefixes are the application's:
    `Timeline.resolve`). Anything that is not a reference at all is a development not found."""
    if not isinstance(ref, str) or not ref.strip():
        raise DevelopmentNotFound(str(ref))
    return resolve_reference(ref.strip())

"""`Development`'s change events, made the first time one is asked for.

`Development.Corrected`, `.Retracted` and `.SourceAdded` load this module (see
`events.development._DevelopmentType`): recording a development needs none of them, and
the library makes each a dataclass at import. Each is named and placed as if declared in
`Development`'s body (its `__module__` and `__qualname__`), so its topic and stored bytes
are what they always were (`tests/unit/test_stored_event_bytes.py`).
"""

from __future__ import annotations

from typing import Any

from events.development import Development, _seen, apply_changes, with_source

__all__ = ["Corrected", "Retracted", "SourceAdded"]


class Corrected(Development.Event):
    __module__ = "events.development"
    __qualname__ = "Development.Corrected"
    class_version = 1
    changes: dict[str, dict[str, Any]]
    reason: str
    source: dict[str, Any] | None

    def apply(self, aggregate: Any) -> None:
        aggregate.fields = with_source(apply_changes(aggregate.fields, self.changes), self.source)
        seen = _seen(self.changes, self.reason, self.source, aggregate.fields)
        aggregate.corrections_seen = [*aggregate.corrections_seen, seen]


class Retracted(Development.Event):
    __module__ = "events.development"
    __qualname__ = "Development.Retracted"
    class_version = 1
    reason: str
    source: dict[str, Any] | None

    def apply(self, aggregate: Any) -> None:
        aggregate.fields = with_source(aggregate.fields, self.source)
        aggregate.retraction = {"reason": self.reason, "source": self.source}


class SourceAdded(Development.Event):
    __module__ = "events.development"
    __qualname__ = "Development.SourceAdded"
    class_version = 1
    source: dict[str, Any]

    def apply(self, aggregate: Any) -> None:
        aggregate.fields = with_source(aggregate.fields, self.source)

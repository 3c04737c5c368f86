"""The views' tracking position, read and written inside the views' own transaction.

The library's public `TrackingRecorder.max_tracking_id` and `insert_tracking` each open a
transaction of their own, but a page of view rows and its position must commit together
(or a crash could skip or repeat events), and the position must be read again under the
write lock. Its public API has no form taking the caller's cursor (only
`ProcessRecorder.insert_events(..., tracking=)`, which stores events with it), so the two
cursor-level methods its own recorders use, `_max_tracking_id(name, cursor)` and
`_insert_tracking(cursor, tracking)`, are called here and nowhere else.
`tests/store/test_tracking_seam.py` checks their names, signatures and behaviour on both
stores, so an upgrade of the library that changes them fails there, loudly.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Tracking, TrackingRecorder


def position_in(recorder: TrackingRecorder, cursor: Any, name: str) -> int:
    """The tracked position of `name`, read on the caller's cursor (0 before any)."""
    return int(recorder._max_tracking_id(name, cursor) or 0)  # type: ignore[attr-defined]


def record_in(recorder: TrackingRecorder, cursor: Any, tracking: Tracking) -> None:
    """Record `tracking` on the caller's cursor; commits with the caller's transaction.
    The library refuses a position not above the tracked one (`IntegrityError`)."""
    recorder._insert_tracking(cursor, tracking)  # type: ignore[attr-defined]

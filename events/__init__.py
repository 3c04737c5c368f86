"""The domain: developments of a news story, their values and their events.

Imports nothing from storage, feeds or the command line.
"""

from events.dates import OccurredDate, Precision
from events.development import (
    AlreadyRetracted,
    Development,
    NothingChanged,
    Report,
    actors_of,
    apply_changes,
    development_id,
    differences,
    read_changes,
    read_report,
    resolve_reference,
)
from events.errors import InvalidInput
from events.kinds import COMMON_FIELDS, KINDS, get_kind
from events.money import Money

__all__ = [
    "AlreadyRetracted", "COMMON_FIELDS", "Development", "InvalidInput", "KINDS", "Money",
    "NothingChanged", "OccurredDate", "Precision", "Report", "actors_of", "apply_changes",
    "development_id", "differences", "get_kind", "read_changes", "read_report", "resolve_reference",
]  # fmt: skip

"""The domain: developments of a news story, their values and their events.

Imports nothing from storage, feeds or the command line.
"""

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from events.dates import OccurredDate, Precision
    from events.money import Money

__all__ = [
    "AlreadyRetracted", "COMMON_FIELDS", "Development", "InvalidInput", "KINDS", "Money",
    "NothingChanged", "OccurredDate", "Precision", "Report", "actors_of", "apply_changes",
    "development_id", "differences", "get_kind", "read_changes", "read_report", "resolve_reference",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    # `events.Money` is imported on first use: most commands read and show no amount, and
    # `events.money` (its patterns, `decimal`, the currency table) costs every start of a
    # `timeline add` otherwise (issue 16). So are `OccurredDate` and `Precision`: an add
    # dated "6 July 2024" reads it through `events.plain_days` alone.
    if name == "Money":
        from events.money import Money

        return Money
    if name in ("OccurredDate", "Precision"):
        from events import dates

        return getattr(dates, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

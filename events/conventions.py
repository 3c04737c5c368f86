"""Reading conventions a user may set, for the forms that are ambiguous without one.

"03/04/2024" is 3 April in most of the world and March 4 in the United States; "1,234"
is one thousand two hundred and thirty-four in English and a little over one in German.
Without a convention such forms are refused; with one (a command's `--date-order` or
`--decimal-mark`, or the database's stored setting) they are read by it.

The convention is held in a context variable for the duration of a `reading(...)` block,
so the field parsers keep their one-argument shape and the domain imports nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from events.errors import InvalidInput
from events.frozen import Frozen

__all__ = ["Conventions", "DATE_ORDERS", "DECIMAL_MARKS", "current", "reading"]

DATE_ORDERS = ("dmy", "mdy")
DECIMAL_MARKS = ("point", "comma")


class Conventions(Frozen):
    """How ambiguous dates and amounts are read. (What a frozen dataclass of these two
    fields was; `events.frozen` says why it is written out.)"""

    _fields = ("date_order", "decimal_mark")
    date_order: str | None  # "dmy", "mdy" or None (ambiguous forms refused)
    decimal_mark: str | None  # "point", "comma" or None

    def __init__(self, date_order: str | None = None, decimal_mark: str | None = None) -> None:
        object.__setattr__(self, "date_order", date_order)
        object.__setattr__(self, "decimal_mark", decimal_mark)
        if self.date_order not in (None, *DATE_ORDERS):
            raise InvalidInput(f"date order {self.date_order!r} is not one of {', '.join(DATE_ORDERS)}")
        if self.decimal_mark not in (None, *DECIMAL_MARKS):
            raise InvalidInput(f"decimal mark {self.decimal_mark!r} is not one of {', '.join(DECIMAL_MARKS)}")


_NONE = Conventions()
_CURRENT: ContextVar[Conventions | None] = ContextVar("reading_conventions", default=None)


def current() -> Conventions:
    return _CURRENT.get() or _NONE


@contextmanager
def reading(conventions: Conventions) -> Iterator[Conventions]:
    """Read dates and amounts by these conventions inside the block."""
    token = _CURRENT.set(conventions)
    try:
        yield conventions
    finally:
        _CURRENT.reset(token)

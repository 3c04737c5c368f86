"""The project's own errors: what a user did or asked that cannot be done.

The command line turns each into one line `Error: ...` and a non-zero exit.
"""

from __future__ import annotations


def first_line(e: BaseException) -> str:
    """An infrastructure error's own words, cut to the one line a user is shown."""
    return (str(e).strip() or type(e).__name__).splitlines()[0]


class TimelineError(Exception):
    """An expected error, shown to the user as one line."""


class BadValue(TimelineError):
    """A value given on the command line that cannot be read: a usage error (exit 2)."""

    exit_code = 2


class DevelopmentNotFound(TimelineError):
    def __init__(self, ref: str) -> None:
        super().__init__(f"no development {ref!r}")


class Conflict(TimelineError):
    """The same id arrived with different fields: neither ignored nor overwritten."""

    def __init__(self, dev_id: str, fields: list[str]) -> None:
        self.dev_id = dev_id
        self.fields = fields
        what = ", ".join(fields) if fields else "fields"
        super().__init__(
            f"development {dev_id} is already recorded with different {what}; "
            "use `timeline correct` to change it"
        )


class StoreUnavailable(TimelineError):
    """The --db target cannot be opened."""


class AmbiguousReference(TimelineError):
    """A short id (or a key that is also one) that names more than one development."""

    def __init__(self, ref: str, candidates: list[tuple[str, str]]) -> None:
        self.candidates = candidates
        listed = "; ".join(f"{i} ({title})" if title else i for i, title in candidates)
        super().__init__(f"{ref!r} names more than one development: {listed}; give more of the id")


class MissingReference(TimelineError):
    """A field names a development that is not recorded (or not one it can name)."""

"""Regular expressions compiled when first used instead of at import.

`re.compile` parses and compiles in Python: `events.date_reading`'s twenty patterns cost
milliseconds at every start, and one `timeline add` uses two or three of them (issue 16's
row "one `add`"). A `Lazy` pattern compiles itself the first time one of its methods runs.
"""

from __future__ import annotations

import re

__all__ = ["Lazy"]


class Lazy:
    """`re.compile(pattern, flags)`, made on first use; the methods the domain calls."""

    __slots__ = ("_compiled", "_flags", "_pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._pattern = pattern
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self._pattern, self._flags)
        return self._compiled

    def match(self, string: str) -> re.Match[str] | None:
        return self.compiled.match(string)

    def fullmatch(self, string: str) -> re.Match[str] | None:
        return self.compiled.fullmatch(string)

    def search(self, string: str) -> re.Match[str] | None:
        return self.compiled.search(string)

    def split(self, string: str) -> list[str]:
        return self.compiled.split(string)

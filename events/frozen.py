"""Small frozen values written out, for the few that every start of the CLI makes.

`@dataclass(frozen=True)` writes the source of six methods and compiles it (`exec`) each
time a class is made: about 4M instructions a class, at every start, where one
`timeline add` makes some 400M in all (issue 16). A class here names its fields and
writes its own `__init__` (compiled once, into the bytecode cache); `Frozen` gives it the
rest as the dataclass would: the same `repr`, equality and hash over the compared fields,
`__match_args__`, and `dataclasses.FrozenInstanceError` on assigning or deleting.
`tests/unit/test_frozen_values.py` holds each to the dataclass it replaces.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from typing import Any, ClassVar

__all__ = ["Frozen"]


class Frozen:
    """Base of a frozen value: `_fields` in order, `_shown` in its repr and `_compared` in
    its equality and hash (both all of `_fields` unless a class says otherwise), and
    `__match_args__` (`_fields` unless the class names the ones its `__init__` takes)."""

    _fields: ClassVar[tuple[str, ...]] = ()
    _shown: ClassVar[tuple[str, ...]]
    _compared: ClassVar[tuple[str, ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields = cls.__dict__.get("_fields", cls._fields)
        if "_shown" not in cls.__dict__:
            cls._shown = fields
        if "_compared" not in cls.__dict__:
            cls._compared = fields
        if "__match_args__" not in cls.__dict__:  # the fields its __init__ takes
            cls.__match_args__ = fields  # type: ignore[attr-defined,misc]

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._shown)
        return f"{type(self).__qualname__}({shown})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._key() == other._key()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())

    def _assign(self, *values: Any) -> None:
        """Each of `_fields` given its value, in order (for an `__init__` of many fields)."""
        for name, value in zip(self._fields, values, strict=True):
            object.__setattr__(self, name, value)

    def _key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._compared)

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

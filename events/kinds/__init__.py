"""The four kinds of development and their own typed fields, one module each."""

from __future__ import annotations

from events.errors import InvalidInput
from events.kinds import agreement, pledge, statement, visit
from events.kinds.base import COMMON_FIELDS, Kind

__all__ = ["KINDS", "COMMON_FIELDS", "Kind", "get_kind"]

KINDS: dict[str, Kind] = {k.name: k for k in (visit.KIND, pledge.KIND, statement.KIND, agreement.KIND)}


def get_kind(name: object) -> Kind:
    try:
        return KINDS[name]  # type: ignore[index]
    except (KeyError, TypeError):
        raise InvalidInput(f"unknown kind {name!r} (expected one of {', '.join(KINDS)})", "kind") from None

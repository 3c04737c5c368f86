"""`stored_leaf`'s quick path for rows as the SQLite recorder writes them gives what the
checked path gives, for every row it takes and for every row it must hand on."""

from __future__ import annotations

from uuid import UUID

import pytest

from timeline.proof.leaf import _checked_leaf, leaf_data, stored_leaf

OID = UUID("0123456789abcdef0123456789abcdef")
TOPIC = "events.development:Development.Reported"


def test_a_sound_row_is_its_leaf() -> None:
    for oid in (OID.hex, OID):
        assert stored_leaf(7, oid, 1, TOPIC, b"{}") == leaf_data(7, OID, 1, TOPIC, b"{}")


@pytest.mark.parametrize(
    "row",
    [
        (7, OID.hex.upper(), 1, TOPIC, b"{}"),  # a UUID, not as the recorder writes it
        (7, str(OID), 1, TOPIC, b"{}"),  # with hyphens
        (7, "{" + OID.hex + "}", 1, TOPIC, b"{}"),
        (7, OID.hex[:30] + " " + OID.hex[30], 1, TOPIC, b"{}"),  # fromhex skips spaces
        (7, OID.hex[:31], 1, TOPIC, b"{}"),
        (7, OID.hex + "00", 1, TOPIC, b"{}"),
        (7, "zz" * 16, 1, TOPIC, b"{}"),
        (7, OID.bytes, 1, TOPIC, b"{}"),
        (7, OID.hex, True, TOPIC, b"{}"),
        (7, OID.hex, -1, TOPIC, b"{}"),
        (7, OID.hex, 1 << 64, TOPIC, b"{}"),
        (7, OID.hex, "1", TOPIC, b"{}"),
        (7, OID.hex, 1, b"topic", b"{}"),
        (7, OID.hex, 1, "\ud800", b"{}"),  # not valid text
        (7, OID.hex, 1, TOPIC, "{}"),
        (7, OID.hex, 1, TOPIC, memoryview(b"{}")),
        (7, OID.hex, 1, TOPIC, None),
        (0, OID.hex, 1, TOPIC, b"{}"),
        (1 << 64, OID.hex, 1, TOPIC, b"{}"),
    ],
)
def test_the_quick_path_agrees_with_the_checked_one(row: tuple[int, object, object, object, object]) -> None:
    assert stored_leaf(*row) == _checked_leaf(*row)

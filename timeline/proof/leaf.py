"""A stored event as the bytes of its Merkle tree leaf: every stored field, encoded once.

    position (8 bytes, big-endian) || version (8) || originator id (16, the UUID's bytes)
    || len(topic) (4) || topic (UTF-8) || len(state) (8) || state

Fixed widths and length prefixes, so no two different rows encode alike. The leaf hash is
RFC 9162's SHA-256(0x00 || data) (`timeline.proof.merkle.leaf_hash`).

`stored_leaf` reads a row as the database returns it, whatever was written there behind
the recorder's back (on SQLite any column can hold any type): it returns the leaf data, or
why the row cannot be an event the recorder stored.
"""

from __future__ import annotations

import struct
from uuid import UUID

_U64 = 1 << 64
_HEAD = struct.Struct(">QQ16sI").pack
_LENGTH = struct.Struct(">Q").pack


def leaf_data(position: int, originator_id: UUID, version: int, topic: str, state: bytes) -> bytes:
    return _packed(position, originator_id.bytes, version, topic, state)


def _packed(position: int, oid: bytes, version: int, topic: str, state: bytes) -> bytes:
    t = topic.encode()
    return b"".join((_HEAD(position, version, oid, len(t)), t, _LENGTH(len(state)), state))


def stored_leaf(position: int, originator_id: object, version: object, topic: object, state: object) -> bytes | str:
    """The leaf data of a stored row, or the reason it is not what the recorder writes."""
    if type(originator_id) is str and type(version) is int and type(topic) is str and type(state) is bytes:
        # A row as the SQLite recorder writes it, the one a check reads nearly always: its
        # id's bytes from the hex directly (a UUID object cost more than the rest of the
        # leaf). Anything else, or anything out of range, goes the long way, which names it.
        try:
            oid = bytes.fromhex(originator_id)
        except ValueError:
            oid = b""
        # 32 lowercase hex digits and nothing else, as `UUID.hex` writes them.
        if oid.hex() == originator_id and len(oid) == 16 and 0 <= version < _U64 and 0 < position < _U64:
            try:
                return _packed(position, oid, version, topic, state)
            except UnicodeEncodeError:
                return "its topic is not valid text"
    return _checked_leaf(position, originator_id, version, topic, state)


def _checked_leaf(position: int, originator_id: object, version: object, topic: object, state: object) -> bytes | str:
    if isinstance(originator_id, str):
        # SQLite: the recorder writes the UUID's 32 lowercase hex digits.
        try:
            oid = UUID(hex=originator_id)
        except ValueError:
            return f"its originator id {originator_id[:40]!r} is not a UUID"
        if oid.hex != originator_id:
            return f"its originator id {originator_id[:40]!r} is not written as the recorder writes it"
    elif isinstance(originator_id, UUID):
        oid = originator_id
    else:
        return f"its originator id is stored as {_kind(originator_id)}, not as a UUID"
    if type(version) is not int:
        return f"its version is stored as {_kind(version)}, not as a whole number"
    if not 0 <= version < _U64:
        return f"its version {version} is out of range"
    if not isinstance(topic, str):
        return f"its topic is stored as {_kind(topic)}, not as text"
    if isinstance(state, memoryview):
        state = bytes(state)
    if not isinstance(state, bytes):
        return f"its state is stored as {_kind(state)}, not as bytes"
    if not 0 < position < _U64:
        return f"its position #{position} is not a log position"
    try:
        return leaf_data(position, oid, version, topic, state)
    except UnicodeEncodeError:
        return "its topic is not valid text"


def _kind(value: object) -> str:
    if value is None:
        return "NULL"
    return {str: "text", bytes: "bytes", int: "a number", float: "a number"}.get(type(value), type(value).__name__)

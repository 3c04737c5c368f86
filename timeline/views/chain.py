"""The hash chain over the stored log: each link covers every stored field of one event.

link(n) = SHA-256(link(n-1) || position || originator id || version || topic || state),
with fixed-width integers and length prefixes so that no two different rows can encode
alike. The genesis link is 32 zero bytes. Publishing the head (position and hash) lets
anyone who kept an older head check later that history was only ever appended to.
"""

from __future__ import annotations

import hashlib
import struct
from uuid import UUID

GENESIS = bytes(32)


def link(previous: bytes, position: int, originator_id: UUID | str, version: int, topic: str, state: bytes) -> bytes:
    oid = originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))
    t = topic.encode()
    h = hashlib.sha256(previous)
    h.update(struct.pack(">QQ", position, version))
    h.update(oid.bytes)
    h.update(struct.pack(">I", len(t)))
    h.update(t)
    h.update(struct.pack(">Q", len(state)))
    h.update(state)
    return h.digest()


def format_head(position: int, digest: bytes | str) -> str:
    """'#12:9f86d0...': the form in which a head is published and checked."""
    hexdigest = digest.hex() if isinstance(digest, bytes) else digest
    return f"#{position}:{hexdigest}"

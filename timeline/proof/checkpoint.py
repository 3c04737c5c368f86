"""C2SP tlog-checkpoints (https://c2sp.org/tlog-checkpoint): the log's tree head as a note.

    news-timeline.example/timeline      origin: who keeps the log (the key's name)
    36                                  tree size: events in the log
    X7bLk2...=                          root: base64 of the RFC 9162 Merkle tree hash
                                        blank line, then the signature line(s)
    — news-timeline.example/timeline AbCd...=

Signed when a signing key is configured (`timeline.proof.keys`); without one the file is
the three text lines alone, which `read` accepts only when no key is asked for.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from timeline.proof import note
from timeline.proof.merkle import HASH_SIZE
from timeline.proof.note import NoteError, Signer, Verifier

MAX_BYTES = 64 * 1024  # far above one checkpoint with 100 signatures
_SIZE = re.compile(r"0|[1-9][0-9]*")


class CheckpointError(NoteError):
    """A checkpoint that cannot be read, or whose signature does not verify."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode(), *self.extensions]
        return "".join(line + "\n" for line in lines)

    def encode(self, signer: Signer | None) -> bytes:
        """The signed note, or (no signer) the bare text."""
        return note.sign(self.text(), signer) if signer else self.text().encode()

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
            raise CheckpointError(
                "a checkpoint is an origin line, a tree size line and a base64 root line (then optional extension lines)"
            )
        origin, size, root = lines[0], lines[1], lines[2]
        if not _SIZE.fullmatch(size):
            raise CheckpointError(
                f"the checkpoint's tree size {size[:40]!r} is not a whole number without leading zeros"
            )
        try:
            digest = base64.b64decode(root, validate=True)
        except (binascii.Error, ValueError):
            raise CheckpointError(f"the checkpoint's root {root[:60]!r} is not base64") from None
        if len(digest) != HASH_SIZE:
            raise CheckpointError(f"the checkpoint's root is {len(digest)} bytes, not a {HASH_SIZE}-byte SHA-256 hash")
        return cls(origin, int(size), digest, tuple(lines[3:-1]))


@dataclass(frozen=True)
class Read:
    checkpoint: Checkpoint
    signed_by: Verifier | None  # the key whose signature was verified, None for a bare one
    data: bytes


def read(data: bytes, verifier: Verifier | None = None) -> Read:
    """A checkpoint from a file or a server. With a verifier, its signature must be there and
    verify. Without one, a signed checkpoint's signatures are parsed but not verified. (The
    origin SHOULD be the key's name, C2SP says; not required, so other logs' checkpoints read.)"""
    if len(data) > MAX_BYTES:
        raise CheckpointError(f"a checkpoint is at most {MAX_BYTES} bytes; this is {len(data)}")
    signed = b"\n\n" in data
    if verifier is not None:
        if not signed:
            raise CheckpointError(f"the checkpoint is not signed; a signature by {verifier.name} was expected")
        text = note.open_note(data, verifier).text
    elif signed:
        text = note.parse(data).text
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise CheckpointError("a checkpoint must be UTF-8") from None
        note.check_text(text)
    return Read(Checkpoint.from_text(text), verifier, data)

"""Inclusion and consistency proofs as JSON, and their check against checkpoints.

Both kinds are one JSON object; hashes are base64 (or hex, as `encoding` says), and every
field is required (`development` may be null). Reading is strict: an unknown field, a
missing one, a number that is not a whole number or a hash that is not 32 bytes is refused
with one line, never ignored.

Inclusion (`timeline prove ID|#N [--at SIZE]`): these events are in the log of `tree_size`
events whose root is `root`.

    proof        "inclusion"
    algorithm    "rfc9162-sha256": RFC 9162 section 2.1 with SHA-256
    encoding     "base64" or "hex": how every hash and `leaf` below is written
    origin       the log's origin (its checkpoints' first line)
    tree_size    events in the log the proof is against
    root         that log's Merkle tree hash: a checkpoint of that size has the same root
    development  the development's id, or null for `prove #N`
    leaves       one object per event, in log order:
      position     its log position (#N)
      index        its leaf index in the tree, from 0 (position - 1 unless the log skipped one)
      version      the development's version this event made
      event        the stored event's topic (its type)
      leaf         the leaf's bytes: position, version, originator id, topic and stored
                   state, length-prefixed (`timeline.proof.leaf`); hashing it as
                   SHA-256(0x00 || leaf) must give `leaf_hash`
      leaf_hash    RFC 9162 leaf hash
      path         the audit path, leaf to root (RFC 9162 section 2.1.3.1): at most
                   ceil(log2(tree_size)) hashes

Consistency (`timeline prove --from SIZE [--to SIZE]`): the log of `old_size` events is a
prefix of the log of `new_size` events.

    proof, algorithm, encoding, origin   as above
    old_size, old_root    the older log's size and root
    new_size, new_root    the newer log's size and root
    path                  the consistency path (RFC 9162 section 2.1.4.1): at most
                          2 * ceil(log2(new_size)) hashes
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from timeline.errors import TimelineError
from timeline.proof import merkle
from timeline.proof.checkpoint import Checkpoint
from timeline.proof.merkle import HASH_SIZE, ProofError

ALGORITHM = "rfc9162-sha256"
ENCODINGS = ("base64", "hex")
MAX_BYTES = 16 * 2**20
MAX_PATH = 128  # hashes: a tree of 2**64 leaves needs at most 64 (inclusion) or 128


class ProofFormatError(TimelineError):
    """A proof file that is not a proof in this format."""


@dataclass(frozen=True)
class Leaf:
    position: int
    index: int
    version: int
    event: str
    leaf: bytes
    leaf_hash: bytes
    path: tuple[bytes, ...]


@dataclass(frozen=True)
class Inclusion:
    origin: str
    tree_size: int
    root: bytes
    development: str | None
    leaves: tuple[Leaf, ...]


@dataclass(frozen=True)
class Consistency:
    origin: str
    old_size: int
    old_root: bytes
    new_size: int
    new_root: bytes
    path: tuple[bytes, ...]


Proof = Inclusion | Consistency


def _enc(encoding: str) -> Callable[[bytes], str]:
    return (lambda b: base64.b64encode(b).decode()) if encoding == "base64" else (lambda b: b.hex())


def to_json(proof: Proof, encoding: str = "base64") -> dict[str, Any]:
    e = _enc(encoding)
    head = {"algorithm": ALGORITHM, "encoding": encoding, "origin": proof.origin}
    if isinstance(proof, Consistency):
        return {
            "proof": "consistency", **head,
            "old_size": proof.old_size, "old_root": e(proof.old_root),
            "new_size": proof.new_size, "new_root": e(proof.new_root),
            "path": [e(h) for h in proof.path],
        }  # fmt: skip
    leaves = [
        {"position": lf.position, "index": lf.index, "version": lf.version, "event": lf.event,
         "leaf": e(lf.leaf), "leaf_hash": e(lf.leaf_hash), "path": [e(h) for h in lf.path]}
        for lf in proof.leaves
    ]  # fmt: skip
    return {"proof": "inclusion", **head, "tree_size": proof.tree_size, "root": e(proof.root),
            "development": proof.development, "leaves": leaves}  # fmt: skip


# --- reading -----------------------------------------------------------------------------

_INCLUSION = {"proof", "algorithm", "encoding", "origin", "tree_size", "root", "development", "leaves"}
_CONSISTENCY = {"proof", "algorithm", "encoding", "origin", "old_size", "old_root", "new_size", "new_root", "path"}
_LEAF = {"position", "index", "version", "event", "leaf", "leaf_hash", "path"}


def _fields(obj: object, expected: set[str], what: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise ProofFormatError(f"{what} must be a JSON object")
    missing, unknown = expected - obj.keys(), obj.keys() - expected
    if missing:
        raise ProofFormatError(f"{what} lacks the field(s) {', '.join(sorted(missing))}")
    if unknown:
        raise ProofFormatError(f"{what} has unknown field(s) {', '.join(sorted(unknown))}")
    return obj


def _int(obj: dict[str, Any], key: str, what: str, least: int = 0) -> int:
    value = obj[key]
    if type(value) is not int or value < least or value >= 2**63:
        raise ProofFormatError(f"{what}'s {key} must be a whole number from {least}")
    return value


def _text(obj: dict[str, Any], key: str, what: str) -> str:
    value = obj[key]
    if not isinstance(value, str) or not value:
        raise ProofFormatError(f"{what}'s {key} must be a non-empty string")
    return value


class _Decoder:
    def __init__(self, encoding: object) -> None:
        if encoding not in ENCODINGS:
            raise ProofFormatError(f"the proof's encoding must be one of {', '.join(ENCODINGS)}")
        self.encoding = encoding

    def raw(self, value: object, what: str) -> bytes:
        if not isinstance(value, str):
            raise ProofFormatError(f"{what} must be a {self.encoding} string")
        try:
            return base64.b64decode(value, validate=True) if self.encoding == "base64" else bytes.fromhex(value)
        except (binascii.Error, ValueError):
            raise ProofFormatError(f"{what} is not {self.encoding}") from None

    def hash(self, value: object, what: str) -> bytes:
        digest = self.raw(value, what)
        if len(digest) != HASH_SIZE:
            raise ProofFormatError(f"{what} is {len(digest)} bytes, not a {HASH_SIZE}-byte SHA-256 hash")
        return digest

    def path(self, value: object, what: str) -> tuple[bytes, ...]:
        if not isinstance(value, list) or len(value) > MAX_PATH:
            raise ProofFormatError(f"{what} must be a list of at most {MAX_PATH} hashes")
        return tuple(self.hash(h, f"{what}[{i}]") for i, h in enumerate(value))


def parse(data: bytes) -> Proof:
    """A proof from a file's bytes, read strictly."""
    if len(data) > MAX_BYTES:
        raise ProofFormatError(f"a proof is at most {MAX_BYTES} bytes; this is {len(data)}")
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ProofFormatError(f"the proof is not JSON ({str(e).splitlines()[0]})") from None
    except RecursionError:
        raise ProofFormatError("the proof is not JSON this reader takes (nested too deeply)") from None
    kind = obj.get("proof") if isinstance(obj, dict) else None
    if kind not in ("inclusion", "consistency"):
        raise ProofFormatError('a proof is a JSON object whose "proof" is "inclusion" or "consistency"')
    obj = _fields(obj, _INCLUSION if kind == "inclusion" else _CONSISTENCY, "the proof")
    if obj["algorithm"] != ALGORITHM:
        raise ProofFormatError(f'the proof\'s algorithm must be "{ALGORITHM}"')
    d = _Decoder(obj["encoding"])
    origin = _text(obj, "origin", "the proof")
    if kind == "consistency":
        return Consistency(
            origin,
            _int(obj, "old_size", "the proof", 1), d.hash(obj["old_root"], "old_root"),
            _int(obj, "new_size", "the proof", 1), d.hash(obj["new_root"], "new_root"),
            d.path(obj["path"], "path"),
        )  # fmt: skip
    dev = obj["development"]
    if dev is not None and (not isinstance(dev, str) or not dev):
        raise ProofFormatError("the proof's development must be an id or null")
    raw = obj["leaves"]
    if not isinstance(raw, list) or not raw:
        raise ProofFormatError("the proof's leaves must be a non-empty list")
    leaves = []
    for i, item in enumerate(raw):
        what = f"leaves[{i}]"
        lf = _fields(item, _LEAF, what)
        leaves.append(
            Leaf(
                _int(lf, "position", what, 1), _int(lf, "index", what), _int(lf, "version", what),
                _text(lf, "event", what), d.raw(lf["leaf"], f"{what}.leaf"),
                d.hash(lf["leaf_hash"], f"{what}.leaf_hash"), d.path(lf["path"], f"{what}.path"),
            )
        )  # fmt: skip
    return Inclusion(origin, _int(obj, "tree_size", "the proof", 1), d.hash(obj["root"], "root"), dev, tuple(leaves))


# --- checking ----------------------------------------------------------------------------


def _against(cp: Checkpoint, origin: str, size: int, root: bytes) -> None:
    if cp.origin != origin:
        raise ProofError(f"the checkpoint is of the log {cp.origin!r}, the proof of {origin!r}")
    if cp.root != root:
        raise ProofError(f"the proof's root for size {size} is not the checkpoint's: the log was rewritten or forked")


def check(proof: Proof, checkpoints: Sequence[Checkpoint] = ()) -> str:
    """Verify the proof, and that its roots are those of the given checkpoints (each must
    be of a size the proof names). Returns what was shown; raises ProofError."""
    if isinstance(proof, Consistency):
        sizes = {proof.old_size: proof.old_root, proof.new_size: proof.new_root}
        origin = proof.origin
    else:
        sizes, origin = {proof.tree_size: proof.root}, proof.origin
    for cp in checkpoints:
        if cp.size not in sizes:
            named = " and ".join(str(s) for s in sizes)
            raise ProofError(f"a checkpoint of size {cp.size} cannot check a proof about size {named}")
        _against(cp, origin, cp.size, sizes[cp.size])
    if isinstance(proof, Consistency):
        merkle.verify_consistency(proof.old_size, proof.new_size, proof.old_root, proof.new_root, proof.path)
        shown = f"the log of {proof.old_size} events is a prefix of the log of {proof.new_size} events"
    else:
        for lf in proof.leaves:
            if merkle.leaf_hash(lf.leaf) != lf.leaf_hash:
                raise ProofError(f"the leaf bytes of #{lf.position} do not hash to its leaf_hash")
            if len(lf.leaf) < 32 or struct.unpack(">QQ", lf.leaf[:16]) != (lf.position, lf.version):
                raise ProofError(f"the leaf bytes of #{lf.position} hold another position or version")
            if proof.development and str(UUID(bytes=lf.leaf[16:32])) != proof.development:
                raise ProofError(f"the leaf bytes of #{lf.position} are of another development")
            try:
                merkle.verify_inclusion(lf.index, proof.tree_size, lf.leaf_hash, lf.path, proof.root)
            except ProofError as e:
                raise ProofError(f"#{lf.position}: {e}") from None
        one = len(proof.leaves) == 1
        events = ", ".join(f"#{lf.position}" for lf in proof.leaves)
        of = f" of development {proof.development}" if proof.development else ""
        shown = f"{'event' if one else 'events'} {events}{of} {'is' if one else 'are'} in the log of {proof.tree_size} events"
    anchored = " and ".join(f"checkpoint {cp.size}" for cp in checkpoints)
    return shown + (
        f", whose root matches {anchored}"
        if checkpoints
        else " (against the roots the proof names: give --checkpoint to tie them to a published checkpoint)"
    )

"""RFC 9162 section 2.1 Merkle tree hashing and the checks of its two proofs.

MTH({}) = SHA-256(), MTH({d0}) = SHA-256(0x00 || d0), and for n > 1 with k the largest power
of two smaller than n: MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])).

`verify_inclusion` and `verify_consistency` are the verification algorithms of sections
2.1.3.2 and 2.1.4.2, step by step; they need nothing but the proof and the roots, so any
subscriber can run them without the database. `inclusion_path`, `consistency_path` and
`root_of` follow the definitions (sections 2.1.3.1, 2.1.4.1) over a list of leaf hashes:
they are the reference the stored tree is tested against, not for large trees.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from timeline.errors import TimelineError

EMPTY_ROOT = hashlib.sha256(b"").digest()
HASH_SIZE = 32


class ProofError(TimelineError):
    """A proof that does not verify; the message says what did not match."""


_LEAF = hashlib.sha256(b"\x00")  # the leaves' prefix, hashed once: each leaf copies it


def leaf_hash(data: bytes) -> bytes:
    h = _LEAF.copy()
    h.update(data)  # not b"\x00" + data: no copy of the whole event
    return h.digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaves: Sequence[bytes]) -> bytes:
    """MTH over already-hashed leaves, by the definition: for tests and small trees only."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = split_point(len(leaves))
    return node_hash(root_of(leaves[:k]), root_of(leaves[k:]))


def inclusion_path(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(m, D[n]) of section 2.1.3.1, by the definition (tests, small trees)."""
    n = len(leaves)
    if n <= 1:
        return []
    k = split_point(n)
    if index < k:
        return [*inclusion_path(leaves[:k], index), root_of(leaves[k:])]
    return [*inclusion_path(leaves[k:], index - k), root_of(leaves[:k])]


def consistency_path(leaves: Sequence[bytes], m: int) -> list[bytes]:
    """PROOF(m, D[n]) of section 2.1.4.1, by the definition (tests, small trees)."""

    def subproof(m: int, d: Sequence[bytes], whole: bool) -> list[bytes]:
        n = len(d)
        if m == n:
            return [] if whole else [root_of(d)]
        k = split_point(n)
        if m <= k:
            return [*subproof(m, d[:k], whole), root_of(d[k:])]
        return [*subproof(m - k, d[k:], False), root_of(d[:k])]

    return subproof(m, leaves, True) if 0 < m < len(leaves) else []


def _check_hashes(**named: bytes) -> None:
    # Roots are only compared, never hashed on: whoever reads them checks their length.
    for name, value in named.items():
        if len(value) != HASH_SIZE:
            raise ProofError(f"{name} is {len(value)} bytes, not a {HASH_SIZE}-byte SHA-256 hash")


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes) -> None:
    """Section 2.1.3.2: the leaf hash `leaf` is at 0-based `index` in the tree of `size`
    leaves whose root is `root`. Raises ProofError when it is not shown."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not inside a tree of size {size}")
    _check_hashes(leaf_hash=leaf)
    _check_hashes(**{f"path[{i}]": p for i, p in enumerate(path)})
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ProofError(f"the inclusion path is longer than a tree of size {size} needs")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"the inclusion path is shorter than a tree of size {size} needs")
    if r != root:
        raise ProofError("the inclusion path leads to another root")


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]) -> None:
    """Section 2.1.4.2: the tree of `first` leaves (root `first_root`) is a prefix of the
    tree of `second` leaves (root `second_root`). Raises ProofError when it is not shown.

    As in the RFC (and transparency-dev/merkle), a proof from the empty tree is refused:
    it would prove nothing, since the empty tree is a prefix of every tree."""
    _check_hashes(**{f"path[{i}]": p for i, p in enumerate(path)})
    if first <= 0 or second < first:
        raise ProofError(f"no consistency proof goes from size {first} to size {second}")
    if first == second:
        if path:
            raise ProofError("a proof between equal sizes must be empty")
        if first_root != second_root:
            raise ProofError(f"two different roots for the same size {first}")
        return
    if not path:
        raise ProofError("the consistency path is empty")
    nodes = list(path)
    if first & (first - 1) == 0:  # an exact power of 2: the old root is a node of the new tree
        nodes.insert(0, first_root)
    fr, sr = _consistency_roots(first, second, nodes)
    if fr != first_root:
        raise ProofError(f"the consistency path does not lead to the root of size {first}")
    if sr != second_root:
        raise ProofError(f"the consistency path does not lead to the root of size {second}")


def _consistency_roots(first: int, second: int, nodes: Sequence[bytes]) -> tuple[bytes, bytes]:
    """Steps 4 to 7 of section 2.1.4.2: the roots of both trees that `nodes` (the path,
    with the old root in front when `first` is a power of 2) lead to."""
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            raise ProofError(f"the consistency path is longer than sizes {first} and {second} need")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"the consistency path is shorter than sizes {first} and {second} need")
    return fr, sr

"""Which subtrees a root or a proof is made of (RFC 9162 section 2.1), as leaf ranges.

Pure arithmetic on sizes: no hashes, no storage. Every range [a, b) a root or a proof of
RFC 9162 needs starts at a multiple of the largest power of two not above its length, so
it is a left-to-right run of perfect subtrees (`perfect`), each one stored node: at most
one per bit of its length. Its hash folds them from the right (MTH of the range).

A stored node is (level, index): the root of leaves [index << level, (index + 1) << level);
level 0 is a leaf.
"""

from __future__ import annotations

from timeline.proof.merkle import split_point

Node = tuple[int, int]  # (level, index)
Range = tuple[int, int]  # leaves [a, b)


def perfect(a: int, b: int) -> list[Node]:
    """The perfect subtrees covering leaves [a, b), left to right, largest first."""
    nodes: list[Node] = []
    while a < b:
        level = (b - a).bit_length() - 1
        while a & ((1 << level) - 1):
            level -= 1
        nodes.append((level, a >> level))
        a += 1 << level
    return nodes


def frontier(size: int) -> list[Node]:
    """The perfect subtrees of a tree of `size` leaves: what the next leaf combines with."""
    return perfect(0, size)


def inclusion(index: int, size: int) -> list[Range]:
    """RFC 9162 2.1.3.1 PATH(index, D[size]): the sibling ranges, from the leaf up."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    siblings: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index - lo < k:
            siblings.append((lo + k, hi))
            hi = lo + k
        else:
            siblings.append((lo, lo + k))
            lo += k
    return siblings[::-1]


def consistency(old: int, new: int) -> list[Range]:
    """RFC 9162 2.1.4.1 PROOF(old, D[new]) for 0 < old <= new (empty when old == new)."""
    if not 0 < old <= new:
        raise ValueError(f"no consistency proof from {old} leaves to {new}: need 0 < old <= new")
    siblings: list[Range] = []
    lo, hi, m, whole = 0, new, old, True
    while m != hi - lo:
        k = split_point(hi - lo)
        if m <= k:
            siblings.append((lo + k, hi))
            hi = lo + k
        else:
            siblings.append((lo, lo + k))
            m -= k
            lo += k
            whole = False
    head = [] if whole else [(lo, hi)]
    return head + siblings[::-1]


def prefix_steps(old: int, new: int) -> tuple[list[tuple[bool, Range]], Range]:
    """The path from the root of `new` leaves down to the end of its first `old` leaves.

    Each step is (inside, range): the sibling left behind, `inside` when it lies within
    the first `old` leaves (the path went right), outside when beyond them (it went left);
    the last range, where the path stops, lies within them. The two roots fold from the
    same hashes, which is what a consistency proof shows (0 < old <= new).
    """
    if not 0 < old <= new:
        raise ValueError(f"no prefix of {old} leaves in a tree of {new}: need 0 < old <= new")
    steps: list[tuple[bool, Range]] = []
    lo, hi, m = 0, new, old
    while m != hi - lo:
        k = split_point(hi - lo)
        if m <= k:
            steps.append((False, (lo + k, hi)))
            hi = lo + k
        else:
            steps.append((True, (lo, lo + k)))
            m -= k
            lo += k
    return steps, (lo, hi)

"""RFC 9162 section 2.1: the verification algorithms against transparency-dev/merkle's
test vectors, and against the RFC's own definitions for every size 1..64."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from timeline.proof import merkle
from timeline.proof.merkle import ProofError

VECTORS = json.loads((Path(__file__).parents[1] / "data" / "merkle-vectors.json").read_text())


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def _inclusion(v: dict[str, Any]) -> None:
    merkle.verify_inclusion(
        v["leafIdx"], v["treeSize"], b64(v["leafHash"]), [b64(p) for p in v["proof"] or []], b64(v["root"])
    )


def _consistency(v: dict[str, Any]) -> None:
    merkle.verify_consistency(
        v["size1"], v["size2"], b64(v["root1"]), b64(v["root2"]), [b64(p) for p in v["proof"] or []]
    )


@pytest.mark.parametrize("name", sorted(VECTORS["inclusion"]))
def test_inclusion_vectors(name: str) -> None:
    v = VECTORS["inclusion"][name]
    if v["wantErr"]:
        with pytest.raises(ProofError):
            _inclusion(v)
    else:
        _inclusion(v)


@pytest.mark.parametrize("name", sorted(VECTORS["consistency"]))
def test_consistency_vectors(name: str) -> None:
    v = VECTORS["consistency"][name]
    if v["wantErr"]:
        with pytest.raises(ProofError):
            _consistency(v)
    else:
        _consistency(v)


def test_the_vectors_hold_both_outcomes() -> None:
    for kind in ("inclusion", "consistency"):
        outcomes = {v["wantErr"] for v in VECTORS[kind].values()}
        assert outcomes == {True, False}


TREE = [merkle.leaf_hash(bytes.fromhex(h)) for h in VECTORS["tree"]["leaf_inputs_hex"]]


def test_roots_of_the_reference_tree() -> None:
    roots = [bytes.fromhex(h) for h in VECTORS["tree"]["roots_hex"]]
    assert [merkle.root_of(TREE[:n]) for n in range(len(TREE) + 1)] == roots


def test_the_definitions_give_the_vectors_happy_paths() -> None:
    """The reference paths (RFC 9162 2.1.3.1, 2.1.4.1) are byte for byte those of the
    vectors cut from the same tree."""
    checked = 0
    for v in VECTORS["inclusion"].values():
        if v["desc"] == "happy path" and v["treeSize"] <= len(TREE):
            assert merkle.inclusion_path(TREE[: v["treeSize"]], v["leafIdx"]) == [b64(p) for p in v["proof"] or []]
            checked += 1
    for v in VECTORS["consistency"].values():
        if v["desc"] == "happy path" and v["size2"] <= len(TREE):
            assert merkle.consistency_path(TREE[: v["size2"]], v["size1"]) == [b64(p) for p in v["proof"] or []]
            checked += 1
    assert checked >= 6


LEAVES = [merkle.leaf_hash(f"leaf {i}".encode()) for i in range(64)]
ROOTS = [merkle.root_of(LEAVES[:n]) for n in range(65)]


def _flip(path: list[bytes], i: int, bit: int) -> list[bytes]:
    changed = bytearray(path[i])
    changed[bit // 8] ^= 1 << (bit % 8)
    return [*path[:i], bytes(changed), *path[i + 1 :]]


def test_every_inclusion_proof_up_to_64_verifies_and_one_bit_breaks_it() -> None:
    for size in range(1, 65):
        for index in range(size):
            path = merkle.inclusion_path(LEAVES[:size], index)
            assert len(path) <= (size - 1).bit_length()
            merkle.verify_inclusion(index, size, LEAVES[index], path, ROOTS[size])
            for i in range(len(path)):
                with pytest.raises(ProofError):
                    merkle.verify_inclusion(
                        index, size, LEAVES[index], _flip(path, i, (index * 7 + i) % 256), ROOTS[size]
                    )
            with pytest.raises(ProofError):
                merkle.verify_inclusion(index, size, _flip([LEAVES[index]], 0, index % 256)[0], path, ROOTS[size])
            if size > 1:
                with pytest.raises(ProofError):
                    merkle.verify_inclusion((index + 1) % size, size, LEAVES[index], path, ROOTS[size])


def test_every_consistency_proof_up_to_64_verifies_and_one_bit_breaks_it() -> None:
    for second in range(1, 65):
        for first in range(1, second + 1):
            path = merkle.consistency_path(LEAVES[:second], first)
            assert len(path) <= 2 * (second - 1).bit_length()
            merkle.verify_consistency(first, second, ROOTS[first], ROOTS[second], path)
            for i in range(len(path)):
                with pytest.raises(ProofError):
                    merkle.verify_consistency(
                        first, second, ROOTS[first], ROOTS[second], _flip(path, i, (first + i) % 256)
                    )
            with pytest.raises(ProofError):
                merkle.verify_consistency(first, second, _flip([ROOTS[first]], 0, 3)[0], ROOTS[second], path)
            with pytest.raises(ProofError):
                merkle.verify_consistency(first, second, ROOTS[first], _flip([ROOTS[second]], 0, 5)[0], path)


def test_a_forked_log_has_no_consistency_proof() -> None:
    forked = [*LEAVES[:10], merkle.leaf_hash(b"forged"), *LEAVES[11:20]]
    path = merkle.consistency_path(forked, 12)
    with pytest.raises(ProofError, match=r"does not lead to the root of size 12"):
        merkle.verify_consistency(12, 20, ROOTS[12], merkle.root_of(forked), path)


def test_error_messages() -> None:
    with pytest.raises(ProofError, match=r"^leaf index 3 is not inside a tree of size 3$"):
        merkle.verify_inclusion(3, 3, LEAVES[0], [], ROOTS[3])
    with pytest.raises(ProofError, match=r"^no consistency proof goes from size 5 to size 4$"):
        merkle.verify_consistency(5, 4, ROOTS[5], ROOTS[4], [])
    with pytest.raises(ProofError, match=r"^path\[0\] is 3 bytes, not a 32-byte SHA-256 hash$"):
        merkle.verify_consistency(2, 4, ROOTS[2], ROOTS[4], [b"abc"])

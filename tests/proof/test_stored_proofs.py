"""The stored tree's proofs, checked by this project's own RFC 9162 verifier: every size
from 1 to 64 against every smaller size on SQLite, sizes around the powers of two on
PostgreSQL (the same code over other SQL; each proof is a round trip); one flipped bit
refused."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from eventsourcing.persistence import StoredEvent

from timeline import config
from timeline.app import Timeline
from timeline.proof import merkle
from timeline.proof.merkle import ProofError
from timeline.proof.tree import Tree


@pytest.fixture
def tree(target: str) -> Iterator[Tree]:
    """64 events in appends of several shapes."""
    app = Timeline.open(config.resolve(target))
    for batch in (1, 2, 5, 8, 16, 32):
        app.recorder.insert_events([StoredEvent(uuid.uuid4(), 1, "t", f"s{k}".encode()) for k in range(batch)])
    yield Tree(app)
    app.close()


def test_every_size_up_to_64_against_every_smaller_size(tree: Tree) -> None:
    assert tree.size() == 64
    roots = [tree.root(n) for n in range(65)]
    leaves = [tree.leaf_hash(i) for i in range(64)]
    sizes = (1, 2, 3, 5, 8, 13, 31, 32, 33, 63, 64) if tree.sql.postgres else range(1, 65)
    for new in sizes:
        for old in range(1, new + 1):
            path = tree.consistency(old, new)
            merkle.verify_consistency(old, new, roots[old], roots[new], path)
            if path:
                flipped = bytearray(path[-1])
                flipped[(old + new) % 32] ^= 0x10
                with pytest.raises(ProofError):
                    merkle.verify_consistency(old, new, roots[old], roots[new], [*path[:-1], bytes(flipped)])
        for index in range(new):
            merkle.verify_inclusion(index, new, leaves[index], tree.inclusion(index, new), roots[new])

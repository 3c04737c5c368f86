"""What the log publishes about itself: its checkpoint and its proofs, read from the stored
tree (`timeline.proof.tree`), never by rehashing the log. Shared by the CLI (`state`,
`checkpoint`, `prove`), the feeds folder and `serve`."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from timeline.errors import DevelopmentNotFound, TimelineError
from timeline.proof import keys, merkle
from timeline.proof.checkpoint import Checkpoint
from timeline.proof.note import Signer
from timeline.proof.proofs import Consistency, Inclusion, Leaf
from timeline.references import reference_id

if TYPE_CHECKING:
    from timeline.app import Timeline
    from timeline.proof.tree import Tree


class BadSize(TimelineError):
    """A size or position a proof cannot be made for."""


@dataclass(frozen=True)
class Published:
    checkpoint: Checkpoint
    data: bytes  # the checkpoint as published: a signed note, or the bare text
    signer: Signer | None

    def as_dict(self) -> dict[str, Any]:
        cp = self.checkpoint
        return {
            "origin": cp.origin,
            "size": cp.size,
            "root": base64.b64encode(cp.root).decode(),
            "signed": self.signer is not None,
            "key": str(self.signer.verifier) if self.signer else None,
            "text": self.data.decode(),
        }


def _tree(app: Timeline) -> Tree:
    from timeline.proof.tree import Tree

    return Tree(app)


def checkpoint(app: Timeline, size: int | None = None, signer: Signer | bool | None = True) -> Published:
    """The checkpoint of the log's first `size` events (all of them by default), signed by
    the configured key when there is one (pass a Signer, or None for unsigned)."""
    tree = _tree(app)
    current = tree.size()
    size = current if size is None else size
    if not 0 <= size <= current:
        raise BadSize(f"size {size} is beyond the log's {current} events")
    key = keys.signer(app) if signer is True else signer or None
    cp = Checkpoint(keys.origin(key), size, tree.root(size))
    return Published(cp, cp.encode(key), key)


def checkpoint_at(app: Timeline, position: int, signer: Signer | bool | None = True) -> Published:
    """The checkpoint of the log up to and including log position `position`."""
    return checkpoint(app, size_at(app, position), signer)


def consistency(app: Timeline, old: int, new: int | None = None, origin: str | None = None) -> Consistency:
    tree = _tree(app)
    current = tree.size()
    new = current if new is None else new
    for size in (old, new):
        if size > current:
            raise BadSize(f"size {size} is beyond the log's {current} events")
    if not 1 <= old <= new:
        raise BadSize(
            f"a consistency proof goes from a size of at least 1 to a size not below it; {old} to {new} is not"
        )
    origin = origin or keys.origin(keys.signer(app))
    return Consistency(origin, old, tree.root(old), new, tree.root(new), tuple(tree.consistency(old, new)))


def inclusion(app: Timeline, ref: str, at: int | None = None, origin: str | None = None) -> Inclusion:
    """The development `ref` (an id or a key) or the event `#N`: its events in the log of
    its first `at` events (all of them by default). The rows are read as stored, not
    decoded, so a tampered one is named, never a crash."""
    from timeline.proof.leaf import stored_leaf

    tree = _tree(app)
    current = tree.size()
    size = current if at is None else at
    if not 1 <= size <= current:
        raise BadSize(f"size {size} is not a log size from 1 to {current}")
    if ref.startswith("#"):
        rows = _rows(app, position=_position(ref))
        if not rows:
            raise BadSize(f"the log has no event {ref}")
        development = None
    else:
        dev_id = reference_id(ref)
        rows = _rows(app, development=dev_id)
        if not rows:
            raise DevelopmentNotFound(ref)
        development = str(dev_id)
    leaves = []
    for position, oid, version, topic, state in rows:
        data = stored_leaf(position, oid, version, topic, state)
        if isinstance(data, str):
            raise TimelineError(f"the stored event #{position} cannot be proved: {data}; run `timeline verify`")
        index = tree.index_of(position)
        if index is None:
            raise TimelineError(f"the stored event #{position} has no leaf in the log's tree: run `timeline verify`")
        if index >= size:
            continue
        stored = tree.leaf_hash(index)
        if merkle.leaf_hash(data) != stored:
            raise TimelineError(
                f"the stored event #{position} does not match its leaf in the tree: run `timeline verify`"
            )
        leaves.append(Leaf(position, index, version, topic, data, stored, tuple(tree.inclusion(index, size))))
    if not leaves:
        what = f"event {ref}" if development is None else f"development {ref!r}"
        raise BadSize(f"{what} is not in the log's first {size} events")
    origin = origin or keys.origin(keys.signer(app))
    return Inclusion(origin, size, tree.root(size), development, tuple(leaves))


def _rows(app: Timeline, position: int | None = None, development: UUID | None = None) -> list[tuple[Any, ...]]:
    """The stored rows (position, originator id, version, topic, state) of one position or
    one development, in log order, as the database holds them."""
    from timeline.proof.tree import TreeSql

    store = TreeSql.for_recorder(app.recorder)
    sql, col = store.sql, store.position_column
    select = f"SELECT {col} AS position, originator_id, originator_version, topic, state FROM {store.events}"
    params: list[Any]
    if position is not None:
        statement, params = f"{select} WHERE {col} = ?", [position]
    else:
        assert development is not None
        statement = f"{select} WHERE originator_id = ? ORDER BY {col}"
        params = [development if sql.postgres else development.hex]
    with sql.transaction(commit=False) as c:
        found = sql.rows(c, statement, params)
    return [(int(r["position"]), r["originator_id"], r["originator_version"], r["topic"], r["state"]) for r in found]


def size_at(app: Timeline, position: int) -> int:
    """How many events the log holds up to and including log position `position`."""
    head = _tree(app).head(position)
    return head.size if head else 0


def _position(text: str) -> int:
    value = text[1:]
    if not value.isdigit() or int(value) < 1:
        raise BadSize(f"{text!r} is not a log position #N (N from 1)")
    return int(value)

"""Proof that the stored log was not altered: `verify [--expect-head '#N:HEX']`.

The views keep a hash chain over the log (`timeline.views.chain`), one link per stored
event, written when the event is first applied. `verify` first catches the views up, so
the chain covers the whole log, then reads the raw stored rows (every stored field:
position, originator id, version, topic, state) in pages, recomputes the chain and walks it
beside the stored links. The first position where they part is reported:

- altered:  a row is at that position but its link differs (edited, replaced or moved);
- deleted:  the chain has a link there but the log has no row;
- inserted: the log has a row there that the chain never linked.

A head published earlier (`#N:HEX`, as `state` and the feeds show it) checks that history
was only appended to since: the chain must still have that hash at N.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from timeline.errors import TimelineError
from timeline.views import chain

PAGE = 1000
_HEAD = re.compile(r"#(\d+):([0-9a-fA-F]{64})")


class LogAltered(TimelineError):
    """The stored log does not match its hash chain."""


class BadHead(TimelineError):
    """An --expect-head that is not `#N:HEX`."""


@dataclass(frozen=True)
class Problem:
    position: int
    kind: str  # "altered", "deleted", "inserted", "rewritten"
    message: str


@dataclass(frozen=True)
class Verdict:
    checked: int
    head: dict[str, Any] | None
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "head": self.head,
                "problem": asdict(self.problem) if self.problem else None}  # fmt: skip


def parse_head(text: str) -> tuple[int, str]:
    m = _HEAD.fullmatch(text.strip())
    if not m:
        raise BadHead(f"{text!r} is not a head '#N:HEX' (N a position, HEX 64 hex digits)")
    return int(m.group(1)), m.group(2).lower()


def verify(app: Any, expect_head: str | None = None) -> Verdict:
    from timeline.views.runner import Views

    expected = parse_head(expect_head) if expect_head else None
    views = Views(app)
    views.catch_up()
    links = _Peek(_links(views.sql))
    rows = _Peek(_rows(app.recorder))
    previous = chain.GENESIS
    checked = 0
    head = None
    for position, stored in links:
        row = rows.peek()
        if row is not None and row.id < position:
            return Verdict(
                checked,
                head,
                Problem(row.id, "inserted", f"#{row.id} was inserted: the chain never linked it"),
            )
        if row is None or row.id > position:
            return Verdict(
                checked, head, Problem(position, "deleted", f"#{position} was deleted from the log")
            )
        next(rows)
        link = _link(previous, position, row)
        if link.hex() != stored:
            return Verdict(
                checked, head, _explain(previous, position, stored, row, links.peek(), rows.peek())
            )
        previous = link
        if expected and position == expected[0] and stored != expected[1]:
            return Verdict(
                checked, head,
                Problem(position, "rewritten", f"the chain at #{position} is {stored}, not {expected[1]}: history was rewritten"),
            )  # fmt: skip
        checked += 1
        head = {"position": position, "hash": stored}
    if expected and (head is None or head["position"] < expected[0]):
        last = head["position"] if head else 0
        return Verdict(
            checked,
            head,
            Problem(
                expected[0], "deleted", f"the log ends at #{last}, before the expected head #{expected[0]}"
            ),
        )
    if expected and not _has_link(views.sql, expected[0]):
        return Verdict(
            checked,
            head,
            Problem(
                expected[0], "deleted", f"the chain has no link at #{expected[0]}: history was rewritten"
            ),
        )
    return Verdict(checked, head, None)


def _link(previous: bytes, position: int, row: Any) -> bytes:
    """The link a row's stored fields would make at `position`."""
    return chain.link(previous, position, row.originator_id, row.originator_version, row.topic, row.state)


def _explain(previous: bytes, position: int, stored: str, row: Any, next_link: Any, next_row: Any) -> Problem:
    """Name what happened at the first bad link, looking one row and one link ahead: a row
    moved up one (swapped), a row put in before the rest (inserted), a row taken out with the
    rest moved down (deleted), or else a row changed in place (altered)."""
    ahead = next_link is not None and next_row is not None and next_row.id == next_link[0]
    if ahead and _link(previous, position, next_row).hex() == stored:
        if _link(bytes.fromhex(stored), next_link[0], row).hex() == next_link[1]:
            return Problem(
                position, "moved", f"#{position} was moved: it swapped places with #{next_link[0]}"
            )
        return Problem(
            position, "inserted", f"#{position} was inserted: the event chained there now follows it"
        )
    if next_link is not None and _link(bytes.fromhex(stored), next_link[0], row).hex() == next_link[1]:
        return Problem(position, "deleted", f"#{position} was deleted and later events moved down")
    return Problem(
        position, "altered", f"#{position} was altered: the stored event differs from the one chained"
    )


class _Peek:
    """An iterator that can look one item ahead."""

    _EMPTY = object()
    _END = object()

    def __init__(self, items: Iterator[Any]) -> None:
        self._items = items
        self._next: Any = self._EMPTY

    def __iter__(self) -> _Peek:
        return self

    def __next__(self) -> Any:
        item, self._next = self._next, self._EMPTY
        if item is self._END:
            raise StopIteration
        return next(self._items) if item is self._EMPTY else item

    def peek(self) -> Any:
        if self._next is self._EMPTY:
            self._next = next(self._items, self._END)
        return None if self._next is self._END else self._next


def _links(sql: Any) -> Iterator[tuple[int, str]]:
    after = -1
    while True:
        with sql.transaction(commit=False) as c:
            page = sql.rows(
                c,
                "SELECT position, hash FROM timeline_chain WHERE position > ? ORDER BY position LIMIT ?",
                [after, PAGE],
            )
        for r in page:
            yield int(r["position"]), r["hash"]
        if len(page) < PAGE:
            return
        after = int(page[-1]["position"])


def _rows(recorder: Any) -> Iterator[Any]:
    start = 1
    while True:
        batch = recorder.select_notifications(start, PAGE)
        yield from batch
        if len(batch) < PAGE:
            return
        start = batch[-1].id + 1


def _has_link(sql: Any, position: int) -> bool:
    with sql.transaction(commit=False) as c:
        return bool(sql.scalar(c, "SELECT COUNT(*) FROM timeline_chain WHERE position = ?", [position]) == 1)

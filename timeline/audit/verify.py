"""Proof that the stored log was only appended to: `verify [--full] [--expect-head '#N:HEX']`.

Every stored row is read as the database holds it (`timeline.proof.rows`) and its leaf
(`timeline.proof.leaf`) compared with the leaf the append stored in the log's Merkle
tree (`timeline.proof.tree`); every stored node is recomputed from the stored leaves.
Nothing is extended or rewritten: a row without its leaf stays unchained. Each problem is
a position and a reason:

- unchained: a row no append wrote (its position has no leaf);
- deleted:   a leaf whose row is gone (or, with the rows after it moved down one place);
- altered:   a row that differs from its leaf (bytes edited, a value stored as text...);
- moved:     a row that holds the event the tree has at another position (a swap);
- inserted:  a row put in with the rows after it moved up one place;
- rewritten: the tree no longer has a root verified before, or an expected one;
- tree:      the tree's own rows do not agree (a leaf or node missing or changed).

Incremental by default: a check that finds the log sound keeps its tree size and root in
the database (`timeline_tree_verified`, never replaced); every later check first checks
that the tree still has the last root kept (from O(log n) stored nodes), then an
incremental one reads only the rows and leaves after it, and counts the rows before it.
`full=True` re-reads everything. `expect=(size, root)`, a
checkpoint kept earlier (as `state`, the feeds or a signed checkpoint publish it), must be
a prefix of the stored tree: the two roots are folded from one set of stored hashes, as a
consistency proof would show, so a forged row with a forged leaf is caught too.

The whole check reads one snapshot of the database (SQLite's read transaction, PostgreSQL's
REPEATABLE READ), so an append that commits meanwhile is simply not seen.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import PersistenceError

from timeline.errors import BadValue, TimelineError
from timeline.proof import merkle, ranges
from timeline.proof.leaf import stored_leaf
from timeline.proof.rows import Row, count_rows, iter_rows
from timeline.proof.tree import Head, TreeError, TreeSql, extend
from timeline.store import Cursor, in_parts

if TYPE_CHECKING:
    from timeline.app import Timeline

PAGE = 5000
MAX_PROBLEMS = 1000
# Mismatched rows are tried against each other's leaves (to name swaps) up to this many.
MAX_PAIRS = 200
_HEAD = re.compile(r"#(\d+):([0-9a-fA-F]{64})")


class LogAltered(TimelineError):
    """The stored log does not match its tree."""


class BadHead(BadValue):
    """An --expect-head that is not `#N:HEX`: a usage error, like every unreadable value."""


@dataclass(frozen=True)
class Problem:
    position: int
    kind: str
    message: str


@dataclass(frozen=True)
class Verdict:
    full: bool  # every row read, not only those after a checkpoint verified before
    checked: int  # rows read by this check
    verified: int  # tree size verified before and trusted by this check (0 when full)
    head: dict[str, Any] | None  # the tree now: size, last position, root
    problems: list[Problem] = field(default_factory=list)
    more: int = 0  # problems beyond MAX_PROBLEMS, counted but not kept

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def failure(self) -> LogAltered | None:
        """The one line a failed check ends with: the first problem, and how many more."""
        if self.problem is None:
            return None
        others = len(self.problems) - 1 + self.more
        more = f" (and {others} more: `timeline verify --json` lists them)" if others else ""
        return LogAltered(self.problem.message + more)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "full": self.full,
            "checked": self.checked,
            "verified_before": self.verified,
            "head": self.head,
            "problem": asdict(self.problem) if self.problem else None,
            "problems": [asdict(p) for p in self.problems],
            "more_problems": self.more,
        }


def parse_head(text: str) -> tuple[int, bytes]:
    """`#N:HEX`: the tree's size N and its root, as `state` and the feeds publish them."""
    m = _HEAD.fullmatch(text.strip())
    if not m:
        raise BadHead(f"{text!r} is not a head '#N:HEX' (N the log's size, HEX its tree's root in 64 hex digits)")
    return int(m.group(1)), bytes.fromhex(m.group(2))


def verify(app: Timeline, *, full: bool = False, expect: tuple[int, bytes] | None = None) -> Verdict:
    """Check the stored log against its tree; keep the checkpoint when it is sound."""
    tree = TreeSql.for_recorder(app.recorder)
    with _snapshot(tree) as c:
        verdict = _Check(c, tree).run(full, expect)
    if verdict.ok and verdict.head:
        _keep(tree, verdict.head)
    return verdict


@contextmanager
def _snapshot(tree: TreeSql) -> Iterator[Cursor]:
    with tree.sql.transaction(commit=False) as c:
        if tree.postgres:
            tree.sql.execute(c, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield c


def _keep(tree: TreeSql, head: dict[str, Any]) -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        with tree.sql.transaction(commit=True) as c:
            tree.sql.execute(
                c,
                # A root kept is never replaced: every later check must agree with it.
                f"INSERT INTO {tree.verified} (size, root, verified) VALUES (?,?,?) ON CONFLICT (size) DO NOTHING",
                [head["size"], bytes.fromhex(head["hash"]), now],
            )
    except PersistenceError:
        pass  # a read-only database: the check stands, the next one starts from the last kept


@dataclass
class _Finding:
    """One position where the row and the tree part, before it is explained."""

    position: int
    kind: str  # "unchained", "deleted", "mismatch", "altered"
    index: int | None = None  # the leaf's index, when there is a leaf
    row: Row | None = None
    why: str = ""
    holds: int | None = None  # mismatch: the leaf index whose event the row holds


class _Check:
    def __init__(self, c: Cursor, tree: TreeSql) -> None:
        self.c = c
        self.tree = tree
        self.sql = tree.sql
        self.problems: list[Problem] = []
        self.more = 0
        self.findings: list[_Finding] = []
        self.lost = 0  # findings beyond MAX_PROBLEMS
        self.nodes_ok = True  # False once the tree's own rows disagree: node checks stop

    def problem(self, position: int, kind: str, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(position, kind, message))
        else:
            self.more += 1

    def run(self, full: bool, expect: tuple[int, bytes] | None) -> Verdict:
        size, last = self.tree.last(self.c)
        start = self._start(size, full)
        checked = self._walk(start, size)
        if not full and start:
            self._count_before(start, checked)
        self._extra_nodes(size)
        root = self._root(size)
        if expect is not None:
            self._expected(expect, size)
        self.problems.sort(key=lambda p: p.position)
        head = Head(size, last, root).as_dict() if size and root else None
        return Verdict(start == 0, checked, start, head, self.problems, self.more)

    # --- the checkpoint verified before ------------------------------------------------

    def _start(self, size: int, full: bool) -> int:
        """Check the tree against the last checkpoint kept; where an incremental check starts."""
        rows = self.sql.rows(
            self.c, f"SELECT size, root, verified FROM {self.tree.verified} ORDER BY size DESC LIMIT 1"
        )
        if not rows:
            return 0
        kept, root, when = int(rows[0]["size"]), bytes(rows[0]["root"]), rows[0]["verified"]
        if kept > size:
            self.problem(
                size + 1,
                "rewritten",
                f"the log's tree has {size} events, fewer than the {kept} verified on {when}: history was rewritten",
            )
            return 0
        try:
            now = self.tree.linked_roots(self.c, kept, size)[0] if kept else merkle.EMPTY_ROOT
        except TreeError as e:
            self.problem(self.tree.position_of(self.c, kept - 1) or kept, "tree", str(e))
            return 0
        if now != root:
            self.problem(
                self.tree.position_of(self.c, kept - 1) or kept,
                "rewritten",
                f"the log's tree of {kept} events no longer has the root verified on {when}: history was rewritten",
            )
            return 0
        return 0 if full else kept

    def _count_before(self, start: int, checked: int) -> None:
        """Rows before the checkpoint are not read again, but they are counted."""
        before = count_rows(self.c, self.tree) - checked
        if before != start:
            last = self.tree.position_of(self.c, start - 1) or start
            what = "fewer" if before < start else "more"
            self.problem(
                last,
                "deleted" if before < start else "unchained",
                f"the log has {before} events up to #{last}, {what} than the {start} verified there:"
                " `timeline verify --full` names them",
            )

    # --- rows against leaves, leaves against nodes --------------------------------------

    def _walk(self, start: int, size: int) -> int:
        c, tree = self.c, self.tree
        after = tree.position_of(c, start - 1) if start else None
        try:
            keys = ranges.frontier(start)
            known = tree.fetch(c, keys)
            stack = [(key[0], known[key]) for key in keys]
        except TreeError as e:
            self.problem(after or 0, "tree", str(e))
            self.nodes_ok, stack = False, []
        nodes = _Nodes(self, stack)
        leaves = tree.iter_leaves(c, start, PAGE)
        rows = iter_rows(c, tree, after, PAGE)
        leaf, row = next(leaves, None), next(rows, None)
        expected, previous, checked = start, after or 0, 0
        while leaf is not None or row is not None:
            if leaf is not None and (leaf[0] != expected or leaf[1] <= previous):
                self._bad_leaf(leaf, expected, previous)
                expected = leaf[0]
            if row is not None and (leaf is None or row.position < leaf[1]):
                self._finding(_Finding(row.position, "unchained", row=row))
                row, checked = next(rows, None), checked + 1
                continue
            assert leaf is not None
            index, position, stored = leaf
            if row is None or row.position > position:
                self._finding(_Finding(position, "deleted", index=index))
            else:
                data = stored_leaf(row.position, row.originator_id, row.version, row.topic, row.state)
                if isinstance(data, str):
                    self._finding(_Finding(position, "altered", index=index, row=row, why=data))
                elif merkle.leaf_hash(data) != stored:
                    self._finding(_Finding(position, "mismatch", index=index, row=row))
                row, checked = next(rows, None), checked + 1
            nodes.push(index, position, stored)
            leaf, expected, previous = next(leaves, None), index + 1, position
        nodes.flush()
        if expected != size:
            self.problem(previous, "tree", f"the log's tree ends at leaf {expected - 1}, not at leaf {size - 1}")
        self._explain()
        return checked

    def _bad_leaf(self, leaf: tuple[int, int, bytes], expected: int, previous: int) -> None:
        index, position, _ = leaf
        self.nodes_ok = False
        if index != expected:
            self.problem(position, "tree", f"the log's tree lost leaves {expected}..{index - 1} (before #{position})")
        else:
            self.problem(position, "tree", f"the log's tree has leaf {index} at #{position}, not after #{previous}")

    def _finding(self, f: _Finding) -> None:
        if len(self.findings) < MAX_PROBLEMS:
            self.findings.append(f)
        else:
            self.lost += 1

    def _extra_nodes(self, size: int) -> None:
        """Every node the walk did not recompute is one that should not exist: a level holds
        exactly the indexes 0 .. (size >> level) - 1. Index lookups only, no scan."""
        sql, c, t = self.sql, self.c, self.tree
        top = size.bit_length()
        count = f"SELECT COUNT(*) FROM {t.nodes} WHERE "
        extra = int(sql.scalar(c, count + "level < 1") or 0) + int(
            sql.scalar(c, count + "level >= ?", [max(top, 1)]) or 0
        )
        for level in range(1, top):
            rows = sql.rows(
                c,
                f"SELECT (SELECT MIN(idx) FROM {t.nodes} WHERE level = ?) AS lo,"
                f" (SELECT MAX(idx) FROM {t.nodes} WHERE level = ?) AS hi",
                [level, level],
            )
            lo, hi = rows[0]["lo"], rows[0]["hi"]
            if lo is not None and (int(lo) < 0 or int(hi) >= size >> level):
                extra += 1
        if sql.scalar(c, f"SELECT MIN(idx) FROM {t.leaves}") not in (None, 0):
            extra += 1
        if extra:
            self.problem(0, "tree", "the log's tree holds nodes no append made")

    def _root(self, size: int) -> bytes | None:
        try:
            return self.tree.root(self.c, size)
        except TreeError as e:
            self.problem(0, "tree", str(e))
            return None

    def _expected(self, expect: tuple[int, bytes], size: int) -> None:
        want, root = expect
        if want > size:
            self.problem(want, "rewritten", f"the log's tree ends at size {size}, before the expected head #{want}")
            return
        if want == 0:
            now = merkle.EMPTY_ROOT
        else:
            try:
                now = self.tree.linked_roots(self.c, want, size)[0]
            except TreeError as e:
                self.problem(want, "tree", str(e))
                return
        if now != root:
            where = self.tree.position_of(self.c, want - 1) if want else 0
            self.problem(
                where or want,
                "rewritten",
                f"the log's tree at size {want} has root {now.hex()}, not {root.hex()}: history was rewritten",
            )

    # --- naming what happened -------------------------------------------------------

    def _explain(self) -> None:
        """Turn the findings into problems: swaps, shifted runs, then single positions."""
        found = self.findings
        mismatched = [f for f in found if f.kind == "mismatch"]
        self._match(mismatched)
        done: set[int] = set()
        by_index = {f.index: f for f in found if f.index is not None}
        for f in mismatched:
            other = by_index.get(f.holds) if f.holds is not None else None
            if other is not None and other.holds == f.index and id(f) not in done:
                done |= {id(f), id(other)}
                self.problem(f.position, "moved", f"#{f.position} was moved: it swapped places with #{other.position}")
        k = 0
        while k < len(found):
            f = found[k]
            if id(f) in done:
                k += 1
                continue
            # Rows each holding the next leaf's event, and the last leaf without a row:
            # one row was deleted and the rest renumbered down.
            run = self._run(found, k, +1, done)
            tail = found[k + run] if run and k + run < len(found) else None
            if tail is not None and tail.kind == "deleted" and tail.index == (found[k + run - 1].index or 0) + 1:
                self.problem(
                    f.position,
                    "deleted",
                    f"#{f.position} was deleted and the events after it moved down one place"
                    f" (#{f.position}..#{found[k + run - 1].position} hold the events the log's tree has one place later)",
                )
                k += run + 1
                continue
            # Rows each holding the previous leaf's event, and one row more at the end: a
            # row was put in (the first finding, unless it too is shifted) and the rest
            # renumbered up.
            lead = int(f.kind in {"mismatch", "deleted"} and f.holds is None)
            run = self._run(found, k + lead, -1, done)
            after = k + lead + run
            if run and after < len(found) and found[after].kind == "unchained":
                first, last = found[k + lead], found[after - 1]
                shifted = f"#{first.position}..#{last.position} hold the events the log's tree has one place earlier"
                if lead and f.kind == "mismatch":
                    self.problem(
                        f.position,
                        "inserted",
                        f"#{f.position} was inserted and the events after it moved up one place ({shifted})",
                    )
                else:
                    if lead:
                        self._single(f)
                    self.problem(
                        first.position, "moved", f"the events from #{first.position} on moved up one place ({shifted})"
                    )
                k = after + 1
                continue
            self._single(f)
            k += 1
        self.more += self.lost

    def _run(self, found: list[_Finding], k: int, step: int, done: set[int]) -> int:
        """How many findings from k on are rows holding the event `step` leaves away."""
        n = 0
        while k + n < len(found):
            f = found[k + n]
            if f.kind != "mismatch" or f.holds is None or f.index is None or f.holds != f.index + step:
                break
            if (n and found[k + n - 1].index != (f.index - 1)) or id(f) in done:
                break
            n += 1
        return n

    def _single(self, f: _Finding) -> None:
        p = f.position
        if f.kind == "unchained":
            self.problem(
                p,
                "unchained",
                f"#{p} is not in the log's tree: no append wrote it (a row put in behind the log's back)",
            )
        elif f.kind == "deleted":
            self.problem(p, "deleted", f"#{p} was deleted: the log's tree has its leaf, the log has no row there")
        elif f.kind == "altered":
            self.problem(p, "altered", f"#{p} was altered: {f.why}")
        elif f.holds is not None:
            where = self.tree.position_of(self.c, f.holds)
            self.problem(p, "moved", f"#{p} was moved: it holds the event the log's tree has at #{where}")
        else:
            self.problem(p, "altered", f"#{p} was altered: the stored event differs from the one in the log's tree")

    def _match(self, mismatched: list[_Finding]) -> None:
        """For each mismatched row, find the leaf whose event it holds: the leaves next to
        its own, then (when few) the leaves of the other mismatched rows."""
        wanted: set[int] = set()
        for f in mismatched:
            assert f.index is not None
            wanted |= {f.index - 1, f.index + 1}
        if len(mismatched) <= MAX_PAIRS:
            wanted |= {f.index for f in mismatched if f.index is not None}
        wanted.discard(-1)
        leaves = self._leaves(sorted(wanted))
        for f in mismatched:
            assert f.index is not None and f.row is not None
            near = [f.index + 1, f.index - 1]
            others = [g.index for g in mismatched if g is not f] if len(mismatched) <= MAX_PAIRS else []
            for index in [*near, *others]:
                if index is None or index not in leaves:
                    continue
                position, stored = leaves[index]
                r = f.row
                data = stored_leaf(position, r.originator_id, r.version, r.topic, r.state)
                if isinstance(data, bytes) and merkle.leaf_hash(data) == stored:
                    f.holds = index
                    break

    def _leaves(self, indexes: list[int]) -> dict[int, tuple[int, bytes]]:
        out: dict[int, tuple[int, bytes]] = {}
        for part, marks in in_parts(indexes):
            statement = f"SELECT idx, position, hash FROM {self.tree.leaves} WHERE idx IN ({marks})"
            for r in self.sql.rows(self.c, statement, part):
                out[int(r["idx"])] = (int(r["position"]), bytes(r["hash"]))
        return out


class _Nodes:
    """Recomputes the nodes above the stored leaves as the append made them, and compares
    them with the stored ones a page at a time (one range query per level)."""

    def __init__(self, check: _Check, stack: list[tuple[int, bytes]]) -> None:
        self.check = check
        self.stack = stack
        self.made: list[tuple[int, int, bytes]] = []
        self.positions: dict[int, int] = {}

    def push(self, index: int, position: int, leaf: bytes) -> None:
        if not self.check.nodes_ok:
            return
        extend(self.stack, index, leaf, self.made)
        self.positions[index] = position
        if len(self.positions) >= PAGE:
            self.flush()

    def flush(self) -> None:
        check = self.check
        if check.nodes_ok and self.made:
            by_level: dict[int, list[tuple[int, bytes]]] = {}
            for level, i, h in self.made:
                by_level.setdefault(level, []).append((i, h))
            for level, made in sorted(by_level.items()):
                rows = check.sql.rows(
                    check.c,
                    f"SELECT idx, hash FROM {check.tree.nodes} WHERE level = ? AND idx BETWEEN ? AND ?",
                    [level, made[0][0], made[-1][0]],
                )
                stored = {int(r["idx"]): bytes(r["hash"]) for r in rows}
                for i, h in made:
                    if stored.get(i) != h:
                        last = ((i + 1) << level) - 1
                        what = "has no node" if i not in stored else "has a node that does not match its leaves"
                        check.problem(
                            self.positions.get(last, last + 1),
                            "tree",
                            f"the log's tree {what} at level {level}, index {i}",
                        )
                        check.nodes_ok = False
                        break
                if not check.nodes_ok:
                    break
        self.made = []
        self.positions = {}

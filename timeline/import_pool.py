"""Reading an import's lines in worker processes, the results taken in file order.

Reading a line (parsing its JSON, validating every field, encoding its event) needs
neither the log nor the other lines, and is most of an import's work: worker processes do
it a chunk at a time while the importing process checks the chunks already read against
the log and each other. Everything stays in file order, errors included: an error raised
while reading the input itself (a line that is not UTF-8) is raised only after the chunks
before it, exactly where a single process would meet it. At most `2 × workers` chunks are
in flight, so memory stays bounded however long the input.

The first chunk is read in this process, so a small file starts no process at all. The
workers are forked from a fresh server process (`forkserver`), never from this one (which
may hold database connections and their threads), and ignore Ctrl-C: the importing
process alone reports it.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.pool import AsyncResult, Pool
from typing import TypeVar

WORKERS_VAR = "TIMELINE_IMPORT_WORKERS"
T = TypeVar("T")
R = TypeVar("R")


def workers() -> int:
    """TIMELINE_IMPORT_WORKERS (0: read everything in this process), else one worker per
    CPU this process may use when there are at least two, else none."""
    text = os.environ.get(WORKERS_VAR, "").strip()
    if text.isdigit():
        return min(int(text), 16)
    cpus = len(os.sched_getaffinity(0))
    return cpus if cpus >= 2 else 0


class _Failed:
    """An error met while reading the input, kept for its turn."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def ordered_map(func: Callable[[T], R], items: Iterable[T], count: int) -> Iterator[R]:
    """`func(item)` for every item, in order, `count` worker processes (0: none)."""
    pending: deque[AsyncResult[R] | _Failed] = deque()
    pool: Pool | None = None
    iterator = iter(items)
    first = True
    try:
        while True:
            try:
                item = next(iterator)
            except StopIteration:
                break
            except Exception as e:  # the input's own error: raised after what came before it
                pending.append(_Failed(e))
                break
            if first or count <= 0:
                first = False
                yield func(item)
                continue
            if pool is None:
                pool = _start(func, count)
            pending.append(pool.apply_async(func, (item,)))
            if len(pending) >= 2 * count:
                yield _result(pending.popleft())
        while pending:
            yield _result(pending.popleft())
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()


def _result(entry: AsyncResult[R] | _Failed) -> R:
    if isinstance(entry, _Failed):
        raise entry.error
    return entry.get()


def _start(func: Callable[..., object], count: int) -> Pool:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([func.__module__])
    return context.Pool(count, initializer=_ignore_interrupts)


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)

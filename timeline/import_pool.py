"""Reading an import's lines in worker processes, the results taken in file order.

Reading a line (parsing its JSON, validating every field, encoding its event) needs
neither the log nor the other lines, and is most of an import's work: worker processes do
it a chunk at a time while the importing process checks the chunks already read against
the log and each other. Everything stays in file order, errors included: an error raised
while reading the input itself (a line that is not UTF-8) is raised only after the chunks
before it, exactly where a single process would meet it. At most two chunks per worker
are in flight, so memory stays bounded however long the input.

The first chunks are read in this process (the caller says how many), so a small file
starts no process at all, and so is every chunk until a worker is ready: a worker takes
chunks once it has started (a fresh interpreter takes a tenth of a second or more to import
what it needs, far longer on a busy machine), so this process never waits for one to start.

A worker is a fresh interpreter (`python -P -m timeline.import_pool MODULE:FUNCTION`, never
a fork of this process, which may hold database connections and their threads) that reads
pickled chunks on stdin and writes pickled results on stdout. It ignores Ctrl-C, writes
nothing to stderr and exits quietly when this process goes away, however it goes (`kill
-9` included: its stdin ends). A chunk whose worker failed or died is read again here, so
an error is raised (or a line accepted) exactly as without workers.
"""

from __future__ import annotations

import importlib
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, TypeVar

WORKERS_VAR = "TIMELINE_IMPORT_WORKERS"
T = TypeVar("T")
R = TypeVar("R")
_FAILED = b"F"  # a worker's answer when the function raised: the chunk is read again here
_READY = b"R"  # a worker's first message: it has imported the function and takes chunks
IN_FLIGHT = 2  # chunks sent to one worker and not answered yet, at most


def workers() -> int:
    """TIMELINE_IMPORT_WORKERS (0: read everything in this process), else one worker per
    CPU this process may use when there are at least two and one of them is idle (the load
    average leaves a CPU beside this process), else none. Workers cost CPU of their own
    (each starts an interpreter; every chunk is pickled both ways): about half again as
    much CPU as reading here, which only a free CPU repays. On a machine already busy
    they made a 100,000-line import slower (22-25 s against 19-20 s at a load of 7 on 2
    CPUs)."""
    text = os.environ.get(WORKERS_VAR, "").strip()
    if text.isdigit():
        return min(int(text), 16)
    cpus = len(os.sched_getaffinity(0))
    return cpus if cpus >= 2 and os.getloadavg()[0] <= cpus - 1 else 0


class _Worker:
    def __init__(self, func: Callable[..., Any]) -> None:
        target = f"{func.__module__}:{func.__qualname__}"
        self.process = subprocess.Popen(
            [sys.executable, "-P", "-m", __name__, target],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.answers: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self.gone = False  # its answers have ended (None was the last)
        self.ready = False  # it has said it takes chunks (set by the draining thread)
        self.in_flight = 0
        # Draining stdout in a thread: a worker blocked on a full pipe never blocks us.
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        try:
            if _receive(self.process.stdout) != _READY:
                self.answers.put(None)
                return
            self.ready = True
            while True:
                answer = _receive(self.process.stdout)
                self.answers.put(answer)
                if answer is None:
                    return
        except (OSError, ValueError):
            self.answers.put(None)

    def answer(self) -> bytes | None:
        """The next answer, in the order the chunks were sent; None once the worker is gone."""
        self.in_flight -= 1
        if self.gone:
            return None
        answer = self.answers.get()
        self.gone = answer is None
        return answer

    def send(self, item: Any) -> bool:
        try:
            assert self.process.stdin is not None
            _send(self.process.stdin, pickle.dumps(item, pickle.HIGHEST_PROTOCOL))
        except (OSError, ValueError):
            return False
        self.in_flight += 1
        return True

    def close(self) -> None:
        if not self.ready:  # still starting: it holds nothing, and waiting for it costs its start
            self.process.kill()
        try:
            assert self.process.stdin is not None
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def ordered_map(func: Callable[[T], R], items: Iterable[T], count: int, start_after: int = 1) -> Iterator[R]:
    """`func(item)` for every item, in order, with `count` worker processes (0: none),
    started once `start_after` items have been read here."""
    pool: list[_Worker] = []
    # In file order: (item, the worker it was sent to, None) or, for an item read here or
    # an error the input raised in its place, (None, None, its outcome).
    pending: deque[_Entry] = deque()
    here = 0
    try:
        for item in _until_error(items, pending):
            if here < start_after or count <= 0:
                here += 1
                yield func(item)
                continue
            if not pool:
                pool = _start(func, count)
                count = len(pool)  # none when no process can be started here: all read in this one
            ready = [w for w in pool if w.ready]
            if not ready and not pending:  # none has started yet (nothing was sent): read here
                yield func(item)
                continue
            # Once one is ready, this process checks what they read and reads nothing
            # itself (checking is the longer part): it waits for the oldest answer
            # while every ready worker has its fill.
            while pending and not any(w.in_flight < IN_FLIGHT for w in ready):
                yield _result(func, pending.popleft())
            worker = min((w for w in ready if w.in_flight < IN_FLIGHT), key=_load, default=None)
            if worker is not None and worker.send(item):
                pending.append((item, worker, None))
            else:  # its worker is gone: read here, in its place
                pending.append((None, None, _Outcome.of(func, item)))
        while pending:
            yield _result(func, pending.popleft())
    finally:
        for worker in pool:
            worker.close()


_Entry = tuple[Any, "_Worker | None", "_Outcome | None"]


def _until_error(items: Iterable[T], pending: deque[_Entry]) -> Iterator[T]:
    """The items; an error the input raises ends them and is kept in its place in
    `pending`, to be raised after what came before it."""
    iterator = iter(items)
    while True:
        try:
            item = next(iterator)
        except StopIteration:
            return
        except Exception as e:
            pending.append((None, None, _Outcome(error=e)))
            return
        yield item


def _start(func: Callable[..., Any], count: int) -> list[_Worker]:
    pool: list[_Worker] = []
    try:
        while len(pool) < count:
            pool.append(_Worker(func))
    except OSError:  # no process can be started here
        for worker in pool:
            worker.close()
        return []
    return pool


def _load(worker: _Worker) -> int:
    return worker.in_flight


class _Outcome:
    """What reading one item here gave: its result or the error it raised."""

    def __init__(self, result: Any = None, error: BaseException | None = None) -> None:
        self.result = result
        self.error = error

    @classmethod
    def of(cls, func: Callable[[Any], Any], item: Any) -> _Outcome:
        try:
            return cls(result=func(item))
        except Exception as e:
            return cls(error=e)


def _result(func: Callable[[T], R], entry: _Entry) -> R:
    item, worker, outcome = entry
    if outcome is not None:
        if outcome.error is not None:
            raise outcome.error
        return outcome.result  # type: ignore[no-any-return]
    answer = worker.answer() if worker is not None else None
    if answer is None or answer == _FAILED:
        return func(item)  # read here: the same error, or the same result, as without workers
    return pickle.loads(answer)  # type: ignore[no-any-return]


def _send(stream: IO[bytes], data: bytes) -> None:
    stream.write(len(data).to_bytes(8, "little") + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> bytes | None:
    head = stream.read(8)
    if len(head) < 8:
        return None
    size = int.from_bytes(head, "little")
    data = stream.read(size)
    return data if len(data) == size else None


def serve(target: str) -> None:
    """A worker's loop: a chunk in, its result (or `_FAILED`) out, until stdin ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    module, name = target.split(":")
    func = getattr(importlib.import_module(module), name)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # stdout carries the answers, and nothing else
    try:
        _send(stdout, _READY)
        while (data := _receive(stdin)) is not None:
            try:
                answer = pickle.dumps(func(pickle.loads(data)), pickle.HIGHEST_PROTOCOL)
            except Exception:
                answer = _FAILED
            _send(stdout, answer)
    except OSError:  # the importing process went away
        pass


if __name__ == "__main__":
    serve(sys.argv[1])

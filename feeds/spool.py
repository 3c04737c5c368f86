"""What a feeds build keeps on disk rather than in memory, each in an unnamed temporary file.

`ByPosition`: rows read back newest log position first. The changes pages list every addition, correction and retraction of the log, newest first,
but the views give developments in timeline order: sorting a million rows in memory was
most of a full build's peak memory (each row held its whole document). Here a row goes to
an unnamed temporary file as it is made, and memory holds 8 bytes per log position: where
that position's row is. `Paths`: the files a build wrote, in order. `Rows`: rows in the
order they came, read back as often as asked (the story's ledger). `Keyed`: a value
per log position, read back as often as asked (each development's feed entries, rendered
once for the six or so feeds that hold it).
"""

from __future__ import annotations

import marshal
import os
import pickle
import tempfile
from array import array
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Self

_SLOT = array("q").itemsize
_LENGTH_BITS = 24  # of a `Keyed` slot, for a value's length; its offset has the other 39 (512 GiB)
_LENGTH_MASK = (1 << _LENGTH_BITS) - 1


class _OnDisk:
    """An unnamed temporary file, gone when closed (or with the process), and how many
    items it holds."""

    def __init__(self, buffering: int = -1) -> None:
        self._file = tempfile.TemporaryFile(buffering=buffering)  # noqa: SIM115 - closed by close() / the with block
        self.count = 0

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class ByPosition(_OnDisk):
    """Rows added in any order, each at a log position, read back by descending position
    (rows at one position in the order they were added, as a stable sort gives them)."""

    def __init__(self, positions: int = 0) -> None:
        super().__init__()
        self._at = array("q", bytes(_SLOT * (positions + 1)))  # per position: 1 + offset of its last row

    def add(self, position: int, row: Any) -> None:
        if position >= len(self._at):
            self._at.frombytes(bytes(_SLOT * max(position + 1 - len(self._at), len(self._at))))
        before = self._at[position]  # an earlier row at the same position (0: none)
        self._at[position] = self._file.tell() + 1
        pickle.dump((before, row), self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self.count += 1

    def newest_first(self) -> Iterator[Any]:
        f = self._file
        for position in range(len(self._at) - 1, -1, -1):
            offset = self._at[position]
            if not offset:
                continue
            chain = []
            while offset:
                f.seek(offset - 1)
                offset, row = pickle.load(f)  # this process's own temporary file
                chain.append(row)
            yield from reversed(chain)


class Paths(_OnDisk):
    """Paths kept on disk in the order they were added, with their count: a full build
    writes about 1.3 files an event, and a list of their names was most of what its
    memory still grew with (about 120 MB at a million events)."""

    def append(self, path: str) -> None:
        assert "\n" not in path, "a path the build made has no line break"
        self._file.seek(0, 2)  # after every path, wherever a reader left the file
        self._file.write(path.encode() + b"\n")
        self.count += 1

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[str]:
        self._file.flush()
        self._file.seek(0)
        for line in self._file:
            yield line[:-1].decode()
        self._file.seek(0, 2)  # further paths go after these


class Rows(_OnDisk):
    """Rows kept on disk in the order they were added, read back as often as asked."""

    def append(self, row: Any) -> None:
        self._file.seek(0, 2)
        pickle.dump(row, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self.count += 1

    def __iter__(self) -> Iterator[Any]:
        # Each reader keeps its own offset: two may be read in turns, and rows appended.
        f, at = self._file, 0
        f.flush()
        for _ in range(self.count):
            f.seek(at)
            row = pickle.load(f)  # this process's own temporary file
            at = f.tell()
            yield row


class Keyed(_OnDisk):
    """A value per log position, replaced when put again, read back as often as asked: 8
    bytes per position in memory (where its value is, and how long), the values on disk.
    Values are of marshal's plain types (str, numbers, None, tuples of them), read back
    four times faster than pickled objects; unbuffered: one `pread` a value. A value of
    `LONGEST` bytes or more is not kept (`get` answers None, as for one never put)."""

    LONGEST = 1 << _LENGTH_BITS

    def __init__(self) -> None:
        super().__init__(buffering=0)
        self._fd = self._file.fileno()
        self._end = 0
        self._at = array("q")  # per position: (offset + 1) << 24 | length (0: none)

    def get(self, position: int) -> Any | None:
        if position >= len(self._at) or not self._at[position]:
            return None
        slot = self._at[position]
        return marshal.loads(os.pread(self._fd, slot & _LENGTH_MASK, (slot >> _LENGTH_BITS) - 1))

    def put(self, position: int, value: Any) -> None:
        data = marshal.dumps(value)
        if position >= len(self._at):  # grown by a quarter: a build's positions come in rising
            self._at.frombytes(bytes(_SLOT * max(position + 1 - len(self._at), len(self._at) // 4, 1024)))
        if len(data) >= self.LONGEST:
            self._at[position] = 0
            return
        os.pwrite(self._fd, data, self._end)
        self._at[position] = (self._end + 1) << _LENGTH_BITS | len(data)
        self._end += len(data)
        self.count += 1

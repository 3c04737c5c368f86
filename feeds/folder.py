"""The folder writer: a build written into one folder, never outside it, rewriting only
the files whose bytes changed, each atomically (see `Directory`).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from feeds import FORMAT, signatures
from feeds.layout import Output, digest
from feeds.manifest import MANIFEST, PreviousBuild, manifest_chunks, records
from feeds.settings import FeedSettings
from feeds.site import Result, build_site
from feeds.spool import Paths

if TYPE_CHECKING:
    from timeline.reading import Reader


class UnsafePath(ValueError):
    """An output path that would leave the folder (through '..' or a link)."""


class Directory:
    """Writes a build into one folder, never outside it, rewriting only changed files.

    Every file is written under a temporary name (hidden: it starts with '.') and renamed
    into place, and the manifest is written last, so a build stopped at any moment (killed,
    or the disk full) leaves every visible file whole, the old one or the new one, and the
    manifest of the last build that finished: the next build redoes what it names as stale.
    A build with `check` also looks at every file that manifest names (its size, and its
    hash when it changed since the manifest was written, by ctime, which nothing but a
    change to the file moves) and renders again what is missing or damaged, and removes
    the temporary files of builds that died."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._real = root.resolve()
        self._folders: dict[str, str] = {}  # checked folders, relative -> absolute
        self._serial = 0
        self._token = secrets.token_hex(4)
        self._sweep = False  # remove dead builds' temporary files from folders written to

    @staticmethod
    def _parts(rel: str) -> list[str]:
        parts = rel.split("/")
        if "\0" in rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise UnsafePath(f"unsafe output path {rel!r}")
        return parts

    def path(self, rel: str) -> Path:
        parts = self._parts(rel)
        target = (self._real / Path(*parts)).resolve()
        if not target.is_relative_to(self._real):
            raise UnsafePath(f"output path {rel!r} leads outside {str(self.root)!r}")
        return target

    def have(self, rel: str) -> bool:
        # Asked for every file of every feed on each build: a plain stat, no resolve().
        parts = rel.split("/")
        if "\0" in rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
            return False
        return os.path.isfile(os.path.join(self._real, *parts))

    def manifest(self) -> dict[str, Any] | None:
        try:
            data = json.loads((self._real / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("format") == FORMAT else None

    def damaged(self, manifest: dict[str, Any] | None) -> frozenset[str]:
        """The files `manifest` names that are missing, not regular files, or not what it
        recorded (size; hash, for files changed since the manifest was written)."""
        found = records(manifest)
        if not found:
            return frozenset()
        try:
            since = os.stat(self._real / MANIFEST).st_ctime_ns
        except OSError:
            return frozenset()
        bad: set[str] = set()
        for record in found.values():
            try:
                files = list(record.expected_files())
            except (TypeError, ValueError, IndexError):
                continue  # a record this version cannot read: its feed is rebuilt anyway
            for rel, size, want, at_least in files:
                try:
                    full = os.path.join(self._real, *self._parts(rel))
                    st = os.lstat(full)
                except (OSError, ValueError):
                    bad.add(rel)
                    continue
                if not self._whole(full, st, (size, want, at_least), since):
                    bad.add(rel)
        return frozenset(bad)

    def _whole(self, full: str, st: os.stat_result, expected: tuple[int | None, str | None, bool], since: int) -> bool:
        """Whether the file is what the manifest recorded: (size, digest, at_least) as
        `FeedRecord.expected_files` gives them."""
        size, want, at_least = expected
        if not stat.S_ISREG(st.st_mode):
            return False
        if size is None:
            return True
        if st.st_size < size if at_least else st.st_size != size:
            return False
        return want is None or st.st_ctime_ns <= since or self._digest(full) == want

    @staticmethod
    def _digest(full: str) -> str | None:
        try:
            with open(full, "rb") as f:
                return digest(f.read())
        except OSError:
            return None

    def read(self, rel: str) -> bytes | None:
        try:
            return self.path(rel).read_bytes()
        except (OSError, ValueError):
            return None

    def append(self, rel: str, data: bytes, at: int) -> None:
        """Cut the file to `at` bytes (what the manifest knows of), then add `data`."""
        target = self.path(rel)
        self._folder(rel.rpartition("/")[0])
        with open(target, "ab") as f:
            f.truncate(at)
            f.write(data)

    def write(self, rel: str, data: bytes | Iterable[bytes], mtime: int | None = None) -> bool:
        """Write `data` (bytes, or its chunks in order: a large page written as it is
        rendered) at `rel` unless the file already holds it (then only set `mtime`,
        seconds, when given); True when the file changed."""
        self._parts(rel)
        folder, _, name = rel.rpartition("/")
        parent = self._folder(folder)
        target = os.path.join(parent, name)
        if not isinstance(data, bytes):
            return self._write_chunks(parent, target, data, mtime)
        # Plain descriptors, not file objects: a file object asks whether it is a terminal,
        # and seeks, for each of the ~1.3 files a full build writes per event.
        try:
            fd = os.open(target, os.O_RDONLY)
        except OSError:
            pass
        else:
            try:
                st = os.fstat(fd)
                same = st.st_size == len(data) and _read_all(fd, st.st_size) == data
            finally:
                os.close(fd)
            if same and self._keep(target, st, mtime):
                return False
        # A fresh name in the same folder, then an atomic rename: readers (`serve`) see the
        # old file or the new one, never a partial one. Cheaper than mkstemp per file.
        # A random part too: a file left by a killed build must not block a later process
        # that happens to get the same pid.
        tmp = self.temporary(parent)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            try:
                os.fchmod(fd, 0o644)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                if mtime is not None:
                    os.utime(fd, (mtime, mtime))
            finally:
                os.close(fd)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return True

    @staticmethod
    def _keep(target: str, st: os.stat_result, mtime: int | None) -> bool:
        """Whether the file at `target` (whose bytes are those to write) can stay: a regular
        file, given `mtime` when asked."""
        if not stat.S_ISREG(os.lstat(target).st_mode):
            return False
        if mtime is not None and st.st_mtime_ns != mtime * 1_000_000_000:
            os.utime(target, (mtime, mtime))
        return True

    def _write_chunks(self, parent: str, target: str, chunks: Iterable[bytes], mtime: int | None) -> bool:
        """`write` for bytes that come in chunks: each goes to the temporary file as it comes,
        compared with the old file as it goes; the temporary file is renamed into place
        only when the bytes differ (or there was no file)."""
        try:
            old: BinaryIO | None = open(target, "rb")  # noqa: SIM115 - closed below
        except OSError:
            old = None
        tmp = self.temporary(parent)
        try:
            same = old is not None
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                os.fchmod(f.fileno(), 0o644)
                for chunk in chunks:
                    f.write(chunk)
                    if same and old is not None:
                        same = old.read(len(chunk)) == chunk
                if same and old is not None:
                    same = old.read(1) == b""
                f.flush()
                if mtime is not None:
                    os.utime(f.fileno(), (mtime, mtime))
            if same and old is not None and self._keep(target, os.fstat(old.fileno()), mtime):
                Path(tmp).unlink()
                return False
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        finally:
            if old is not None:
                old.close()
        return True

    def temporary(self, parent: str | None = None) -> str:
        """A fresh hidden name in `parent` (the root by default) for a file written whole and
        then renamed into place; `_remove_dead_temporaries` knows it when its writer died."""
        self._serial += 1
        return os.path.join(parent or str(self._real), f"{_TMP}{os.getpid()}-{self._token}-{self._serial}")

    def _folder(self, rel: str) -> str:
        """A folder inside the root (made if missing), checked once per build: `write`
        replaces files by rename, which never follows a link in the file's own place."""
        known = self._folders.get(rel)
        if known is None:
            if rel:
                self.path(rel).mkdir(parents=True, exist_ok=True)
            known = self._folders[rel] = str(self.path(rel)) if rel else str(self._real)
            if self._sweep:
                self._remove_dead_temporaries(known)
        return known

    def _remove_dead_temporaries(self, folder: str) -> None:
        """Temporary files whose writer is gone (a build killed, or stopped by a full
        disk before it could clean up); a live process's are left alone."""
        with os.scandir(folder) as entries:
            names = [e.name for e in entries if e.name.startswith(_TMP)]
        for name in names:
            pid, _, rest = name.removeprefix(_TMP).partition("-")
            if pid == str(os.getpid()) and rest.startswith(self._token + "-"):
                continue
            if pid.isdigit() and _alive(int(pid)) and pid != str(os.getpid()):
                continue
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(folder, name))

    def emit(self, out: Output) -> bool:
        """Write one output as soon as it is rendered; True when the file changed."""
        if out.append_at is not None:
            assert isinstance(out.data, bytes), "a sidecar is appended whole"
            self.append(out.path, out.data, out.append_at)
            return False  # bookkeeping, not a feed: not reported as written
        return self.write(out.path, out.data)

    def build(
        self, reader: Reader, settings: FeedSettings, check: bool = True, apart: bool = False
    ) -> tuple[Result, Paths]:
        """Build into this folder, writing each document as it is rendered, so a build holds
        one feed's page at a time; returns the result and the paths written (kept on disk:
        the caller closes them). With `check`, first find what the folder lost (see the class).
        With `apart`, a large build's story pages are written by a second process
        (`feeds.pages_apart`: only a `Directory`'s own writes, not a subclass's)."""
        written = Paths()
        self._folders.clear()  # folders may have gone since the last build
        self._sweep = check

        def sink(out: Output) -> None:
            if self.emit(out):
                written.append(out.path)

        manifest = self.manifest()
        damaged = self.damaged(manifest) if check else frozenset()
        if check:
            self._folder("")
        previous = PreviousBuild(
            manifest, self.have, self.read, damaged, str(self._real / signatures.FILE), self.temporary
        )
        try:
            result = build_site(reader, settings, previous, sink, str(self._real) if apart else None)
            if result.written_apart is not None:
                with result.written_apart as pages:
                    for path in pages:
                        written.append(path)
            self.finish(result)
        except BaseException:
            written.close()
            raise
        return result, written

    def finish(self, result: Result) -> None:
        for rel in result.removed:
            self.path(rel).unlink(missing_ok=True)
        # Compact, so json's C encoder writes it (indent= falls back to pure Python); in
        # chunks, its feed records read back from where the build kept them (`Records`).
        if not self.write(MANIFEST, manifest_chunks(result.manifest)):
            # Unchanged: touch it, so every file this build wrote or set a time on is older
            # (by ctime) than the manifest, and the next check need not hash it.
            st = os.stat(self._real / MANIFEST)
            os.utime(self._real / MANIFEST, ns=(st.st_atime_ns, st.st_mtime_ns))


_TMP = ".tmp-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _read_all(fd: int, size: int) -> bytes:
    """`size` bytes from the start of the file (fewer if it is shorter now)."""
    parts, at = [], 0
    while at < size:
        part = os.pread(fd, size - at, at)
        if not part:
            break
        parts.append(part)
        at += len(part)
    return b"".join(parts)

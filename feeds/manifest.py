"""The build manifest (`.timeline-feeds.json`): what the previous build made of each feed.

A feed's `FeedRecord` says which log position it was built from, which of its members are
archived and which are left over (`rest`), its newest page (`top`, `floor`), and the size
and digest of each of its files, so the next build renders only stale feeds and notices
files that were lost or damaged. The manifest is usable only when the settings, the format
and the log it was built from (a prefix of this one) are the same.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from feeds import FORMAT
from feeds.layout import FORMATS, archive_path, sidecar_path
from feeds.settings import FeedSettings
from timeline import __version__

if TYPE_CHECKING:
    from timeline.reading import Reader

MANIFEST = ".timeline-feeds.json"


@dataclass
class FeedRecord:
    """One feed as the manifest keeps it between builds (JSON: `to_json`/`from_json`)."""

    title: str
    path: str  # the feed's files' path without extension (`feeds.layout.feed_path`)
    entries: int  # in the subscription document
    total: int  # members
    updated: str  # the newest entry's `updated`
    modified: str  # when the event that last changed the feed was recorded
    archives: int  # archive pages, each frozen once cut
    archived_bytes: int = 0  # of the archived ids' sidecar (topic and actor feeds)
    rest: list[str] = field(default_factory=list)  # members not archived, in recording order
    top: list[str] | None = None  # the newest page's ids, newest first (None: an older manifest)
    floor: list[Any] | None = None  # (updated, first_position) of the n-th newest, when there are n
    sums: dict[str, list[Any]] = field(default_factory=dict)  # format -> [size, digest]
    archive_sums: list[list[Any] | None] = field(default_factory=list)  # per page: atom size, digest, rss ...
    position: int = 0  # the log position that last changed the feed when it was built
    wikidata: str | None = None  # an actor's Wikidata id

    def to_json(self) -> dict[str, Any]:
        # Shallow: the manifest is serialised straight away, so asdict's deep copy of every
        # id list of every feed is not needed. The values are shared, not copied.
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        if self.wikidata is None:
            del data["wikidata"]
        return data

    @classmethod
    def from_json(cls, data: Any) -> FeedRecord:
        """A record as a previous build wrote it; KeyError, TypeError or ValueError when
        it cannot be read (its feed is then built again)."""
        if not isinstance(data, dict):
            raise TypeError("a feed record is an object")
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        record = cls(**known)
        for name in ("entries", "total", "archives", "archived_bytes", "position"):
            if not isinstance(getattr(record, name), int):
                raise TypeError(f"{name} is not a number")
        if not isinstance(record.path, str) or not isinstance(record.rest, list):
            raise TypeError("path or rest is malformed")
        return record

    def light(self) -> FeedRecord:
        """The record without its id lists and sums (the manifest has them, `Records`): what
        the index and the list of removed files read. Its `files()` are the same paths."""
        return replace(self, rest=[], top=None, floor=None, sums={}, archive_sums=[])

    def current_files(self) -> list[str]:
        """The files a feed rewrites or appends to; archive pages, written once, are not
        looked for on every build (there are ever more of them)."""
        return [f"{self.path}.{fmt}" for fmt in FORMATS] + ([sidecar_path(self.path)] if self.archived_bytes else [])

    def files(self) -> list[str]:
        return [rel for rel, _, _, _ in self.expected_files()]

    def expected_files(self) -> Iterator[tuple[str, int | None, str | None, bool]]:
        """Every file of a feed with what the manifest knows of it: (path, size, digest,
        at_least). The archive id list may have grown past its recorded size (a build killed
        after appending): only its size is checked, as a lower bound. Records from before the
        manifest kept sums give None: only the file's existence is checked."""
        for fmt in FORMATS:
            size, digest = self.sums.get(fmt) or (None, None)
            yield f"{self.path}.{fmt}", size, digest, False
        if self.archived_bytes:
            yield sidecar_path(self.path), int(self.archived_bytes), None, True
        for k in range(1, int(self.archives) + 1):
            page = self.archive_sums[k - 1] if k - 1 < len(self.archive_sums) else None
            yield archive_path(self.path, k, "atom"), *((page[0], page[1]) if page else (None, None)), False
            yield archive_path(self.path, k, "rss"), *((page[2], page[3]) if page else (None, None)), False


@dataclass(frozen=True)
class PreviousBuild:
    """What a build is told of the previous build where it writes: its manifest, whether a
    file is there, a file's bytes (the archived ids), the files known to be damaged
    (missing or not whole), and where the pages' signatures are kept; a build into memory
    knows none of it."""

    manifest: dict[str, Any] | None = None
    have: Callable[[str], bool] = lambda path: True
    read: Callable[[str], bytes | None] = lambda path: None
    damaged: frozenset[str] = frozenset()
    signatures: str | None = None  # the story pages' signatures file (`feeds.signatures`)
    temporary: Callable[[], str] | None = None  # a fresh hidden name in the folder, for a file written whole


_COMPACT = {"sort_keys": True, "separators": (",", ":")}  # the manifest's JSON, as json's C encoder writes it


class Records(Mapping[str, bytes]):
    """A build's feed records, each as the manifest's JSON text, kept in a temporary file from
    when its feed is rendered to when the manifest is written: at a million events they hold
    the sizes and digests of some 160,000 archive pages and the ids of every feed's newest
    page, tens of MB as objects held to the end of the build."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed with this object
        self._at: dict[str, tuple[int, int]] = {}  # name -> (offset, length)

    def add(self, name: str, record: FeedRecord) -> None:
        text = json.dumps(record.to_json(), **_COMPACT).encode()  # type: ignore[arg-type]
        self._file.seek(0, 2)
        self._at[name] = (self._file.tell(), len(text))
        self._file.write(text)

    def __getitem__(self, name: str) -> bytes:
        offset, length = self._at[name]
        self._file.seek(offset)
        return self._file.read(length)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._at))

    def __len__(self) -> int:
        return len(self._at)


def manifest_chunks(manifest: dict[str, Any], size: int = 1 << 16) -> Iterator[bytes]:
    """`json.dumps(manifest, sort_keys=True, separators=(",", ":"))` and a newline, encoded,
    in chunks of about `size` bytes, its feeds (`Records`) read from their file as they go."""
    feeds = manifest["feeds"]
    if not isinstance(feeds, Records):
        yield json.dumps(manifest, **_COMPACT).encode() + b"\n"  # type: ignore[arg-type]
        return
    # The keys sorted before "feeds", then its records, then the keys sorted after it.
    before = json.dumps({k: v for k, v in manifest.items() if k < "feeds"}, **_COMPACT).encode()  # type: ignore[arg-type]
    after = json.dumps({k: v for k, v in manifest.items() if k > "feeds"}, **_COMPACT).encode()  # type: ignore[arg-type]
    pending = [b"{" + (before[1:-1] + b"," if before != b"{}" else b"") + b'"feeds":{']
    length = 0
    for i, name in enumerate(feeds):
        pending.append((b"," if i else b"") + json.dumps(name).encode() + b":" + feeds[name])
        length += len(pending[-1])
        if length >= size:
            yield b"".join(pending)
            pending, length = [], 0
    pending.append(b"}" + (b"," + after[1:] if after != b"{}" else b"}") + b"\n")
    yield b"".join(pending)


def records(manifest: dict[str, Any] | None) -> dict[str, FeedRecord]:
    """The readable feed records of a manifest (an unreadable one is left out: rebuilt)."""
    found: dict[str, FeedRecord] = {}
    feeds = manifest.get("feeds") if manifest else None
    if not isinstance(feeds, dict):
        return found
    for name, data in feeds.items():
        try:
            found[name] = FeedRecord.from_json(data)
        except (KeyError, TypeError, ValueError):
            continue
    return found


def fingerprint(settings: FeedSettings) -> str:
    data = {"format": FORMAT, "version": __version__, "settings": settings.fingerprint()}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def usable(reader: Reader, manifest: dict[str, Any] | None, fingerprint: str) -> bool:
    """Whether the previous build can be built on: same settings and format, and built from
    a prefix of this log (the root of the log's tree up to its position is the same)."""
    if not manifest or manifest.get("fingerprint") != fingerprint:
        return False
    head = manifest.get("head")
    if head is None:
        return True
    if head["position"] > reader.position:
        return False
    now = reader.head(head["position"])
    return bool(now and now["hash"] == head["hash"])


def removed(old: dict[str, FeedRecord], new: dict[str, FeedRecord], still_usable: bool) -> list[str]:
    """Files of the previous build this one no longer has. A feed's files only grow while
    the manifest stays usable, so then only feeds that disappeared are looked at."""
    gone: set[str] = set()
    for name, record in old.items():
        now = new.get(name)
        if still_usable and now is not None and now.path == record.path and now.archives >= record.archives:
            continue
        gone |= set(record.files()) - set(now.files() if now else ())
    return sorted(gone)

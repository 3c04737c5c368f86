"""Each development's feed entry made and written out once per build, for every feed that
holds it (the story's, each of its topics' and actors': about six) and both formats.

An entry is a function of the development's version (its `last_position` names it), the
build's settings and the actor registry, all fixed for one build. Once made, its Atom and
RSS text (`feeds.xml_text`) and the few fields a document still reads (`updated`, the
tombstone) go to a `feeds.spool.Keyed` file by that position; the other feeds read them
back instead of making the entry again. An entry the text writer cannot write (see
`feeds.xml_text.render`) is not kept: its documents go to feedgen from whole entries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from feeds import xml_text
from feeds.actors import follow_registry
from feeds.entries import Entry, Tombstone, entry
from feeds.settings import FeedSettings
from feeds.spool import Keyed
from timeline.reading import Registry


class Entries:
    """The entries of one build. With `shared`, each is made once and read back after."""

    def __init__(self, settings: FeedSettings, registry: Registry, shared: bool = True) -> None:
        self.settings, self.registry = settings, registry
        self._kept = Keyed() if shared else None

    @property
    def shared(self) -> bool:
        return self._kept is not None

    def whole(self, doc: dict[str, Any]) -> Entry:
        return follow_registry(entry(doc, self.settings), doc, self.registry, self.settings)

    def of(self, doc: dict[str, Any]) -> Entry | xml_text.Written:
        if self._kept is None:
            return self.whole(doc)
        position = int(doc["last_position"])
        kept = self._kept.get(position)
        if kept is not None and kept[0] == doc["id"]:
            _, updated, stone, atom, rss = kept
            tombstone = Tombstone(stone[0], datetime.fromisoformat(stone[1]), stone[2]) if stone else None
            return xml_text.Written(doc["id"], datetime.fromisoformat(updated), tombstone, atom, rss)
        e = self.whole(doc)
        written = xml_text.written(doc["id"], e)
        if written is None:
            return e
        t = written.tombstone
        stone = (t.ref, t.when.isoformat(), t.comment) if t else None
        self._kept.put(position, (doc["id"], written.updated.isoformat(), stone, written.atom, written.rss))
        return written

    def close(self) -> None:
        if self._kept is not None:
            self._kept.close()

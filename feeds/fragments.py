"""A development's part of a page (`development.html`) rendered once per build for every
page that shows it: the story's, its kind's, each of its topics' and actors' (about six)
and its own page.

The part reads four names (`READS`, held by a test to the template): the development's
item (`it`: its version, which its `last_position` names, and its bar), whether it links
its own page and from which folder (`permalink`, `root`), and the kinds' labels, the
same on every page. The bar (where the period sits on the page's axis) and the folder are
the page's own. So the part is rendered once per version, with a mark where each of the
bar's three values and the folder go, and kept on disk (`feeds.spool.Keyed`); every page
puts its own values in.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from feeds.spool import Keyed

READS = frozenset({"it", "permalink", "root", "kind_labels"})
# U+0000 is in no stored text (XML does not allow it), so a mark cannot meet a value.
_MARKS = {"x": "\x00x\x00", "width": "\x00w\x00", "fill": "\x00f\x00", "root": "\x00r\x00"}


def render(template: Any, names: dict[str, Any]) -> str:
    """The part as the template writes it, given only what it reads."""
    return template.render({k: names[k] for k in READS})  # type: ignore[no-any-return]


class Fragments:
    """One build's parts, by whether they link their own page and have a bar, then position."""

    def __init__(self) -> None:
        self._kept: dict[tuple[bool, bool], Keyed] = {}

    def part(self, template: Any, names: dict[str, Any]) -> Markup:
        it = names["it"]
        bar = it.get("bar")
        permalink = bool(names["permalink"])
        values = {**(bar if bar else {}), **({"root": names["root"]} if permalink else {})}
        key = (permalink, bar is not None)
        kept = self._kept.get(key)
        if kept is None:
            kept = self._kept[key] = Keyed()
        doc = it["doc"]
        position = int(doc["last_position"])
        found = kept.get(position)
        if found is not None and found[0] == doc["id"]:
            text = found[1]
        else:
            marked = {**names, "it": {**it, "bar": {k: _MARKS[k] for k in bar}} if bar else it}
            if permalink:
                marked["root"] = _MARKS["root"]
            text = render(template, marked)
            if any(text.count(_MARKS[k]) != 1 for k in values):
                return Markup(render(template, names))  # a part these marks cannot stand in for: not kept
            kept.put(position, (doc["id"], text))
        for k, value in values.items():
            text = text.replace(_MARKS[k], escape(value))
        return Markup(text)

    def close(self) -> None:
        for kept in self._kept.values():
            kept.close()

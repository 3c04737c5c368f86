"""The whole story's pledge ledger on the pages, without a row per pledge in memory.

At a million events the story has some 220,000 donor → recipient pairs (nearly one per
pledge) and `ledger.html` is some 95 MB: holding the ledger whole, its chart's rows and the
page was most of a build's peak memory. Here the story's ledger is its small tables
(by currency, by instrument, the packages and discrepancies) plus the donor → recipient
rows, which the views sort (`Reader.ledger_amounts`) and `events.ledger.pair_totals` adds
up one pair at a time, read once into files (`feeds.spool.Rows`) and from there for each
use: the table, the chart (twice: its scale, then its bars) and the largest rows a story
page shows.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from events.ledger import Ledger, LedgerPledge, pair_totals
from feeds.ledger_chart import ledger_svg_chunks
from feeds.spool import Rows

if TYPE_CHECKING:
    from timeline.reading import Reader

CHART = 10  # rows per table and currency in a page's ledger chart; ledger.html has all

# What `events.ledger` reads of a pledge's fields (tests/feeds/test_page_memory.py checks it).
_LEDGER_FIELDS = ("amount", "donor", "recipient", "instrument", "part_of", "equivalents")


def ledger_pledge(doc: dict[str, Any]) -> LedgerPledge:
    """A pledge as `queries.pledge_ledger` makes it, with only the fields the ledger reads."""
    fields = doc["fields"]
    kept = {k: fields[k] for k in _LEDGER_FIELDS if k in fields}
    return LedgerPledge(doc["id"], doc["title"], kept, doc["retracted"] is not None)


@dataclass(frozen=True)
class Shown:
    """A set's ledger as its newest page shows it: at most `CHART` rows per table and
    currency (`trim_ledger`), how many were left out, and `key`, what the page's signature
    reads of the whole ledger (the ledger itself, or a digest of it)."""

    ledger: dict[str, Any]
    omitted: int
    key: Any

    @classmethod
    def of(cls, ledger: dict[str, Any]) -> Shown:
        shown, omitted = trim_ledger(ledger)
        return cls(shown, omitted, ledger)


def trim_ledger(
    ledger: dict[str, Any], limit: int = CHART, pairs: Iterable[dict[str, Any]] | None = None
) -> tuple[dict[str, Any], int]:
    """The ledger with at most `limit` rows per table and currency (the largest, by the
    least they can be; ties: the first), packages that disagree with their parts first;
    and how many rows were left out. `pairs` are its donor → recipient rows when the
    ledger does not hold them: read once, keeping `limit` per currency."""
    out = dict(ledger)
    omitted = 0
    for table in ("by_donor_recipient", "by_instrument"):
        rows = pairs if table == "by_donor_recipient" and pairs is not None else ledger[table]
        keep, left_out = _largest(rows, limit)
        omitted += left_out
        out[table] = sorted(
            keep, key=lambda r: [str(r.get(k, "")) for k in ("donor", "recipient", "instrument", "currency")]
        )
    packages = sorted(ledger["packages"], key=lambda p: not p["mismatch"])
    out["packages"] = packages[:limit]
    omitted += max(0, len(packages) - limit)
    out["discrepancies"] = ledger["discrepancies"][:limit]
    return out, omitted


def _largest(rows: Iterable[dict[str, Any]], limit: int) -> tuple[list[dict[str, Any]], int]:
    """Per currency (in currency order), its `limit` rows with the largest least amount,
    largest first, ties in the order given (as a stable sort keeps them); and how many
    rows were left out."""
    heaps: dict[str, list[tuple[Decimal, int, dict[str, Any]]]] = {}
    omitted = 0
    for i, r in enumerate(rows):
        heap = heaps.setdefault(r["currency"], [])
        item = (Decimal(r["at_least"]), -i, r)  # -i is unique: rows are never compared
        if len(heap) < limit:
            heapq.heappush(heap, item)
        else:
            omitted += 1
            if heap:
                heapq.heappushpop(heap, item)  # the least (of those, the latest) goes
    keep: list[dict[str, Any]] = []
    for cur in sorted(heaps):
        keep += [r for _, _, r in sorted(heaps[cur], key=lambda t: (-t[0], -t[1]))]
    return keep, omitted


class StoryLedger:
    """The ledger of every pledge of the story: its small tables held (`summary`, whose
    donor → recipient table is empty), its donor → recipient rows read from the views once
    and kept on disk (`pairs`), in the table's order and, a file per currency, the chart's.

    Read once, not once a pass: a views catch-up by another process between two passes
    (a new currency, a new pair) made the chart's passes disagree (its height, a currency
    missing from its layout) and the page's tables disagree with each other."""

    def __init__(self, reader: Reader, summary: dict[str, Any]) -> None:
        self.reader, self.summary = reader, summary
        self._by_pair: Rows | None = None
        self._by_currency: dict[str, Rows] = {}

    @classmethod
    def of(cls, reader: Reader, docs: Iterable[dict[str, Any]]) -> StoryLedger | None:
        """From the story's pledges among `docs` (None when there are none)."""
        ledger = Ledger(named=reader.ledger_part_of(), pairs=False)
        seen = 0
        for d in docs:
            if d["kind"] == "pledge":
                ledger.add(ledger_pledge(d))
                seen += 1
        return cls(reader, ledger.result()) if seen else None

    def pairs(self, order: str = "pair") -> Iterator[dict[str, Any]]:
        """The donor → recipient rows, in the table's order ("pair": donor, recipient,
        currency) or the chart's ("currency": currency, donor, recipient)."""
        if self._by_pair is None:
            self._by_pair = Rows()
            for row in pair_totals(self.reader.ledger_amounts("pair"), "pair"):
                self._by_pair.append(row)
                # In pair order, each currency's rows come in (donor, recipient) order.
                self._by_currency.setdefault(row["currency"], Rows()).append(row)
        if order == "pair":
            return iter(self._by_pair)
        return (row for cur in sorted(self._by_currency) for row in self._by_currency[cur])

    def shown(self, limit: int = CHART) -> Shown:
        """What a story page shows, keyed by a digest of the whole ledger."""
        digest = hashlib.sha256(json.dumps(self.summary, sort_keys=True).encode())

        def hashed() -> Iterator[dict[str, Any]]:
            for row in self.pairs():
                digest.update(json.dumps(row, sort_keys=True).encode())
                yield row

        shown, omitted = trim_ledger(self.summary, limit, hashed())
        return Shown(shown, omitted, {"ledger": digest.hexdigest()})

    def page(self) -> dict[str, Any]:
        """What `ledger.html` renders: the ledger with its rows streamed, and the chart."""
        ledger = {**self.summary, "by_donor_recipient": self.pairs()}
        return {"ledger": ledger, "ledger_svg": ledger_svg_chunks(self.summary, lambda: self.pairs("currency"))}

"""The pledge ledger: totals and package checks over pledges, with amounts as reported.

No invented exchange rates. Totals by donor and recipient, by currency and by instrument
leave out retracted pledges and parts of packages (a package counts once, as reported). A
bound ("up to", "at least") or a range is never added as if exact: a total is the least and
the most its amounts can add up to (`Total`). Each package is compared with the sum of its
parts, per currency, counting a part in another currency through the equivalent its report
gave, where it gave one.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from events.money import Money, Total, plain_digits

__all__ = ["PAIR_ORDERS", "Ledger", "LedgerPledge", "pair_totals", "pledge_ledger"]


@dataclass(frozen=True)
class LedgerPledge:
    """One pledge as the ledger reads it: its id, title, current fields (in their stored,
    primitive form) and whether it is retracted."""

    id: str
    title: str
    fields: Mapping[str, Any]
    retracted: bool = False


_TABLES = {
    "by_donor_recipient": ("donor", "recipient"),
    "by_currency": (),
    "by_instrument": ("instrument",),
}


def pledge_ledger(entries: Iterable[LedgerPledge]) -> dict[str, Any]:
    """The ledger as plain, JSON-ready values (the shape `timeline ledger --json` prints)."""
    ledger = Ledger()
    for p in entries:
        ledger.add(p)
    return ledger.result()


class Ledger:
    """`pledge_ledger`, one pledge at a time: each table's totals are added up as pledges
    pass, so a set's ledger holds, per pledge, only its id, title and amount (a package's
    parts may come before or after it) and the parts of packages whole.

    Given `named` (every id a part's `part_of` names), it keeps those of the pledges named
    only, not one per pledge. Without `pairs` it leaves the donor → recipient table empty:
    a caller that streams it sorted (`pair_totals`) need not hold a row per pair."""

    def __init__(self, named: Collection[str] | None = None, pairs: bool = True) -> None:
        # key -> [least, most (None: no upper limit), approximate], per table
        self._sums: dict[str, dict[tuple[str, ...], list[Any]]] = {table: {} for table in _TABLES}
        self._seen: dict[str, tuple[str, str]] = {}  # id -> (title, amount as JSON), in pledge order
        self._parts: list[LedgerPledge] = []  # pledges naming a package, whether or not it is recorded
        self._named = named
        self._pairs = pairs

    def add(self, p: LedgerPledge) -> None:
        if p.retracted:
            return
        f = p.fields
        if self._named is None or p.id in self._named:
            self._seen[p.id] = (p.title, json.dumps(f["amount"]))
        if f.get("part_of"):
            self._parts.append(p)  # counted at the end, if its package is not recorded
        else:
            self._count(f)

    def _count(self, f: Mapping[str, Any]) -> None:
        money = Money.from_primitive(f["amount"])
        keys = {
            "by_currency": (money.currency,),
            "by_instrument": (f.get("instrument", "other"), money.currency),
        }
        if self._pairs:
            keys["by_donor_recipient"] = (f["donor"], f["recipient"], money.currency)
        for table, key in keys.items():
            _add(self._sums[table], key, money)

    def result(self) -> dict[str, Any]:
        seen = self._seen
        parts_of: dict[str, list[LedgerPledge]] = defaultdict(list)
        for part in self._parts:
            parts_of[part.fields["part_of"]].append(part)
        for part in self._parts:
            if part.fields["part_of"] not in seen:
                self._count(part.fields)
        packages = []
        discrepancies: list[dict[str, Any]] = []
        for pkg_id, (title, amount) in seen.items():
            parts = parts_of.get(pkg_id)
            if not parts:
                continue
            comparison = _compare_package(pkg_id, title, json.loads(amount), parts)
            packages.append(comparison)
            if comparison["mismatch"]:
                reported_text = Money.from_primitive(comparison["reported"]).humane()
                parts_text = Total.from_primitive(comparison["parts_total"]).humane()
                discrepancies.append(
                    {
                        "kind": "package-parts-mismatch",
                        "package": pkg_id,
                        "title": title,
                        "message": (
                            f"package “{title}” reported as {reported_text}; "
                            f"its parts as reported add up to {parts_text}"
                        ),
                        "reported": comparison["reported"],
                        "parts_total": comparison["parts_total"],
                        "currency": comparison["currency"],
                    }
                )
        missing = sorted(pkg for pkg in parts_of if pkg not in seen)
        discrepancies += [
            {
                "kind": "missing-package",
                "package": p,
                "message": f"parts name package {p}, which is not recorded (or retracted)",
            }
            for p in missing
        ]
        tables = {
            table: [
                {**dict(zip(names, key[:-1], strict=True)), **Total(key[-1], low, high, approx).to_primitive()}
                for key, (low, high, approx) in sorted(self._sums[table].items())
            ]
            for table, names in _TABLES.items()
        }
        return {**tables, "packages": packages, "discrepancies": discrepancies}


def _add(sums: dict[tuple[str, ...], list[Any]], key: tuple[str, ...], money: Money) -> None:
    found = sums.get(key)
    if found is None:
        sums[key] = [money.low, money.high, money.approximate]
    else:
        found[0] += money.low
        found[1] = None if found[1] is None or money.high is None else found[1] + money.high
        found[2] = found[2] or money.approximate


# The orders `pair_totals` reads pledges in: by (donor, recipient, currency), the table's;
# by (currency, donor, recipient), the chart's (a block of bars per currency).
PAIR_ORDERS: dict[str, Callable[[Mapping[str, Any], str], tuple[str, str, str]]] = {
    "pair": lambda f, cur: (f["donor"], f["recipient"], cur),
    "currency": lambda f, cur: (cur, f["donor"], f["recipient"]),
}


def pair_totals(pledges: Iterable[Mapping[str, Any]], order: str = "pair") -> Iterator[dict[str, Any]]:
    """The donor → recipient table (`Ledger.result()["by_donor_recipient"]`'s rows), one row
    at a time, from the fields (donor, recipient, amount) of the pledges it counts (not
    retracted, not a part of a recorded package) sorted in `order` (`PAIR_ORDERS`): each
    pair's pledges come together, so only one pair's sum is held. Pledges out of that
    order are refused (a row would be split)."""
    key_of = PAIR_ORDERS[order]
    sums: dict[tuple[str, ...], list[Any]] = {}
    last: tuple[str, ...] | None = None
    for f in pledges:
        money = Money.from_primitive(f["amount"])
        key = key_of(f, money.currency)
        if last is not None and key != last:
            if key < last:
                raise ValueError(f"pledges not in {order} order: {key!r} after {last!r}")
            yield _pair_row(last, sums.pop(last), order)
        last = key
        _add(sums, key, money)
    if last is not None:
        yield _pair_row(last, sums.pop(last), order)


def _pair_row(key: tuple[str, ...], total: list[Any], order: str) -> dict[str, Any]:
    donor, recipient, currency = key if order == "pair" else (key[1], key[2], key[0])
    low, high, approx = total
    return {"donor": donor, "recipient": recipient, **Total(currency, low, high, approx).to_primitive()}


def _compare_package(pkg_id: str, title: str, amount: dict[str, Any], parts: list[LedgerPledge]) -> dict[str, Any]:
    reported = Money.from_primitive(amount)
    currency = reported.currency
    counted: list[Money] = []
    part_rows, unconverted = [], []
    for part in parts:
        f = part.fields
        candidates = [f["amount"], *f.get("equivalents", [])]
        match = next((m for m in candidates if m["currency"] == currency), None)
        if match is None:
            unconverted.append(part.id)
        else:
            counted.append(Money.from_primitive(match))
        part_rows.append({"id": part.id, "title": part.title, "amount": f["amount"], "counted_as": match})
    total = Total.of(currency, counted)
    stated = Total.of(currency, [reported])
    # Where bounds are involved, the two disagree only if they cannot be the same figure.
    overlap = (stated.high is None or total.low <= stated.high) and (total.high is None or stated.low <= total.high)
    exact = total.exact and stated.exact
    return {
        "id": pkg_id,
        "title": title,
        "currency": currency,
        "reported": reported.to_primitive(),
        "parts_total": total.to_primitive(),
        "difference": plain_digits(total.low - stated.low) if exact else None,
        "mismatch": (total.low != stated.low) if exact else not overlap,
        "approximate": total.approximate or stated.approximate,
        "parts": part_rows,
        "parts_without_equivalent": unconverted,
    }

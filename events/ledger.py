"""The pledge ledger: totals and package checks over pledges, with amounts as reported.

No invented exchange rates. Totals by donor and recipient, by currency and by instrument
leave out retracted pledges and parts of packages (a package counts once, as reported). A
bound ("up to", "at least") or a range is never added as if exact: a total is the least and
the most its amounts can add up to (`Total`). Each package is compared with the sum of its
parts, per currency, counting a part in another currency through the equivalent its report
gave, where it gave one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from events.money import Money, Total, plain_digits

__all__ = ["LedgerPledge", "pledge_ledger"]


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
    pledges = [p for p in entries if not p.retracted]
    by_id = {p.id: p for p in pledges}
    amounts: dict[str, dict[tuple[str, ...], list[Money]]] = {table: defaultdict(list) for table in _TABLES}
    for p in pledges:
        f = p.fields
        if f.get("part_of") in by_id:
            continue
        money = Money.from_primitive(f["amount"])
        amounts["by_donor_recipient"][(f["donor"], f["recipient"], money.currency)].append(money)
        amounts["by_currency"][(money.currency,)].append(money)
        amounts["by_instrument"][(f.get("instrument", "other"), money.currency)].append(money)
    packages = []
    discrepancies: list[dict[str, Any]] = []
    parts_of: dict[str, list[LedgerPledge]] = defaultdict(list)  # one pass, not one per package
    for p in pledges:
        if p.fields.get("part_of"):
            parts_of[p.fields["part_of"]].append(p)
    for pkg in pledges:
        parts = parts_of.get(pkg.id, [])
        if not parts:
            continue
        comparison = _compare_package(pkg, parts)
        packages.append(comparison)
        if comparison["mismatch"]:
            reported_text = Money.from_primitive(comparison["reported"]).humane()
            parts_text = Total.from_primitive(comparison["parts_total"]).humane()
            discrepancies.append(
                {
                    "kind": "package-parts-mismatch",
                    "package": pkg.id,
                    "title": pkg.title,
                    "message": (
                        f"package “{pkg.title}” reported as {reported_text}; "
                        f"its parts as reported add up to {parts_text}"
                    ),
                    "reported": comparison["reported"],
                    "parts_total": comparison["parts_total"],
                    "currency": comparison["currency"],
                }
            )
    missing = sorted(
        {p.fields["part_of"] for p in pledges if p.fields.get("part_of") and p.fields["part_of"] not in by_id}
    )
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
            {**dict(zip(names, key[:-1], strict=True)), **Total.of(key[-1], found).to_primitive()}
            for key, found in sorted(amounts[table].items())
        ]
        for table, names in _TABLES.items()
    }
    return {**tables, "packages": packages, "discrepancies": discrepancies}


def _compare_package(pkg: LedgerPledge, parts: list[LedgerPledge]) -> dict[str, Any]:
    reported = Money.from_primitive(pkg.fields["amount"])
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
        "id": pkg.id,
        "title": pkg.title,
        "currency": currency,
        "reported": reported.to_primitive(),
        "parts_total": total.to_primitive(),
        "difference": plain_digits(total.low - stated.low) if exact else None,
        "mismatch": (total.low != stated.low) if exact else not overlap,
        "approximate": total.approximate or stated.approximate,
        "parts": part_rows,
        "parts_without_equivalent": unconverted,
    }

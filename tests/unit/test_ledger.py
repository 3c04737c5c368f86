"""The pledge ledger's arithmetic, on plain pledges: no database, no projection."""

from __future__ import annotations

from typing import Any

from events.ledger import LedgerPledge, pledge_ledger
from events.money import Money


def pledge(pid: str, amount: str, part_of: str | None = None, retracted: bool = False, **fields: Any) -> LedgerPledge:
    f: dict[str, Any] = {"donor": "Japan", "recipient": "Cambodia", "amount": Money.parse(amount).to_primitive()}
    if part_of:
        f["part_of"] = part_of
    f["equivalents"] = [Money.parse(e).to_primitive() for e in fields.pop("equivalents", [])]
    return LedgerPledge(pid, f"Pledge {pid}", {**f, **fields}, retracted)


def test_a_package_counts_once_and_is_checked_against_its_parts() -> None:
    ledger = pledge_ledger([
        pledge("pkg", "$10 million", instrument="package"),
        pledge("a", "$4 million", "pkg", instrument="grant"),
        pledge("b", "¥800 million", "pkg", equivalents=["$5 million"]),
        pledge("c", "€1 million", "pkg"),
    ])  # fmt: skip
    assert ledger["by_currency"] == [
        {"currency": "USD", "total": "10000000", "at_least": "10000000", "up_to": "10000000", "approximate": False}
    ]
    assert [r["instrument"] for r in ledger["by_instrument"]] == ["package"]
    (package,) = ledger["packages"]
    assert package["parts_total"]["total"] == "9000000" and package["difference"] == "-1000000"
    assert package["mismatch"] is True and package["parts_without_equivalent"] == ["c"]
    assert [p["counted_as"] for p in package["parts"]] == [
        {"amount": "4000000", "currency": "USD"}, {"amount": "5000000", "currency": "USD"}, None
    ]  # fmt: skip
    (discrepancy,) = ledger["discrepancies"]
    assert (
        discrepancy["message"]
        == "package “Pledge pkg” reported as USD 10 million; its parts as reported add up to USD 9 million"
    )


def test_bounds_and_ranges_are_never_added_as_if_exact() -> None:
    ledger = pledge_ledger([
        pledge("p1", "up to $10 million"), pledge("p2", "$3-4 million"), pledge("p3", "at least $1 million",
                                                                               recipient="Laos"),
    ])  # fmt: skip
    rows = {r["recipient"]: r for r in ledger["by_donor_recipient"]}
    assert rows["Cambodia"] == {"donor": "Japan", "recipient": "Cambodia", "currency": "USD", "total": None,
                                "at_least": "3000000", "up_to": "14000000", "approximate": False}  # fmt: skip
    assert rows["Laos"]["at_least"] == "1000000" and rows["Laos"]["up_to"] is None
    (usd,) = ledger["by_currency"]
    assert (usd["total"], usd["at_least"], usd["up_to"]) == (None, "4000000", None)


def test_a_package_with_a_bound_disagrees_only_when_it_cannot_be_the_same_figure() -> None:
    within = pledge_ledger([pledge("pkg", "up to $10 million"), pledge("a", "$6 million", "pkg")])
    assert within["packages"][0]["mismatch"] is False and within["packages"][0]["difference"] is None
    assert within["discrepancies"] == []
    beyond = pledge_ledger([pledge("pkg", "up to $10 million"), pledge("a", "$11 million", "pkg")])
    assert beyond["packages"][0]["mismatch"] is True
    assert beyond["discrepancies"][0]["message"] == (
        "package “Pledge pkg” reported as up to USD 10 million; its parts as reported add up to USD 11 million"
    )


def test_retracted_pledges_leave_the_totals_and_their_parts_name_a_missing_package() -> None:
    ledger = pledge_ledger([pledge("pkg", "$10 million", retracted=True), pledge("a", "$4 million", "pkg")])
    assert [r["total"] for r in ledger["by_currency"]] == ["4000000"]
    assert ledger["packages"] == []
    assert ledger["discrepancies"] == [
        {
            "kind": "missing-package",
            "package": "pkg",
            "message": "parts name package pkg, which is not recorded (or retracted)",
        }
    ]


def test_parts_before_their_package_and_parts_without_one_give_the_same_ledger() -> None:
    pkg = pledge("pkg", "$10 million", instrument="package")
    parts = [pledge("a", "up to $4 million", "pkg"), pledge("b", "¥800 million", "pkg", equivalents=["$5 million"])]
    orphans = [pledge("x", "at least $2 million", "gone"), pledge("y", "about $1 million", "gone")]
    others = [pledge("o", "$3 million"), pledge("p", "$1 million", instrument="loan")]
    first = pledge_ledger([pkg, *parts, *orphans, *others])
    assert pledge_ledger([*parts, others[0], *orphans, pkg, others[1]]) == first
    assert [r["instrument"] for r in first["by_instrument"]] == ["loan", "other", "package"]
    other = next(r for r in first["by_instrument"] if r["instrument"] == "other")
    assert (other["at_least"], other["up_to"], other["approximate"]) == ("6000000", None, True)  # 3 + orphans 2+ and ~1
    assert [d["kind"] for d in first["discrepancies"]] == ["package-parts-mismatch", "missing-package"]  # 9 is not 10


def test_the_ledger_keeps_no_pledge_whole_but_the_parts_of_packages() -> None:
    import tracemalloc

    def pledges(n: int) -> Any:
        for i in range(n):
            yield pledge(f"synthetic/pledge/{i}", f"${i}.5 million", donor=f"Donor {i % 50}", recipient=f"R {i % 7}")

    tracemalloc.start()
    try:
        pledge_ledger(pledges(20_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20_000 * 600  # held whole, with a Money per table: 1.2 KB each

"""The pledge ledger as an inline SVG bar chart, made on the server.

Amounts stay in the currency they were reported in: each currency has its own scale and
its own block of bars, so no bar is ever compared with one in another currency. A
package is drawn against the sum of its parts (each part a segment, counted through the
equivalent its report gave), and a difference is called out in words. An approximate
amount is drawn with a dashed outline; a bound ("up to") as an outline with no fill.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any

import jinja2

from events.money import Money, Total

WIDTH = 680
LABEL = 300  # the left column, for the row's words
BAR = WIDTH - LABEL - 190  # the longest bar; its figure is written after it
ROW = 22


def _total_text(t: dict[str, Any]) -> str:
    return Total.from_primitive(t).humane()


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(loader=jinja2.PackageLoader("feeds", "templates"), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)  # fmt: skip
    return env.get_template("ledger.svg")


def _range(t: dict[str, Any]) -> tuple[Decimal, Decimal | None]:
    """The least and the most a total (or one amount) can be; None: no upper bound."""
    up = t.get("up_to")
    return Decimal(t["at_least"]), (Decimal(up) if up is not None else None)


def _of_money(m: dict[str, Any]) -> dict[str, Any]:
    return Total.of(m["currency"], [Money.from_primitive(m)]).to_primitive()


def ledger_rows(ledger: dict[str, Any]) -> list[dict[str, Any]]:
    """The chart's rows, top to bottom: per currency, donor → recipient totals and
    instrument totals; then each package against its parts."""
    rows: list[dict[str, Any]] = []
    pkgs_all = [{**p, "reported_total": _of_money(p["reported"])} for p in ledger["packages"]]
    currencies = sorted({r["currency"] for r in ledger["by_donor_recipient"]} | {p["currency"] for p in pkgs_all})
    for cur in currencies:
        block = [r for r in ledger["by_donor_recipient"] if r["currency"] == cur]
        inst = [r for r in ledger["by_instrument"] if r["currency"] == cur]
        pkgs = [p for p in pkgs_all if p["currency"] == cur]
        totals = block + inst + [p["reported_total"] for p in pkgs] + [p["parts_total"] for p in pkgs]
        scale = max([Decimal(1)] + [hi if hi is not None else lo for lo, hi in map(_range, totals)])
        rows.append({"type": "heading", "text": f"In {cur} (as reported; not converted)"})
        for r in block:
            rows.append(_bar(f"{r['donor']} → {r['recipient']}", r, scale))
        for r in inst:
            rows.append(_bar(f"as {r['instrument']}", r, scale))
        for p in pkgs:
            rows.append(_bar(f"Package: {p['title']}", p["reported_total"], scale, "reported"))
            segments = []
            x = Decimal(0)
            for part in p["parts"]:
                counted = part["counted_as"]
                if counted is None:
                    continue
                low, _ = _range(_of_money(counted))
                segments.append({"x": _px(x, scale), "width": max(1, _px(low, scale)),
                                 "title": f"{part['title']}: {Money.from_primitive(counted).humane()}"})  # fmt: skip
                x += low
            row = _bar("  its parts as reported", p["parts_total"], scale, "parts")
            diff = p.get("difference")
            if not p["mismatch"]:
                note = "consistent with the package as reported"
            elif diff is not None:
                amount = Money.from_primitive({"amount": str(abs(Decimal(diff))), "currency": cur}).humane()
                note = f"{amount} {'more' if Decimal(diff) > 0 else 'less'} than the package as reported"
            else:
                note = "cannot add up to the package as reported"
            row.update(type="parts", segments=segments, note=note, discrepancy=bool(p["mismatch"]),
                       missing=len(p["parts_without_equivalent"]))  # fmt: skip
            rows.append(row)
    y = 0
    for r in rows:
        r["y"] = y
        y += ROW + (8 if r["type"] == "parts" else 0) + (6 if r["type"] == "heading" else 0)
    return rows


def _px(value: Decimal, scale: Decimal) -> int:
    return round(BAR * value / scale) if scale else 0


def _bar(label: str, total: dict[str, Any], scale: Decimal, role: str = "total") -> dict[str, Any]:
    """A filled bar up to the least the total can be, and an outline from there to the most
    (to the edge, fading, when it has no upper bound)."""
    low, high = _range(total)
    width = _px(low, scale)
    bound = BAR - width if high is None else _px(high, scale) - width
    return {"type": "bar", "label": label, "width": max(1, width) if low else 0, "bound": max(0, bound),
            "open": high is None, "value": _total_text(total), "approximate": bool(total.get("approximate")),
            "role": role}  # fmt: skip


def ledger_svg(ledger: dict[str, Any]) -> str:
    rows = ledger_rows(ledger)
    height = (rows[-1]["y"] + ROW * 2 + 8) if rows else ROW
    return _template().render(rows=rows, width=WIDTH, height=height, label=LABEL, bar=BAR, row=ROW)

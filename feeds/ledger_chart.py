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

from events import Money

WIDTH = 680
LABEL = 300  # the left column, for the row's words
BAR = WIDTH - LABEL - 20
ROW = 22


def _money(amount: str | Decimal, currency: str, approximate: bool = False) -> str:
    return Money.from_primitive({"amount": str(amount), "currency": currency, "approximate": approximate}).humane()


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(loader=jinja2.PackageLoader("feeds", "templates"), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)  # fmt: skip
    return env.get_template("ledger.svg")


def ledger_rows(ledger: dict[str, Any]) -> list[dict[str, Any]]:
    """The chart's rows, top to bottom: per currency, donor → recipient totals and
    instrument totals; then each package against its parts."""
    rows: list[dict[str, Any]] = []
    currencies = sorted(
        {r["currency"] for r in ledger["by_donor_recipient"]} | {p["currency"] for p in ledger["packages"]}
    )
    for cur in currencies:
        block = [r for r in ledger["by_donor_recipient"] if r["currency"] == cur]
        inst = [r for r in ledger["by_instrument"] if r["currency"] == cur]
        pkgs = [p for p in ledger["packages"] if p["currency"] == cur]
        scale = max(
            [Decimal(r["total"]) for r in block + inst]
            + [max(Decimal(p["reported"]), Decimal(p["parts_total"])) for p in pkgs]
            + [Decimal(1)]
        )
        rows.append({"type": "heading", "text": f"In {cur} (as reported; not converted)"})
        for r in block:
            rows.append(_bar(f"{r['donor']} → {r['recipient']}", Decimal(r["total"]), scale, cur, r["approximate"]))
        for r in inst:
            rows.append(_bar(f"as {r['instrument']}", Decimal(r["total"]), scale, cur, r["approximate"]))
        for p in pkgs:
            rows.append(
                _bar(f"Package: {p['title']}", Decimal(p["reported"]), scale, cur, p["approximate"], "reported")
            )
            segments = []
            x = Decimal(0)
            for part in p["parts"]:
                counted = part["counted_as"]
                if counted is None:
                    continue
                value = Decimal(counted["amount"])
                segments.append(
                    {
                        "x": _px(x, scale),
                        "width": _px(value, scale),
                        "title": f"{part['title']}: {_money(value, cur, bool(counted.get('approximate')))}",
                    }
                )
                x += value
            parts_total = Decimal(p["parts_total"])
            diff = Decimal(p["difference"])
            note = (
                "matches the package"
                if not diff
                else (f"{_money(abs(diff), cur)} {'more' if diff > 0 else 'less'} than the package as reported")
            )
            rows.append({
                "type": "parts", "label": "  its parts as reported", "segments": segments,
                "value": _money(parts_total, cur), "note": note, "discrepancy": bool(diff),
                "missing": len(p["parts_without_equivalent"]),
            })  # fmt: skip
    y = 0
    for r in rows:
        r["y"] = y
        y += ROW + (8 if r["type"] == "parts" else 0) + (6 if r["type"] == "heading" else 0)
    return rows


def _px(value: Decimal, scale: Decimal) -> int:
    return round(BAR * value / scale) if scale else 0


def _bar(
    label: str, value: Decimal, scale: Decimal, cur: str, approximate: bool, role: str = "total"
) -> dict[str, Any]:
    return {"type": "bar", "label": label, "width": max(1, _px(value, scale)), "value": _money(value, cur, approximate),
            "approximate": approximate, "role": role}  # fmt: skip


def ledger_svg(ledger: dict[str, Any]) -> str:
    rows = ledger_rows(ledger)
    height = (rows[-1]["y"] + ROW * 2 + 8) if rows else ROW
    return _template().render(rows=rows, width=WIDTH, height=height, label=LABEL, bar=BAR, row=ROW)

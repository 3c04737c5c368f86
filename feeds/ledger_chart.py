"""The pledge ledger as an inline SVG bar chart, made on the server.

Amounts stay in the currency they were reported in: each currency has its own scale and
its own block of bars, so no bar is ever compared with one in another currency. A
package is drawn against the sum of its parts (each part a segment, counted through the
equivalent its report gave), and a difference is called out in words. An approximate
amount is drawn with a dashed outline; a bound ("up to") as an outline with no fill.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
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


Pairs = Callable[[], Iterable[dict[str, Any]]]  # the donor → recipient rows, by (currency, donor, recipient)


def _in_memory(ledger: dict[str, Any]) -> Pairs:
    # The table's order is (donor, recipient, currency): a stable sort by currency gives the chart's.
    return lambda: sorted(ledger["by_donor_recipient"], key=lambda r: r["currency"])


def _top(t: dict[str, Any]) -> Decimal:
    lo, hi = _range(t)
    return hi if hi is not None else lo


class _Chart:
    """The chart's layout from a first pass over the donor → recipient rows (each
    currency's scale and row count); `rows()` reads them a second time, so neither pass
    holds more than one row of them."""

    def __init__(self, ledger: dict[str, Any], pairs: Pairs) -> None:
        self.pairs = pairs
        pkgs_all = [{**p, "reported_total": _of_money(p["reported"])} for p in ledger["packages"]]
        tops: dict[str, Decimal] = {}
        self.counts: dict[str, int] = {}
        for r in pairs():
            cur = r["currency"]
            tops[cur] = max(tops.get(cur, Decimal(1)), _top(r))
            self.counts[cur] = self.counts.get(cur, 0) + 1
        self.currencies = sorted(set(self.counts) | {p["currency"] for p in pkgs_all})
        self.inst = {cur: [r for r in ledger["by_instrument"] if r["currency"] == cur] for cur in self.currencies}
        self.pkgs = {cur: [p for p in pkgs_all if p["currency"] == cur] for cur in self.currencies}
        self.scales = {}
        last = y = 0
        for cur in self.currencies:
            pkgs = self.pkgs[cur]
            others = self.inst[cur] + [p["reported_total"] for p in pkgs] + [p["parts_total"] for p in pkgs]
            self.scales[cur] = max([tops.get(cur, Decimal(1))] + [_top(t) for t in others])
            last, y = y, y + ROW + 6  # the heading
            bars = self.counts.get(cur, 0) + len(self.inst[cur])
            if bars:
                last, y = y + (bars - 1) * ROW, y + bars * ROW
            for _ in pkgs:
                last, y = y + ROW, y + ROW + ROW + 8  # the package's bar, then its parts
        self.height = (last + ROW * 2 + 8) if self.currencies else ROW

    def rows(self) -> Iterator[dict[str, Any]]:
        """The chart's rows, top to bottom: per currency, donor → recipient totals and
        instrument totals; then each package against its parts."""
        pairs = iter(self.pairs())
        pending = next(pairs, None)
        y = 0
        for cur in self.currencies:
            scale = self.scales[cur]
            yield {"type": "heading", "text": f"In {cur} (as reported; not converted)", "y": y}
            y += ROW + 6
            while pending is not None and pending["currency"] == cur:
                yield {**_bar(f"{pending['donor']} → {pending['recipient']}", pending, scale), "y": y}
                y += ROW
                pending = next(pairs, None)
            for r in self.inst[cur]:
                yield {**_bar(f"as {r['instrument']}", r, scale), "y": y}
                y += ROW
            for p in self.pkgs[cur]:
                yield {**_bar(f"Package: {p['title']}", p["reported_total"], scale, "reported"), "y": y}
                y += ROW
                yield {**_parts_row(p, cur, scale), "y": y}
                y += ROW + 8
        if pending is not None:
            raise ValueError(f"donor → recipient rows not in currency order at {pending['currency']!r}")


def _parts_row(p: dict[str, Any], cur: str, scale: Decimal) -> dict[str, Any]:
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
    return row


def ledger_rows(ledger: dict[str, Any]) -> list[dict[str, Any]]:
    """The chart's rows of a ledger held whole."""
    return list(_Chart(ledger, _in_memory(ledger)).rows())


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
    return "".join(ledger_svg_chunks(ledger))


def ledger_svg_chunks(ledger: dict[str, Any], pairs: Pairs | None = None) -> Iterator[str]:
    """The chart as it is rendered, a piece at a time; `pairs` gives the donor → recipient
    rows in (currency, donor, recipient) order each time it is called (by default the
    ledger's own, which then may hold them), and is called twice."""
    chart = _Chart(ledger, pairs or _in_memory(ledger))
    return _template().generate(rows=chart.rows(), width=WIDTH, height=chart.height, label=LABEL, bar=BAR, row=ROW)

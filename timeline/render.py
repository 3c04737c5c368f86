"""Human-readable text for the terminal. JSON output never passes through here."""

from __future__ import annotations

from typing import Any

from events import KINDS, OccurredDate
from events.display import value_text
from events.money import Total


def render_line(doc: dict[str, Any]) -> str:
    occurred = doc["occurred"]
    mark = "  [RETRACTED]" if doc["retracted"] else ""
    return f"{occurred:<13} {doc['kind']:<10} {doc['title']}{mark}  ({doc['id'][:8]})"


def render_development(doc: dict[str, Any]) -> str:
    f = doc["fields"]
    lines = [
        doc["title"],
        f"  id:        {doc['id']}",
        f"  kind:      {doc['kind']}",
        f"  occurred:  {OccurredDate.from_canonical(doc['occurred']).humane()} ({doc['precision']} precision)",
    ]
    if f.get("place"):
        lines.append(f"  place:     {f['place']}")
    lines += [
        f"  topics:    {', '.join(doc['topics']) or '-'}",
        f"  actors:    {', '.join(doc['actors']) or '-'}",
        f"  recorded:  {doc['recorded']}  (updated {doc['updated']})",
    ]
    if f.get("summary"):
        lines.append(f"  summary:   {f['summary']}")
    lines += ["  " + line for line in KINDS[doc["kind"]].describe(f)]
    for s in f.get("sources", []):
        by = f" ({s['publisher']})" if s.get("publisher") else ""
        lines.append(f"  source:    {s['url']}{by}")
    for c in doc["corrections"]:
        changed = ", ".join(c["changes"])
        lines.append(f"  corrected: {c['recorded']}: {changed}; reason: {c['reason']}")
    if doc["retracted"]:
        lines.append(f"  RETRACTED: {doc['retracted']['recorded']}: {doc['retracted']['reason']}")
    return "\n".join(lines)


def render_state(data: dict[str, Any]) -> str:
    kinds = ", ".join(f"{n} {k}" for k, n in data["developments"].items()) or "none"
    lines = [f"Developments: {kinds} ({data['retracted']} retracted), log position #{data['position']}"]
    if data["head"]:
        lines.append(f"Log head: #{data['head']['position']}:{data['head']['hash']}")
    lines.append("Topics: " + (", ".join(f"{t['slug']} ({t['developments']})" for t in data["topics"]) or "none"))
    lines.append("Actors: " + (", ".join(f"{a['name']} ({a['developments']})" for a in data["actors"]) or "none"))
    lines += render_ledger(data["ledger"], data["discrepancies"])
    return "\n".join(lines)


def render_ledger(ledger: dict[str, Any], discrepancies: list[dict[str, Any]]) -> list[str]:
    """The pledge ledger as people read it: every total once, each discrepancy once."""
    lines = []
    if ledger["by_donor_recipient"]:
        lines.append("Pledges (amounts as reported; packages counted once, not with their parts):")
        for row in ledger["by_donor_recipient"]:
            lines.append(f"  {row['donor']} -> {row['recipient']}: {_total(row)}")
        lines.append("  by currency: " + "; ".join(_total(row) for row in ledger["by_currency"]))
        lines.append(
            "  by instrument: " + "; ".join(f"{row['instrument']}: {_total(row)}" for row in ledger["by_instrument"])
        )
    for pkg in ledger["packages"]:
        verdict = "DISCREPANCY: " if pkg["mismatch"] else ""
        lines.append(
            f"{verdict}package “{pkg['title']}” reported as {value_text('amount', pkg['reported'])}; "
            f"its parts as reported add up to {_total(pkg['parts_total'])}"
        )
    for d in discrepancies:
        if d["kind"] != "package-parts-mismatch":  # those are on their package's line
            lines.append(f"DISCREPANCY: {d['message']}")
    return lines


def _total(row: dict[str, Any]) -> str:
    return Total.from_primitive(row).humane()

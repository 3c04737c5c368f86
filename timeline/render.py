"""Human-readable text for the terminal. JSON output never passes through here."""

from __future__ import annotations

from typing import Any

from events import KINDS, OccurredDate
from events.display import value_text
from events.fields import source_text

# Wide enough for a closed range of days (2024-06-04/2024-06-05) and a time with its zone.
DATE_COLUMN = 22


def render_line(doc: dict[str, Any]) -> str:
    mark = "  [RETRACTED]" if doc["retracted"] else ""
    return f"{date_cell(doc['occurred']):<{DATE_COLUMN}} {doc['kind']:<10} {doc['title']}{mark}  ({doc['id'][:8]})"


def date_cell(occurred: str) -> str:
    """The stored date, compact: '2024-08-24T17:05:00+09:00' as '2024-08-24 17:05+09:00'."""
    day, sep, time = occurred.partition("T")
    if not sep:
        return occurred
    clock, zone = time[:8], time[8:]
    return f"{day} {clock[:5] if clock.endswith(':00') else clock}{zone}"


def plural(n: int, one: str, many: str | None = None) -> str:
    """'1 line', '2 lines', '1 development', '3 corrections'."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def short(dev_id: str) -> str:
    return dev_id[:8]


def _sourced(src: Any) -> str:
    return f" (source: {source_text(src)})" if src else ""


def render_development(doc: dict[str, Any], related: dict[str, Any] | None = None) -> str:
    f = doc["fields"]
    related = related or {}
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
        lines.append(_indented(f"  summary:   {f['summary']}", 13))
    lines += [_indented("  " + line, 3) for line in KINDS[doc["kind"]].describe(f)]
    if f.get("part_of"):
        package = related.get("package")
        what = f"{package['title']} ({short(package['id'])})" if package else f"{f['part_of']} (not recorded)"
        lines.append(f"  part of:   {what}")
    for part in related.get("parts", []):
        amount = value_text("amount", part["fields"]["amount"])
        mark = " [RETRACTED]" if part["retracted"] else ""
        lines.append(f"  part:      {part['title']} ({short(part['id'])}): {amount}{mark}")
    for s in f.get("sources", []):
        lines.append(f"  source:    {source_text(s)}")
    for c in doc["corrections"]:
        changed = ", ".join(c["changes"])
        lines.append(f"  corrected: {c['recorded']}: {changed}; reason: {c['reason']}{_sourced(c.get('source'))}")
    if doc["retracted"]:
        r = doc["retracted"]
        lines.append(f"  RETRACTED: {r['recorded']}: {r['reason']}{_sourced(r.get('source'))}")
    return "\n".join(lines)


def _indented(text: str, width: int) -> str:
    """A value with paragraphs, its later lines indented under its first."""
    return text.replace("\n", "\n" + " " * width)


def render_event(item: dict[str, Any]) -> str:
    """One stored event on one line, for `log` without --json:
    `#12     2024-07-07 10:00:00Z  Corrected    5a2180c8  amount; reason: ...`."""
    data = item["data"]
    event = item["event"]
    if event == "Reported":
        what = f"{data.get('kind')}: {data.get('fields', {}).get('title', '')}"
    elif event == "Corrected":
        what = f"{', '.join(data.get('changes', {}))}; reason: {data.get('reason')}{_sourced(data.get('source'))}"
    elif event == "Retracted":
        what = f"reason: {data.get('reason')}{_sourced(data.get('source'))}"
    elif event == "SourceAdded":
        what = source_text(data.get("source"))
    else:
        what = ", ".join(sorted(data))
    recorded = item["recorded"][:19].replace("T", " ") + "Z" if item["recorded"].endswith("Z") else item["recorded"]
    return f"#{item['position']:<6} {recorded}  {event:<12} {short(item['id'])}  {what}"


def import_summary(counts: dict[str, int]) -> str:
    """'1 new, 2 already there, 1 correction, 0 retractions, 1 source added (5 lines)'."""
    return (
        f"{counts['new']} new, {counts['existing']} already there, {plural(counts['corrections'], 'correction')}, "
        f"{plural(counts['retractions'], 'retraction')}, {plural(counts['sources'], 'source')} added "
        f"({plural(counts['lines'], 'line')})"
    )


def render_facets(rows: list[dict[str, Any]]) -> list[str]:
    """`topics` / `actors`: count, slug and (where it differs from the slug) the name, in
    columns as wide as the widest value."""
    if not rows:
        return []
    count_width = max(len(str(r["developments"])) for r in rows)
    slug_width = max(len(r["slug"]) for r in rows)
    out = []
    for r in rows:
        retracted = f" ({r['retracted']} retracted)" if r["retracted"] else ""
        name = f"  {r['name']}" if r["name"] != r["slug"] else ""
        out.append(f"{r['developments']:>{count_width}}  {r['slug']:<{slug_width}}{name}{retracted}".rstrip())
    return out


def render_state(data: dict[str, Any]) -> str:
    kinds = ", ".join(plural(n, k) for k, n in data["developments"].items()) or "none"
    lines = [f"Developments: {kinds} ({data['retracted']} retracted), log position #{data['position']}"]
    if data["head"]:
        lines.append(f"Log head: #{data['head']['size']}:{data['head']['hash']}")
    lines.append("Topics: " + (", ".join(f"{t['slug']} ({t['developments']})" for t in data["topics"]) or "none"))
    lines.append("Actors: " + (", ".join(f"{a['name']} ({a['developments']})" for a in data["actors"]) or "none"))
    lines += render_ledger(data["ledger"], data["discrepancies"])
    cp = data.get("checkpoint")
    if cp:
        how = f"signed by {cp['key']}" if cp["signed"] else "unsigned: no signing key, `timeline keys init` makes one"
        lines += [f"Checkpoint ({how}):", *(("  " + line).rstrip() for line in cp["text"].splitlines())]
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
    from events.money import Total  # on first use: an `add` shows no amount (see `events.Money`)

    return Total.from_primitive(row).humane()

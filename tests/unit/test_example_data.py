"""The example data for the first real story (Japan-Cambodia, July 2024) is valid and faithful."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

import events
from events import Money, development_id, read_report

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "japan-cambodia-2024.jsonl"
ARTICLE = ROOT.parent / "shared" / "seed" / "camboja-japan-cambodia-2024-07.txt"
PACKAGE_KEY = "japan-cambodia-2024/package"
SOURCE_URL = (
    "https://cambojanews.com/japan-offers-103m-aid-and-loan-to-cambodia-both-vow-to-strengthen-relations-cooperation/"
)


def raw_lines() -> list[dict]:
    lines = [line for line in EXAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def reports() -> list[events.Report]:
    return [read_report(raw) for raw in raw_lines()]


def usd(m: dict) -> Decimal:
    money = Money.from_primitive(m)
    assert money.currency == "USD"
    return money.amount


def test_every_line_is_a_valid_development() -> None:
    for n, raw in enumerate(raw_lines(), start=1):
        try:
            read_report(raw)
        except events.InvalidInput as e:  # pragma: no cover - the message is the point
            pytest.fail(f"line {n} ({raw.get('id')}): {e}")


def test_at_least_fourteen_developments_of_every_kind(reports) -> None:
    assert len(reports) >= 14
    assert {r.kind for r in reports} == {"visit", "pledge", "statement", "agreement"}


def test_ids_are_unique(reports) -> None:
    keys = [r.key for r in reports]
    assert len(set(keys)) == len(keys)
    assert len({r.id for r in reports}) == len(reports)


def test_every_development_names_the_article_and_no_invented_publication_date(reports) -> None:
    for r in reports:
        assert any(s["url"] == SOURCE_URL for s in r.fields["sources"]), r.key
        assert all("published" not in s for s in r.fields["sources"]), r.key


def test_the_visit(reports) -> None:
    (visit,) = [r for r in reports if r.kind == "visit"]
    assert visit.fields["occurred"] == "2024-07-06"
    assert visit.fields["place"] == "Phnom Penh"
    assert "Yoko Kamikawa" in visit.fields["visitors"]
    assert "Hun Manet" in visit.fields["hosts"]


def package_and_parts(reports) -> tuple[events.Report, list[events.Report]]:
    by_key = {r.key: r for r in reports}
    package = by_key[PACKAGE_KEY]
    parts = [r for r in reports if r.fields.get("part_of") == str(development_id(PACKAGE_KEY))]
    return package, parts


def test_the_package_is_103_million_dollars(reports) -> None:
    package, _ = package_and_parts(reports)
    assert package.kind == "pledge"
    assert package.fields["instrument"] == "package"
    assert Money.from_primitive(package.fields["amount"]) == Money(Decimal("103000000"), "USD")


def test_the_package_has_its_three_reported_parts(reports) -> None:
    _, parts = package_and_parts(reports)
    assert len(parts) == 3
    amounts = {}
    for p in parts:
        money = Money.from_primitive(p.fields["amount"])
        amounts[(money.currency, money.amount)] = p
    oda = amounts[("JPY", Decimal("8000000000"))]
    loan = amounts[("JPY", Decimal("8300000000"))]
    grant = amounts[("USD", Decimal("2700000"))]

    assert oda.fields["instrument"] == "oda"
    assert [Money.from_primitive(e) for e in oda.fields["equivalents"]] == [
        Money(Decimal("50000000"), "USD", approximate=True)
    ]
    assert "Phnom Penh City Transmission and Distribution System Expansion Project" in oda.fields["purpose"]

    assert loan.fields["instrument"] == "loan"
    loan_equivalents = [Money.from_primitive(e) for e in loan.fields["equivalents"]]
    assert loan_equivalents == [Money(Decimal("51500000"), "USD")]
    assert "National Road 5" in loan.fields["purpose"]

    assert grant.fields["instrument"] == "grant"
    assert "Human Resource Development Scholarship Project" in grant.fields["purpose"]


def test_the_parts_as_reported_add_to_104_2_million_not_103(reports) -> None:
    package, parts = package_and_parts(reports)
    total = Decimal(0)
    for p in parts:
        amount = p.fields["amount"]
        if amount["currency"] == "USD":
            total += usd(amount)
        else:
            (equivalent,) = [e for e in p.fields["equivalents"] if e["currency"] == "USD"]
            total += usd(equivalent)
    assert total == Decimal("104200000")
    assert total != usd(package.fields["amount"])


def test_the_aid_since_1994_keeps_its_open_date(reports) -> None:
    (history,) = [r for r in reports if r.fields["occurred"].startswith("1994")]
    assert history.fields["occurred"] == "1994/.."
    assert history.kind == "pledge"
    assert history.fields["donor"] == "Japan" and history.fields["recipient"] == "Cambodia"
    amount = Money.from_primitive(history.fields["amount"])
    assert amount == Money(Decimal("200000000"), "USD", approximate=True)


def test_the_2023_upgrade_keeps_its_year(reports) -> None:
    agreements = [r for r in reports if r.kind == "agreement"]
    (upgrade,) = [r for r in agreements if r.fields.get("agreement_type") == "partnership-upgrade"]
    assert upgrade.fields["occurred"] == "2023"
    assert set(upgrade.fields["parties"]) == {"Cambodia", "Japan"}
    assert "Comprehensive Strategic Partnership" in upgrade.fields["subject"]


def test_every_quote_is_verbatim_from_the_article(reports) -> None:
    if not ARTICLE.exists():
        pytest.skip(f"seed article not present at {ARTICLE} (it lives outside the repository)")
    article = ARTICLE.read_text(encoding="utf-8")
    quotes = [r.fields["quote"] for r in reports if r.fields.get("quote")]
    assert len(quotes) >= 8
    for q in quotes:
        assert q in article, f"not verbatim in the article: {q!r}"
        assert not q.startswith(("“", '"')) and not q.endswith(("”", '"')), f"quote marks kept: {q!r}"

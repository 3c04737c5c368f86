"""Money: amounts as reported, in Decimal and an ISO 4217 currency, never a float."""

from __future__ import annotations

from decimal import Decimal

import pytest

from events import InvalidInput, Money


@pytest.mark.parametrize(
    ("text", "amount", "currency", "approximate"),
    [
        ("8.3bn yen", "8300000000", "JPY", False),
        ("¥8 billion", "8000000000", "JPY", False),
        ("$51.5 million", "51500000", "USD", False),
        ("USD 2.7M", "2700000", "USD", False),
        ("about $50 million", "50000000", "USD", True),
        ("eight billion yen", "8000000000", "JPY", False),
        ("1,000.00 riel", "1000", "KHR", False),
        ("JPY 8.3 billion", "8300000000", "JPY", False),
        ("5 million USD", "5000000", "USD", False),
        ("HK$10m", "10000000", "HKD", False),
        ("approximately ¥8 billion", "8000000000", "JPY", True),
        ("$1,234.50", "1234.5", "USD", False),
    ],
)
def test_parse(text: str, amount: str, currency: str, approximate: bool) -> None:
    m = Money.parse(text)
    assert type(m.amount) is Decimal
    assert m.amount == Decimal(amount)
    assert m.amount_text == amount
    assert m.currency == currency
    assert m.approximate is approximate


def test_scaled_decimals_are_exact() -> None:
    # With floats 0.1 * 10**6 would be 100000.00000000001.
    assert Money.parse("$0.1 million").amount_text == "100000"
    assert Money.parse("$51.55 million").amount == Decimal(51550000)
    assert Money.parse("8.3bn yen").to_primitive()["amount"] == "8300000000"


def test_amount_is_never_a_float() -> None:
    for text in ("8.3bn yen", "$51.5 million", "USD 2.7M", "about $50 million", "eight billion yen"):
        m = Money.parse(text)
        assert isinstance(m.amount, Decimal)
        assert not isinstance(m.amount, float)
        assert isinstance(m.to_primitive()["amount"], str)
    for bad in (5.0, 5, "5"):
        with pytest.raises(InvalidInput):
            Money(bad, "USD")  # type: ignore[arg-type]


def test_a_numeric_json_amount_keeps_no_float_artefacts() -> None:
    # An import file is JSON, where {"amount": 2.7} arrives as a float. The stored amount
    # must be the reported 2.7, not the binary float's expansion: the number is refused, and
    # the same amount written as text is read exactly.
    with pytest.raises(InvalidInput) as info:
        Money.parse({"amount": 2.7, "currency": "USD"})  # type: ignore[arg-type]
    assert str(info.value) == 'write the amount as text ("2.7"), not a JSON number: floats lose digits'
    m = Money.parse({"amount": "2.7", "currency": "USD"})  # type: ignore[arg-type]
    assert m.amount == Decimal("2.7")
    assert m.to_primitive()["amount"] == "2.7"


@pytest.mark.parametrize("text", ["8.3bn yen", "about $50 million", "1,000.00 riel", "$1,234.50", "USD 0"])
def test_primitive_round_trip(text: str) -> None:
    m = Money.parse(text)
    data = m.to_primitive()
    assert all(not isinstance(v, float) for v in data.values())
    assert Money.from_primitive(data) == m
    assert Money.parse(data) == m  # type: ignore[arg-type]


def test_primitive_form() -> None:
    assert Money.parse("8.3bn yen").to_primitive() == {"amount": "8300000000", "currency": "JPY"}
    assert Money.parse("about $50 million").to_primitive() == {
        "amount": "50000000",
        "currency": "USD",
        "approximate": True,
    }


def test_humane() -> None:
    assert Money.parse("8.3bn yen").humane() == "JPY 8.3 billion"
    assert Money.parse("about $51.5 million").humane() == "about USD 51.5 million"
    assert Money.parse("1000 riel").humane() == "KHR 1,000"
    assert Money.parse("USD 1234567").humane() == "USD 1,234,567"
    assert Money.parse("$103 million").humane() == "USD 103 million"


@pytest.mark.parametrize(("text", "currency"), [("8 zorkmids", "zorkmids"), ("XYZ 5", "XYZ")])
def test_unknown_currency_is_named(text: str, currency: str) -> None:
    with pytest.raises(InvalidInput, match="currency") as info:
        Money.parse(text)
    assert currency in str(info.value)


def test_unknown_currency_code_in_constructor() -> None:
    with pytest.raises(InvalidInput, match="ZZZ"):
        Money(Decimal(5), "ZZZ")


@pytest.mark.parametrize(
    "text",
    [
        "-5 USD",
        "$-5",
        "USD -2.7M",
        "garbage",
        "",
        "   ",
        "$",
        "5",
        "5 million",
        "$5 EUR",
        "$ NaN",
        "$inf",
        "1e6 USD",
    ],
)
def test_bad_text_raises(text: str) -> None:
    with pytest.raises(InvalidInput):
        Money.parse(text)


@pytest.mark.parametrize("amount", ["-1", "-0.01", "NaN", "Infinity", "-Infinity"])
def test_negative_or_non_finite_amount_raises(amount: str) -> None:
    with pytest.raises(InvalidInput):
        Money(Decimal(amount), "USD")


@pytest.mark.parametrize(
    "data",
    [
        {"amount": "abc", "currency": "USD"},
        {"currency": "USD"},
        {"amount": "5"},
        {"amount": "5", "currency": "ZZZ"},
        {"amount": "-5", "currency": "USD"},
    ],
)
def test_bad_primitive_raises(data: dict) -> None:
    with pytest.raises(InvalidInput):
        Money.parse(data)  # type: ignore[arg-type]


def test_non_text_raises() -> None:
    with pytest.raises(InvalidInput):
        Money.parse(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        Money.parse(5.0)  # type: ignore[arg-type]

"""Amounts as written around the world: bounds and ranges, decimal marks and grouping,
currencies from CLDR (babel), ambiguity refused, and ledger totals over bounds."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events import InvalidInput, Money
from events.conventions import Conventions, reading
from events.money import BOUNDS, Total


def test_a_decimal_comma_is_not_a_thousands_separator() -> None:
    # Stored as EUR 55,000,000 before (issue 11).
    assert Money.parse("5,5 million euros").to_primitive() == {"amount": "5500000", "currency": "EUR"}


@pytest.mark.parametrize(
    ("text", "primitive"),
    [
        ("5,5 Mio. €", {"amount": "5500000", "currency": "EUR"}),
        ("1.234,5 EUR", {"amount": "1234.5", "currency": "EUR"}),
        ("1,234.5 USD", {"amount": "1234.5", "currency": "USD"}),
        ("1.234.567 EUR", {"amount": "1234567", "currency": "EUR"}),
        ("1,234,567 USD", {"amount": "1234567", "currency": "USD"}),
        ("EUR 1 234 567", {"amount": "1234567", "currency": "EUR"}),
        ("CHF 1'234'567", {"amount": "1234567", "currency": "CHF"}),
        ("EUR 1\u202f234,50", {"amount": "1234.5", "currency": "EUR"}),
        ("0,125 million USD", {"amount": "125000", "currency": "USD"}),
        ("INR 1,00,000", {"amount": "100000", "currency": "INR"}),
        ("₹5 crore", {"amount": "50000000", "currency": "INR"}),
        ("2,5 Mrd. €", {"amount": "2500000000", "currency": "EUR"}),
        ("Ksh 2 billion", {"amount": "2000000000", "currency": "KES"}),
        ("KSh 2 billion", {"amount": "2000000000", "currency": "KES"}),
        ("R$ 10 million", {"amount": "10000000", "currency": "BRL"}),
        ("US$2.7 million", {"amount": "2700000", "currency": "USD"}),
        ("JP¥8 billion", {"amount": "8000000000", "currency": "JPY"}),
        ("5 billion West African CFA francs", {"amount": "5000000000", "currency": "XOF"}),
        ("10 million Kenyan shillings", {"amount": "10000000", "currency": "KES"}),
        ("₦3 billion", {"amount": "3000000000", "currency": "NGN"}),
        ("up to 10 billion yen", {"amount": "10000000000", "currency": "JPY", "bound": "at-most"}),
        ("at least $5 million", {"amount": "5000000", "currency": "USD", "bound": "at-least"}),
        ("more than $5 million", {"amount": "5000000", "currency": "USD", "bound": "more-than"}),
        ("less than EUR 1 million", {"amount": "1000000", "currency": "EUR", "bound": "less-than"}),
        ("up to about $3 million", {"amount": "3000000", "currency": "USD", "approximate": True, "bound": "at-most"}),
        ("$5-6 million", {"amount": "5000000", "currency": "USD", "to": "6000000"}),
        ("$5–6 million", {"amount": "5000000", "currency": "USD", "to": "6000000"}),
        ("5 to 6 million euros", {"amount": "5000000", "currency": "EUR", "to": "6000000"}),
        ("between $5 million and $6 million", {"amount": "5000000", "currency": "USD", "to": "6000000"}),
        ("USD 500000 - USD 1.2 million", {"amount": "500000", "currency": "USD", "to": "1200000"}),
    ],
)
def test_read(text: str, primitive: dict[str, object]) -> None:
    assert Money.parse(text).to_primitive() == primitive


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,234 USD", "'1,234' in '1,234 USD' is ambiguous (thousands or decimals); write 1234 for thousands, 1,2340 for"
                      " decimals, or set a decimal mark (--decimal-mark point|comma, or timeline config set decimal-mark)"),
        ("$1.234 billion", "'1.234' in '$1.234 billion' is ambiguous (thousands or decimals); write 1234 for thousands,"
                           " 1.2340 for decimals, or set a decimal mark (--decimal-mark point|comma, or timeline config"
                           " set decimal-mark)"),
        ("Rs 5 crore", "'Rs' in 'Rs 5 crore' may be any of INR, LKR, MUR, PKR, SCR; write the ISO code, like INR 5 million"),
        ("5 billion CFA francs", "'CFA francs' in '5 billion CFA francs' may be any of XAF, XOF; write the ISO code,"
                                 " like XAF 5 million"),
        ("kr 100", "'kr' in 'kr 100' may be any of DKK, ISK, NOK, SEK; write the ISO code, like DKK 5 million"),
        ("5 million dollars", "'dollars' in '5 million dollars' may be any of AUD, BBD, BMD, BND, BSD, BZD, CAD, FJD and"
                              " 14 more; write the ISO code, like AUD 5 million"),
        ("8 zorkmids", "unknown currency 'zorkmids' in '8 zorkmids'; write an ISO 4217 code (USD, EUR, KES), a symbol"
                       " ($, €, KSh) or a name (yen, euros)"),
        ("up to $5-6 million", "'up to $5-6 million' is both a bound and a range; write one of them"),
        ("$6-5 million", "the top of a range (5000000) must be above its bottom (6000000)"),
        ("1,23,4 USD", "cannot read '1,23,4' in '1,23,4 USD' as a number: digits are grouped in threes, like 1,234,567"),
    ],
)  # fmt: skip
def test_refused_with_one_line_saying_what_would_be_read(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        Money.parse(text)
    assert str(info.value) == message
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("mark", "amount"), [("point", "1234"), ("comma", "1.234")])
def test_a_decimal_mark_reads_the_ambiguous_forms(mark: str, amount: str) -> None:
    with reading(Conventions(decimal_mark=mark)):
        assert Money.parse("1,234 USD").amount_text == amount
        assert Money.parse("1.234 USD").amount_text == ("1.234" if mark == "point" else "1234")
        assert Money.parse("5,5 million euros").amount_text == "5500000"  # unambiguous either way


@pytest.mark.parametrize(
    ("text", "humane"),
    [
        ("$103 million", "USD 103 million"),
        ("$104.2 million", "USD 104.2 million"),
        ("8.3bn yen", "JPY 8.3 billion"),
        ("up to 10 billion yen", "up to JPY 10 billion"),
        ("$5-6 million", "USD 5–6 million"),
        ("USD 500000 - USD 1.2 million", "USD 500,000 – USD 1.2 million"),
        ("about $200 million", "about USD 200 million"),
        ("USD 1234567", "USD 1,234,567"),
    ],
)
def test_humane(text: str, humane: str) -> None:
    assert Money.parse(text).humane() == humane


def test_amounts_stored_before_bounds_existed_read_unchanged() -> None:
    for stored in (
        {"amount": "103000000", "currency": "USD"},
        {"amount": "50000000", "currency": "USD", "approximate": True},
    ):
        money = Money.from_primitive(stored)
        assert money.to_primitive() == stored and money.exact


def test_a_historic_currency_code_still_reads() -> None:
    assert Money.parse("DEM 5 million").currency == "DEM"
    assert Money.from_primitive({"amount": "1", "currency": "SLL"}).currency == "SLL"


def test_totals_never_add_a_bound_as_if_exact() -> None:
    exact, up_to, at_least = (
        Money.parse("$5 million"),
        Money.parse("up to $10 million"),
        Money.parse("at least $2 million"),
    )
    assert Total.of("USD", [exact, up_to]).humane() == "at least USD 5 million, up to USD 15 million"
    assert Total.of("USD", [exact, at_least]).humane() == "at least USD 7 million"
    assert Total.of("USD", [up_to]).humane() == "up to USD 10 million"
    assert Total.of("USD", [exact, Money.parse("$1-2 million")]).to_primitive() == {
        "currency": "USD", "total": None, "at_least": "6000000", "up_to": "7000000", "approximate": False,
    }  # fmt: skip
    assert Total.of("USD", [exact, exact]).to_primitive()["total"] == "10000000"


# --- properties -----------------------------------------------------------------------

_codes = st.sampled_from(["USD", "EUR", "JPY", "KES", "XOF", "INR", "BRL", "KHR"])
_figures = st.decimals(min_value=0, max_value=Decimal(10) ** 15, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def amounts(draw: st.DrawFn) -> Money:
    low = draw(_figures).normalize()
    shape = draw(st.sampled_from(["exact", "bound", "range"]))
    if shape == "range":
        high = (low + draw(_figures) + Decimal(1)).normalize()
        return Money(low, draw(_codes), draw(st.booleans()), None, high)
    bound = draw(st.sampled_from(list(BOUNDS))) if shape == "bound" else None
    return Money(low, draw(_codes), draw(st.booleans()), bound)


@settings(database=None, max_examples=400, deadline=None)
@given(amounts())
def test_every_amount_round_trips_through_its_stored_and_its_readable_form(m: Money) -> None:
    assert Money.from_primitive(m.to_primitive()) == m
    with reading(Conventions(decimal_mark="point")):  # the readable form is English
        assert Money.parse(m.humane()) == m


@settings(database=None, max_examples=300, deadline=None)
@given(st.integers(1, 999), st.integers(0, 999), st.sampled_from(",."), st.sampled_from(["USD", "€", "yen"]))
def test_no_ambiguous_number_is_accepted(head: int, tail: int, mark: str, currency: str) -> None:
    text = f"{head}{mark}{tail:03d} {currency}"
    with pytest.raises(InvalidInput, match="ambiguous"):
        Money.parse(text)
    with reading(Conventions(decimal_mark="point" if mark == "." else "comma")):
        assert Money.parse(text).amount == Decimal(f"{head}.{tail:03d}")
    with reading(Conventions(decimal_mark="comma" if mark == "." else "point")):
        assert Money.parse(text).amount == Decimal(head * 1000 + tail)


@settings(database=None, max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from([*"0123456789 -–.,$€¥~", "million", "bn", "yen", "USD", "up to", "about", "Rs", "KSh", "Mio."]),
        max_size=10,
    ).map("".join)
)
def test_any_text_is_read_or_refused_in_one_line_never_crashing(text: str) -> None:
    try:
        m = Money.parse(text)
    except InvalidInput as e:
        assert "\n" not in str(e)
        return
    assert Money.from_primitive(m.to_primitive()) == m


def test_no_symbol_or_name_standing_for_several_currencies_is_accepted() -> None:
    """Checked against CLDR itself: every symbol (any locale) and English name that babel
    gives two or more current currencies is refused, unless English decides it ("$")."""
    from events import currencies

    tables = {**currencies._all_symbols(), **currencies._english_names()}
    ambiguous = {
        key: codes
        for key, codes in tables.items()
        if len(codes) > 1
        and not any(c.isdigit() for c in key)
        and key not in {currencies._key(s) for s in currencies._english_symbols()}
    }
    assert {"rs", "kr", "cfa francs", "dollars", "pounds", "won"} <= set(ambiguous)
    for key, codes in ambiguous.items():
        for text in (f"{key} 5", f"5 {key}"):
            with pytest.raises(InvalidInput) as info:
                Money.parse(text)
            message = str(info.value)
            if "may be any of" in message:  # else refused for another reason ("5 k": k is a scale)
                listed = (
                    message.split("may be any of ", 1)[1]
                    .split(";", maxsplit=1)[0]
                    .split(" and ", maxsplit=1)[0]
                    .split(", ")
                )
                assert set(listed) <= codes, (text, message)


def test_the_common_symbols_are_read_as_cldr_english_reads_them() -> None:
    """`COMMON_SYMBOLS` spares an import CLDR's English data for "$", "€", "£" and "¥"
    (and babel's list of codes for theirs): each must stand for what that data says, be a
    code babel knows, and read so in an amount."""
    from events import currencies

    for symbol, code in currencies.COMMON_SYMBOLS.items():
        assert currencies._english_symbols()[symbol] == code
        assert code in currencies._known_codes()
        assert Money.parse(f"{symbol}5 million").currency == code


@pytest.mark.slow  # two processes: each needs babel's cache empty
def test_reading_every_locales_symbols_leaves_the_english_ones_whole() -> None:
    """babel caches locale data by name alone: every locale once read unmerged through it
    left English without its inherited symbols ("US$") for the rest of the process."""
    script = "import events.currencies as c; {}print(sorted(c._english_symbols().items()))"
    runs = [
        subprocess.run([sys.executable, "-c", script.format(first)], capture_output=True, text=True, check=True).stdout
        for first in ("", "c._all_symbols(); ")
    ]
    assert runs[0] == runs[1] and "US$" in runs[0]

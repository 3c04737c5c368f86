"""Amounts of money as reported: a Decimal and an ISO 4217 currency, never a float.

"8.3bn yen", "¥8 billion", "$51.5 million", "USD 2.7M", "about $50 million" all parse.
A bare "$" is read as US dollars and "¥" as Japanese yen; write "CNY", "A$", "HK$" and
so on for others. "about"/"approximately" is kept as `approximate`, because a ledger of
reported figures must not pretend a rounded number is exact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, Inexact, InvalidOperation, localcontext
from typing import Any

from events.errors import InvalidInput

__all__ = ["Money", "ISO_4217"]

# Active ISO 4217 codes (2024).
ISO_4217 = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD
    BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB
    EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK
    JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD
    MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR
    PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP
    SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XDR
    XOF XPF YER ZAR ZMW ZWL""".split()
)

MAX_DIGITS = 30
_PLAIN = re.compile(r"^\d{1,30}(\.\d{1,30})?$")

_SYMBOLS = {
    "US$": "USD", "$": "USD", "A$": "AUD", "AU$": "AUD", "C$": "CAD", "CA$": "CAD",
    "HK$": "HKD", "S$": "SGD", "NZ$": "NZD", "¥": "JPY", "JP¥": "JPY", "CN¥": "CNY",
    "€": "EUR", "£": "GBP", "₩": "KRW", "₹": "INR", "៛": "KHR", "฿": "THB", "₫": "VND",
}  # fmt: skip
_WORDS = {
    "yen": "JPY", "dollar": "USD", "dollars": "USD", "us dollars": "USD",
    "euro": "EUR", "euros": "EUR", "pound": "GBP", "pounds": "GBP", "riel": "KHR",
    "riels": "KHR", "yuan": "CNY", "renminbi": "CNY", "won": "KRW", "baht": "THB",
    "dong": "VND", "rupee": "INR", "rupees": "INR",
}  # fmt: skip
_SCALES = {
    "k": 3, "thousand": 3, "m": 6, "mn": 6, "mln": 6, "million": 6, "b": 9, "bn": 9,
    "billion": 9, "t": 12, "tn": 12, "trillion": 12,
}  # fmt: skip
_NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve".split()
    )
}
_APPROX = re.compile(
    r"^(about|approximately|approx\.?|around|roughly|some|nearly|almost|~|≈)\s*",
    re.IGNORECASE,
)
_SYMBOL_RE = "|".join(re.escape(s) for s in sorted(_SYMBOLS, key=len, reverse=True))
_AMOUNT = re.compile(
    rf"^(?P<pre>{_SYMBOL_RE}|[A-Za-z]{{3}}(?=[\s\d]))?\s*"
    r"(?P<num>\d[\d,]*(?:\.\d+)?|\.\d+|[A-Za-z]+)\s*"
    r"(?P<scale>[A-Za-z]+\b)?\s*"
    r"(?P<post>[A-Za-z][A-Za-z ]*|[A-Z]{3})?\s*$"
)


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str
    approximate: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise InvalidInput("amount must be a Decimal")
        if not self.amount.is_finite() or self.amount < 0:
            raise InvalidInput(f"amount must be a finite, non-negative number: {self.amount}")
        if self.currency not in ISO_4217:
            raise InvalidInput(f"unknown currency {self.currency!r}")

    @property
    def amount_text(self) -> str:
        return _plain(self.amount)

    def to_primitive(self) -> dict[str, Any]:
        data: dict[str, Any] = {"amount": self.amount_text, "currency": self.currency}
        if self.approximate:
            data["approximate"] = True
        return data

    @classmethod
    def from_primitive(cls, data: dict[str, Any]) -> Money:
        if isinstance(data.get("amount"), float):
            raise InvalidInput("write the amount as text (\"2.7\"), not a JSON number: floats lose digits")
        unknown = set(data) - {"amount", "currency", "approximate"}
        if unknown:
            raise InvalidInput(f"unknown amount key {sorted(unknown)[0]!r}")
        text = data["amount"]
        if not isinstance(text, str) or not _PLAIN.match(text):
            raise InvalidInput(f"amount {text!r} is not plain digits like \"8300000000\" or \"2.7\"")
        if not isinstance(data["currency"], str) or not isinstance(data.get("approximate", False), bool):
            raise InvalidInput("currency is text and approximate is true or false")
        return cls(Decimal(text), data["currency"], bool(data.get("approximate")))

    def humane(self) -> str:
        """Readable amount: 'about JPY 8,300,000,000 (8.3 billion)'."""
        scaled = ""
        for exp, word in ((12, "trillion"), (9, "billion"), (6, "million")):
            if self.amount >= Decimal(10) ** exp:
                scaled = f" ({_plain(self.amount / Decimal(10) ** exp)} {word})"
                break
        text = f"{self.currency} {self.amount.normalize():,f}"
        return ("about " if self.approximate else "") + text + scaled

    @classmethod
    def parse(cls, text: str) -> Money:
        if isinstance(text, dict):
            try:
                return cls.from_primitive(text)
            except (KeyError, InvalidOperation, TypeError, AttributeError):
                raise InvalidInput(f"cannot read {text!r} as an amount") from None
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput("an amount is required")
        raw = text.strip()
        approximate = False
        if m := _APPROX.match(raw):
            approximate, raw = True, raw[m.end() :]
        m = _AMOUNT.match(raw)
        if not m:
            raise InvalidInput(f"cannot read {text!r} as an amount")
        pre, num, scale, post = m.group("pre"), m.group("num"), m.group("scale"), m.group("post")
        # "8.3bn yen": the regex may take "yen" as the scale when no scale is given.
        if scale and scale.lower() not in _SCALES:
            post = f"{scale} {post}".strip() if post else scale
            scale = None
        try:
            if num.lower() in _NUMBER_WORDS:
                amount = Decimal(_NUMBER_WORDS[num.lower()])
            else:
                amount = Decimal(num.replace(",", ""))
        except InvalidOperation:
            raise InvalidInput(f"cannot read {text!r} as an amount") from None
        with localcontext() as ctx:
            # Exact arithmetic: a figure too long to carry is refused, never rounded.
            ctx.prec = MAX_DIGITS + 12
            ctx.traps[Inexact] = True
            try:
                if scale:
                    amount = amount.scaleb(_SCALES[scale.lower()])
                plain = _plain(amount)
            except Inexact:
                raise InvalidInput(f"{text!r} has more than {MAX_DIGITS} digits") from None
        if len(plain.replace(".", "").lstrip("0")) > MAX_DIGITS:
            raise InvalidInput(f"{text!r} has more than {MAX_DIGITS} digits")
        currency = _currency(pre, post, text)
        return cls(Decimal(plain), currency, approximate)


def _currency(pre: str | None, post: str | None, text: str) -> str:
    found = [c for c in (_one_currency(pre), _one_currency(post)) if c]
    for token in (pre, post):
        if token and not _one_currency(token):
            raise InvalidInput(f"unknown currency {token.strip()!r} in {text!r}")
    if not found:
        raise InvalidInput(f"no currency in {text!r}")
    if len(found) == 2 and found[0] != found[1]:
        raise InvalidInput(f"two currencies in {text!r}")
    return found[0]


def _one_currency(token: str | None) -> str | None:
    if not token:
        return None
    t = token.strip()
    if t in _SYMBOLS:
        return _SYMBOLS[t]
    if t.upper() in ISO_4217 and len(t) == 3:
        return t.upper()
    return _WORDS.get(t.lower())


def _plain(d: Decimal) -> str:
    """Decimal as plain digits with no exponent and no trailing zeros."""
    return f"{d.normalize():f}"

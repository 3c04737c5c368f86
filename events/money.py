"""Amounts of money as reported: Decimals and an ISO 4217 currency, never a float.

Read: "8.3bn yen", "¥8 billion", "$51.5 million", "USD 2.7M", "5,5 Mio. €", "1.234,5 EUR",
"KSh 2 billion", "about $50 million" (approximate), "up to 10 billion yen", "at least
$5 million", "more than ...", "less than ...", "$5-6 million" (a range). Currencies come
from CLDR through babel (`events.currencies`).

Numbers as written around the world, read only when they cannot be misread:
- "," and "." both present: the last one is the decimal mark ("1,234.5", "1.234,5");
- one mark used more than once groups thousands ("1,234,567", "1.234.567", Indian
  "1,00,000"); spaces, no-break spaces and apostrophes always group ("1 234 567");
- one "," or "." once, followed by other than three digits, is the decimal mark
  ("5,5", "8.3", "51.55"), and so it is after a lone 0 ("0,125");
- one "," or "." once, followed by exactly three digits ("1,234", "1.234") is ambiguous
  (a thousand and more in English, a little over one in German): refused, unless a
  decimal mark is set (`--decimal-mark point|comma`, `events.conventions`).
In a range the scale word of the second figure serves the first when the first has none
and the second no currency before it ("$5-6 million" is 5 to 6 million dollars).

Stored as {"amount", "currency"} plus, only when they apply, "approximate": true, "bound"
("at-most", "less-than", "at-least", "more-than") and "to" (the top of a range, whose
bottom is "amount"). Amounts stored before bounds existed read unchanged.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal, Inexact, InvalidOperation, localcontext
from typing import Any

from events.conventions import current
from events.currencies import currency_of, is_currency_code
from events.errors import InvalidInput

__all__ = ["Money", "Total", "BOUNDS", "figure", "plain_digits"]

MAX_DIGITS = 30
_PLAIN = re.compile(r"^\d{1,30}(\.\d{1,30})?$")

BOUNDS = {"at-most": "up to", "less-than": "less than", "at-least": "at least", "more-than": "more than"}
_BOUND_WORDS = [
    (r"up to|as much as|at most|no more than|not more than|a maximum of|maximum of|max\.?", "at-most"),
    (r"less than|under|below|fewer than", "less-than"),
    (r"at least|no less than|not less than|a minimum of|minimum of|min\.?", "at-least"),
    (r"more than|over|above|in excess of|upwards of", "more-than"),
]
_BOUND = re.compile(
    "^(?:" + "|".join(f"(?P<{b.replace('-', '_')}>{words})" for words, b in _BOUND_WORDS) + r")\s+", re.IGNORECASE
)
_APPROX = re.compile(r"^(about|approximately|approx\.?|around|roughly|some|nearly|almost|~|≈)\s*", re.IGNORECASE)
# Scale words of English reports (as CLDR's English compact forms, and the press's
# "bn", "mn", "mln"), German "Mio."/"Mrd.", and Indian lakh and crore. "billion" is
# always 10^9: German "Billion" (10^12) is not read.
_SCALES = {
    "k": 3, "thousand": 3, "m": 6, "mn": 6, "mln": 6, "million": 6, "millions": 6, "mio": 6,
    "millionen": 6, "b": 9, "bn": 9, "billion": 9, "billions": 9, "mrd": 9, "milliarden": 9,
    "t": 12, "tn": 12, "trillion": 12, "trillions": 12, "lakh": 5, "lakhs": 5, "crore": 7, "crores": 7,
}  # fmt: skip
_SCALE_NAMES = ((12, "trillion"), (9, "billion"), (6, "million"))
_NUMBER_WORDS = {
    w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())
}
_GROUPS = "'\u00a0\u202f\u2009 "
_NUMBER = re.compile(r"\d+(?:[,.'\u00a0\u202f\u2009]\d+|\s\d{3}(?!\d))*")
_WORD_NUMBER = re.compile(rf"\b({'|'.join(_NUMBER_WORDS)})\b", re.IGNORECASE)
_RANGE = re.compile(r"\s*[-–—]\s*|\s+to\s+")
_BETWEEN = re.compile(r"^between\s+(.+?)\s+and\s+(.+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Money:
    amount: Decimal  # the figure; for a range, its bottom
    currency: str
    approximate: bool = False
    bound: str | None = None  # None (as stated), or one of BOUNDS
    to: Decimal | None = None  # the top of a range

    def __post_init__(self) -> None:
        for value in (self.amount, self.to):
            if value is None:
                continue
            if not isinstance(value, Decimal):
                raise InvalidInput("amount must be a Decimal")
            if not value.is_finite() or value < 0:
                raise InvalidInput(f"amount must be a finite, non-negative number: {value}")
        if not is_currency_code(self.currency):
            raise InvalidInput(f"unknown currency {self.currency!r}")
        if self.bound not in (None, *BOUNDS):
            raise InvalidInput(f"bound {self.bound!r} is not one of {', '.join(BOUNDS)}")
        if self.to is not None:
            if self.bound is not None:
                raise InvalidInput("a range has no bound")
            if self.to <= self.amount:
                raise InvalidInput(
                    f"the top of a range ({plain_digits(self.to)}) must be above its bottom ({plain_digits(self.amount)})"
                )

    @property
    def amount_text(self) -> str:
        return plain_digits(self.amount)

    @property
    def exact(self) -> bool:
        """A single figure, neither a bound nor a range (it may still be approximate)."""
        return self.bound is None and self.to is None

    @property
    def low(self) -> Decimal:
        """The least the amount can be."""
        return Decimal(0) if self.bound in ("at-most", "less-than") else self.amount

    @property
    def high(self) -> Decimal | None:
        """The most it can be; None when unbounded ("at least", "more than")."""
        if self.bound in ("at-least", "more-than"):
            return None
        return self.to if self.to is not None else self.amount

    def to_primitive(self) -> dict[str, Any]:
        data: dict[str, Any] = {"amount": self.amount_text, "currency": self.currency}
        if self.approximate:
            data["approximate"] = True
        if self.bound is not None:
            data["bound"] = self.bound
        if self.to is not None:
            data["to"] = plain_digits(self.to)
        return data

    @classmethod
    def from_primitive(cls, data: dict[str, Any]) -> Money:
        if isinstance(data.get("amount"), float) or isinstance(data.get("to"), float):
            raise InvalidInput('write the amount as text ("2.7"), not a JSON number: floats lose digits')
        unknown = set(data) - {"amount", "currency", "approximate", "bound", "to"}
        if unknown:
            raise InvalidInput(f"unknown amount key {sorted(unknown)[0]!r}")
        text, top = data["amount"], data.get("to")
        for value in (text, top):
            if value is not None and (not isinstance(value, str) or not _PLAIN.match(value)):
                raise InvalidInput(f'amount {value!r} is not plain digits like "8300000000" or "2.7"')
        if not isinstance(data["currency"], str) or not isinstance(data.get("approximate", False), bool):
            raise InvalidInput("currency is text and approximate is true or false")
        return cls(
            Decimal(text), data["currency"], bool(data.get("approximate")), data.get("bound"),
            Decimal(top) if top is not None else None,
        )  # fmt: skip

    def humane(self) -> str:
        """As people read it: 'USD 103 million', 'about JPY 8 billion', 'up to JPY 10 billion',
        'USD 5–6 million', 'KHR 1,000'. Reads back to the same amount."""
        if self.to is not None:
            low, high = figure(self.amount), figure(self.to)
            low_word, high_word = low.rpartition(" ")[2], high.rpartition(" ")[2]
            if low_word == high_word and low_word.isalpha():
                text = f"{self.currency} {low.rpartition(' ')[0]}–{high}"
            else:
                text = f"{self.currency} {low} – {self.currency} {high}"
        else:
            text = f"{self.currency} {figure(self.amount)}"
        if self.bound is not None:
            text = f"{BOUNDS[self.bound]} {text}"
        return ("about " if self.approximate else "") + text

    @classmethod
    def parse(cls, text: str) -> Money:
        if isinstance(text, dict):
            try:
                return cls.from_primitive(text)
            except (KeyError, InvalidOperation, TypeError, AttributeError):
                raise InvalidInput(f"cannot read {text!r} as an amount") from None
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput("an amount is required")
        return _parse_cached(text, current().decimal_mark)

    @classmethod
    def _parse(cls, text: str) -> Money:
        raw = " ".join(text.split())
        approximate, bound = False, None
        if m := _APPROX.match(raw):
            approximate, raw = True, raw[m.end() :]
        if m := _BOUND.match(raw):
            bound, raw = m.lastgroup.replace("_", "-") if m.lastgroup else None, raw[m.end() :]
        if not approximate and (m := _APPROX.match(raw)):
            approximate, raw = True, raw[m.end() :]
        between = _BETWEEN.match(raw)
        sides = [between.group(1), between.group(2)] if between else _RANGE.split(raw)
        if len(sides) > 2 or any(not s.strip() for s in sides):
            raise InvalidInput(
                f"cannot read {text!r} as an amount; write it like '$5 million', '$5-6 million' or 'up to 10 billion yen'"
            )
        if len(sides) == 2:
            if bound is not None:
                raise InvalidInput(f"{text!r} is both a bound and a range; write one of them")
            low, high = _side(sides[0], text), _side(sides[1], text)
            if low.scale is None and high.pre is None and high.scale is not None:
                low = _Side(low.pre, low.digits, high.scale, low.post)
            currency = _currency(low.currencies + high.currencies, text)
            bottom, top = low.value(text), high.value(text)
            return cls(bottom, currency, approximate, None, top)
        side = _side(raw, text)
        return cls(side.value(text), _currency(side.currencies, text), approximate, bound)


@functools.lru_cache(maxsize=4096)
def _parse_cached(text: str, decimal_mark: str | None) -> Money:
    # A story repeats its figures; values are frozen, so sharing them is safe.
    return Money._parse(text)


@dataclass(frozen=True)
class _Side:
    pre: str | None
    digits: Decimal
    scale: str | None
    post: str | None

    @property
    def currencies(self) -> list[str | None]:
        return [self.pre, self.post]

    def value(self, text: str) -> Decimal:
        with localcontext() as ctx:
            # Exact arithmetic: a figure too long to carry is refused, never rounded.
            ctx.prec = MAX_DIGITS + 12
            ctx.traps[Inexact] = True
            try:
                amount = self.digits.scaleb(_SCALES[self.scale]) if self.scale else self.digits
                plain = plain_digits(amount)
            except Inexact:
                raise InvalidInput(
                    f"{text!r} has more than {MAX_DIGITS} digits; at most {MAX_DIGITS} are kept exactly"
                ) from None
        if len(plain.replace(".", "").lstrip("0")) > MAX_DIGITS:
            raise InvalidInput(f"{text!r} has more than {MAX_DIGITS} digits; at most {MAX_DIGITS} are kept exactly")
        return Decimal(plain)


def _side(raw: str, text: str) -> _Side:
    m = _NUMBER.search(raw)
    if m:
        digits = _number(m.group(0), text)
    elif m := _WORD_NUMBER.search(raw):
        digits = Decimal(_NUMBER_WORDS[m.group(1).lower()])
    else:
        raise InvalidInput(f"no figure in {text!r}; write it like '$5 million' or '5,5 Mio. €'")
    pre = raw[: m.start()].strip() or None
    rest = raw[m.end() :].strip()
    scale = None
    if (word := re.match(r"^([^\W\d_]+)\.?(?=\s|$|[^\w\s])", rest)) and word.group(1).lower() in _SCALES:
        scale, rest = word.group(1).lower(), rest[word.end() :].strip()
    return _Side(pre, digits, scale, rest or None)


def _number(written: str, text: str) -> Decimal:
    """Digits with grouping and a decimal mark, by the rules in the module docstring."""
    spaced = any(c in _GROUPS for c in written)
    compact = "".join(c for c in written if c not in _GROUPS)
    commas, dots = compact.count(","), compact.count(".")
    decimal_mark: str | None = None
    if commas and dots:
        decimal_mark = "," if compact.rfind(",") > compact.rfind(".") else "."
    elif commas + dots == 1:
        mark = "," if commas else "."
        head, tail = compact.split(mark)
        if len(tail) != 3 or head == "0" or spaced:
            decimal_mark = mark
        elif current().decimal_mark is None:
            raise InvalidInput(
                f"{written!r} in {text!r} is ambiguous (thousands or decimals); write {head}{tail} for thousands, "
                f"{head}{mark}{tail}0 for decimals, or set a decimal mark (--decimal-mark point|comma, or timeline config set decimal-mark)"
            )
        elif mark == ("." if current().decimal_mark == "point" else ","):
            decimal_mark = mark
    if decimal_mark and compact.count(decimal_mark) > 1:
        raise InvalidInput(f"{written!r} in {text!r} has more than one decimal mark; write it like 1,234.5 or 1.234,5")
    whole, _, fraction = written.rpartition(decimal_mark) if decimal_mark else (written, "", "")
    groups = re.split(r"[,.'\u00a0\u202f\u2009 ]", whole)
    if len(groups) > 1 and not _grouped(groups):
        raise InvalidInput(
            f"cannot read {written!r} in {text!r} as a number: digits are grouped in threes, like 1,234,567"
        )
    try:
        return Decimal("".join(groups) + ("." + fraction if fraction else ""))
    except InvalidOperation:  # pragma: no cover - only digits reach here
        raise InvalidInput(f"cannot read {written!r} in {text!r} as a number") from None


def _grouped(groups: list[str]) -> bool:
    first, rest = groups[0], groups[1:]
    if 1 <= len(first) <= 3 and all(len(g) == 3 for g in rest):
        return True
    # Indian grouping: 1,00,00,000 (pairs, then the last three).
    return 1 <= len(first) <= 2 and all(len(g) == 2 for g in rest[:-1]) and len(rest[-1]) == 3


def _currency(tokens: list[str | None], text: str) -> str:
    found = {currency_of(t, text) for t in tokens if t}
    if not found:
        raise InvalidInput(f"no currency in {text!r}; write it like 'USD 5 million', '$5 million' or '5 million yen'")
    if len(found) > 1:
        raise InvalidInput(f"two currencies in {text!r}: {', '.join(sorted(found))}; write one")
    return found.pop()


def figure(d: Decimal) -> str:
    """'103 million', '8.3 billion', '1,000', '1,234,567': a scale word when it keeps
    the figure short (three decimals at most), digits in groups of three otherwise."""
    for exp, word in _SCALE_NAMES:
        if d >= Decimal(10) ** exp:
            scaled = d.scaleb(-exp).normalize()
            exponent = scaled.as_tuple().exponent
            if isinstance(exponent, int) and exponent >= -3:
                return f"{scaled:,f} {word}"
            break
    return f"{d.normalize():,f}"


@dataclass(frozen=True)
class Total:
    """A sum of amounts in one currency, as far as bounds let it be known."""

    currency: str
    low: Decimal
    high: Decimal | None  # None: no upper limit (an "at least" is in it)
    approximate: bool = False

    @classmethod
    def of(cls, currency: str, amounts: list[Money]) -> Total:
        low = sum((m.low for m in amounts), Decimal(0))
        highs = [m.high for m in amounts]
        high = None if any(h is None for h in highs) else sum((h for h in highs if h is not None), Decimal(0))
        return cls(currency, low, high, any(m.approximate for m in amounts))

    @property
    def exact(self) -> bool:
        return self.high == self.low

    def to_primitive(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "total": plain_digits(self.low) if self.exact else None,
            "at_least": plain_digits(self.low),
            "up_to": plain_digits(self.high) if self.high is not None else None,
            "approximate": self.approximate,
        }

    @classmethod
    def from_primitive(cls, data: dict[str, Any]) -> Total:
        up_to = data.get("up_to")
        return cls(data["currency"], Decimal(data["at_least"]), Decimal(up_to) if up_to is not None else None,
                   bool(data.get("approximate")))  # fmt: skip

    def humane(self) -> str:
        about = "about " if self.approximate else ""
        if self.exact:
            return f"{about}{self.currency} {figure(self.low)}"
        if self.high is None:
            return f"{about}at least {self.currency} {figure(self.low)}"
        if self.low == 0:
            return f"{about}up to {self.currency} {figure(self.high)}"
        return f"{about}at least {self.currency} {figure(self.low)}, up to {self.currency} {figure(self.high)}"


def plain_digits(d: Decimal) -> str:
    """Decimal as plain digits with no exponent and no trailing zeros."""
    return f"{d.normalize():f}" if d else "0"

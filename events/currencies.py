"""Currencies as reports name them, from CLDR through `babel`: no hand-kept tables.

A currency is read from
- its ISO 4217 code, in capitals ("USD", "KES"): any code CLDR knows, historic ones too;
- a symbol of the English locales `en` and `en_001` ("$" and "US$" US dollar, "¥" yen,
  "£" pound sterling, "€", "A$", "R$", "HK$"...): English-language reports use these, so
  they decide;
- any other symbol in any CLDR locale ("Ksh", "KSh", "Rs", "kr", "FCFA"), matched without
  regard to case or a final dot, among the currencies in use today;
- an English name or the end of one ("US dollars", "Japanese yen", "yen", "euros",
  "CFA francs"), among the currencies in use today.
A symbol or name that stands for more than one currency ("Rs", "kr", "dollars", "CFA
francs") is refused, naming the codes it could be.
"""

from __future__ import annotations

import functools
import re

from events.errors import InvalidInput

__all__ = ["currency_of", "is_currency_code"]


@functools.cache
def _known_codes() -> frozenset[str]:
    from babel.numbers import list_currencies

    return frozenset(list_currencies())


@functools.cache
def _current_codes() -> frozenset[str]:
    """Codes legal tender somewhere today (no end date in CLDR's territory data)."""
    from babel.core import get_global

    return frozenset(
        code
        for entries in get_global("territory_currencies").values()
        for code, _start, end, tender in entries
        if end is None and tender
    )


# The symbols most amounts are written with, as `_english_symbols` reads them from CLDR
# (a test holds every one to it): one of these is read without loading CLDR's English
# data, nor (for their codes) babel's list of codes:
# together about 35 ms of an import before its first amount.
COMMON_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
_COMMON_CODES = frozenset(COMMON_SYMBOLS.values())  # each of them in `_known_codes` (tested)


def is_currency_code(code: str) -> bool:
    if not (isinstance(code, str) and len(code) == 3 and code.isupper()):
        return False
    return code in _COMMON_CODES or code in _known_codes()


@functools.cache
def _english_symbols() -> dict[str, str]:
    """Symbols of English (`en`) and of World English (`en_001`: "US$", "JP¥")."""
    from babel import Locale

    found: dict[str, str] = {}
    for name in ("en_001", "en"):
        for code, symbol in Locale.parse(name).currency_symbols.items():
            if symbol != code and symbol != "¤" and code in _known_codes():
                found[symbol] = code
    return found


def _key(token: str) -> str:
    return " ".join(token.replace("\u00a0", " ").replace("\u202f", " ").split()).casefold().rstrip(".")


@functools.cache
def _all_symbols() -> dict[str, frozenset[str]]:
    """Every symbol CLDR gives a current currency in any locale (~1 s, once a process,
    and only for a symbol the English locale does not have)."""
    import pickle

    from babel import localedata

    found: dict[str, set[str]] = {}
    current = _current_codes()
    for name in localedata.locale_identifiers():
        # Each locale's own file, read as `localedata.load(name, merge_inherited=False)`
        # reads it but not through its cache: the cache is keyed by name alone, so a
        # locale loaded unmerged there stays unmerged for every later `Locale` of it
        # (English lost "US$" once this had run).
        with open(localedata.resolve_locale_filename(name), "rb") as f:
            symbols = pickle.load(f).get("currency_symbols", {})
        for code, symbol in symbols.items():
            if code in current and symbol != code:
                found.setdefault(_key(symbol), set()).add(code)
    return {k: frozenset(v) for k, v in found.items()}


@functools.cache
def _english_names() -> dict[str, frozenset[str]]:
    """English names of current currencies, singular and plural, and every ending of
    them: "Japanese yen" also answers to "yen", "West African CFA francs" to "CFA francs"."""
    from babel import Locale

    en = Locale.parse("en")
    plurals = en._data["currency_names_plural"]
    found: dict[str, set[str]] = {}
    for code in _current_codes():
        names = {en.currencies.get(code, "")}
        for form in ("one", "other"):
            names.add(plurals.get(code, {}).get(form, ""))
        for name in filter(None, names):
            words = re.sub(r"\(.*?\)", "", name).split()
            for start in range(len(words)):
                found.setdefault(_key(" ".join(words[start:])), set()).add(code)
    return {k: frozenset(v) for k, v in found.items()}


def currency_of(token: str, text: str) -> str:
    """The ISO code a written currency stands for; InvalidInput naming the candidates."""
    t = token.strip()
    if is_currency_code(t):
        return t
    if t in COMMON_SYMBOLS:
        return COMMON_SYMBOLS[t]
    if t in _english_symbols():
        return _english_symbols()[t]
    key = _key(t)
    for table in (_english_names, _all_symbols):  # the second costs ~1 s: only if needed
        codes = table().get(key)
        if codes and len(codes) == 1:
            return next(iter(codes))
        if codes:
            listed = sorted(codes)
            shown = ", ".join(listed[:8]) + (f" and {len(listed) - 8} more" if len(listed) > 8 else "")
            raise InvalidInput(
                f"{t!r} in {text!r} may be any of {shown}; write the ISO code, like {listed[0]} 5 million"
            )
    raise InvalidInput(
        f"unknown currency {t!r} in {text!r}; write an ISO 4217 code (USD, EUR, KES), a symbol ($, €, KSh) or a name (yen, euros)"
    )

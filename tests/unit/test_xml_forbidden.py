"""One rule for the characters XML 1.0 cannot carry, in the domain, used by the feeds too:
it strips exactly what lxml refuses, so stored text and everything the feeds write stay
well-formed, and nothing XML allows is lost."""

from __future__ import annotations

import pytest
from lxml import etree

from events.fields import text, xml_safe
from feeds.entries import xml_text

# Every class at its edges: C0 controls, tab/LF/CR, space, the surrogate block, the BMP's
# last characters, the astral planes.
SAMPLE = [
    *range(0x00, 0x21), 0x7F, 0x85, 0xD7FF, 0xD800, 0xDBFF, 0xDC00, 0xDFFF, 0xE000,
    0xFFFD, 0xFFFE, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF,
]  # fmt: skip


def xml_refuses(ch: str) -> bool:
    try:
        etree.Element("x").text = ch
    except ValueError:
        return True
    return False


@pytest.mark.parametrize("code", SAMPLE, ids=hex)
def test_the_rule_strips_exactly_what_xml_refuses(code: int) -> None:
    ch = chr(code)
    assert (xml_safe(f"a{ch}b") == "ab") is xml_refuses(ch)


def test_the_feeds_strip_with_the_domains_rule() -> None:
    assert xml_text is xml_safe


def test_stored_text_never_holds_them() -> None:
    assert text("a\x00b\x0bc\ud800d\ufffee\tf") == "abcde\tf"


def test_the_rule_is_the_char_production_at_every_code_point() -> None:
    """XML 1.0's `Char` (section 2.2), written out, against the rule at all 0x110000."""

    def allowed(c: int) -> bool:
        return c in (0x9, 0xA, 0xD) or 0x20 <= c <= 0xD7FF or 0xE000 <= c <= 0xFFFD or 0x10000 <= c <= 0x10FFFF

    every = "".join(map(chr, range(0x110000)))
    assert xml_safe(every) == "".join(ch for ch in every if allowed(ord(ch)))

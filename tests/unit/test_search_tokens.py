"""The fast paths of `tokens` give exactly what the general rule (`runs`) gives."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from timeline.views.search import indexed_text, runs, tokens

_ascii = st.text(alphabet=st.characters(max_codepoint=127), max_size=200)
_mixed = st.text(
    alphabet=st.sampled_from([*string.printable, "é", "ß", "Ł", "上", "川", "ア", "Ω", "\u0301", "_", "٣"])
)


@settings(max_examples=300, deadline=None)
@given(text=_ascii | _mixed | st.text(max_size=100))
def test_tokens_are_the_runs_flattened(text: str) -> None:
    assert tokens(text) == [t for group in runs(text) for t in group]


def test_ascii_tokens_by_example() -> None:
    assert tokens("Hun_Manet's $103M aid, 2024-07-06!") == ["hun", "manet", "s", "103m", "aid", "2024", "07", "06"]


@settings(max_examples=200, deadline=None)
@given(words=st.lists(st.text(alphabet="ab", min_size=1, max_size=140), max_size=8))
def test_indexed_text_leaves_out_words_no_query_may_hold(words: list[str]) -> None:
    doc = {"title": " ".join(words), "fields": {}, "actors": []}
    assert indexed_text(doc) == " ".join(t for t in tokens(" ".join(words)) if len(t) <= 100)

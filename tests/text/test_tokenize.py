"""The documented regex tokenizer."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nlpdojo.text.tokenize import split_whitespace, tokenize, tokenize_all


def test_words_numbers_punctuation() -> None:
    assert tokenize("Don't stop: state-of-the-art models cost $1,000.50 (today)!") == [
        "Don't", "stop", ":", "state-of-the-art", "models", "cost", "$", "1,000.50", "(",
        "today", ")", "!"]


def test_lowercase_and_unicode() -> None:
    assert tokenize("L'État café — NAÏVE", lower=True) == ["l'état", "café", "—", "naïve"]


def test_split_whitespace_for_pretokenized() -> None:
    assert split_whitespace(" a  ( b )\nc ") == ["a", "(", "b", ")", "c"]
    assert tokenize_all(["A b", "c"], pretokenized=True, lower=True) == [["a", "b"], ["c"]]


@given(st.text(max_size=200))
def test_tokens_cover_every_non_space_character(text: str) -> None:
    tokens = tokenize(text)
    assert "".join(tokens) == "".join(text.split())
    assert all(t and not any(c.isspace() for c in t) for t in tokens)

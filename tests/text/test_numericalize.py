"""A corpus of token lists -> one id stream with document markers."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nlpdojo.text.numericalize import encode_texts, numericalize
from nlpdojo.text.vocab import BOS, EOS, Vocab


def test_markers_between_documents() -> None:
    docs = [["a", "b"], [], ["c"]]
    v = Vocab.build(docs, specials=(BOS, EOS))
    rag = numericalize(docs, v, bos=BOS, eos=EOS)
    assert v.decode(rag.values) == [BOS, "a", "b", EOS, BOS, EOS, BOS, "c", EOS]
    assert rag.lengths.tolist() == [4, 2, 3]
    plain = numericalize(docs, v)
    assert v.decode(plain.values) == ["a", "b", "c"] and plain.lengths.tolist() == [2, 0, 1]


def test_encode_texts_tokenizes() -> None:
    v = Vocab.build([["hello", ",", "world", "!"]], specials=(EOS,))
    rag = encode_texts(["Hello, world!", "WORLD"], v, lower=True, eos=EOS)
    assert v.decode(rag.values) == ["hello", ",", "world", "!", EOS, "world", EOS]


@given(st.lists(st.lists(st.sampled_from(["x", "y", "z"]), max_size=5), max_size=6),
       st.booleans(), st.booleans())
def test_matches_python_concatenation(docs, bos: bool, eos: bool) -> None:
    v = Vocab.build(docs, specials=(BOS, EOS))
    rag = numericalize(docs, v, bos=BOS if bos else None, eos=EOS if eos else None)
    expected = [t for d in docs for t in ([BOS] * bos + d + [EOS] * eos)]
    assert v.decode(rag.values) == expected

"""Vocab: ordering, pruning, specials, vectorized encode/decode, JSON round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlpdojo.text.vocab import EOS, PAD, UNK, Vocab

CORPUS = [["b", "a", "c", "a"], ["b", "a", "d", "e", "e"]]


def test_order_is_specials_then_count_then_token() -> None:
    v = Vocab.build(CORPUS, specials=(PAD, EOS))
    assert v.itos == [UNK, PAD, EOS, "a", "b", "e", "c", "d"]
    assert v.counts.tolist() == [0, 0, 0, 3, 2, 2, 1, 1]
    assert v.unk_id == 0 and v["zzz"] == 0 and v["a"] == 3


def test_min_count_and_max_size() -> None:
    v = Vocab.build(CORPUS, min_count=2)
    assert v.itos == [UNK, "a", "b", "e"]
    assert v.counts[0] == 2  # <unk> stands for c and d
    assert Vocab.build(CORPUS, max_size=3).itos == [UNK, "a", "b"]
    with pytest.raises(ValueError, match="no room"):
        Vocab.build(CORPUS, max_size=1, specials=(PAD,))


def test_encode_decode_vectorized() -> None:
    v = Vocab.build(CORPUS)
    ids = v.encode(["a", "zzz", "e"])
    assert ids.dtype == np.int64 and ids.tolist() == [1, 0, 3]
    assert v.decode(np.array([[1, 3], [2, 0]])) == ["a", "e", "b", UNK]
    with pytest.raises(IndexError, match=r"ids must lie in \[0, 6\)"):
        v.decode([6])


def test_without_unk() -> None:
    v = Vocab.build(CORPUS, unk=None)
    assert v.itos[0] == "a"
    with pytest.raises(KeyError, match="no <unk>"):
        v.encode(["zzz"])
    with pytest.raises(KeyError):
        v["zzz"]


def test_save_load_round_trip(tmp_path: Path) -> None:
    v = Vocab.build(CORPUS + [["ünïcode"]], specials=(PAD,))
    v.save(tmp_path / "v.json")
    assert Vocab.load(tmp_path / "v.json") == v
    (tmp_path / "bad.json").write_text('{"format": "other"}')
    with pytest.raises(ValueError, match="not an nlpdojo vocabulary"):
        Vocab.load(tmp_path / "bad.json")


@given(st.lists(st.lists(st.sampled_from("abcdefgh"), max_size=8), max_size=8),
       st.integers(1, 3))
def test_round_trip_property(corpus: list[list[str]], min_count: int) -> None:
    v = Vocab.build(corpus, min_count=min_count)
    flat = [t for s in corpus for t in s]
    decoded = v.decode(v.encode(flat))
    assert decoded == [t if t in v else UNK for t in flat]
    assert sorted(v.stoi.values()) == list(range(len(v)))
    counts = v.counts[1:]
    assert np.all(counts[:-1] >= counts[1:])  # non-increasing after the specials

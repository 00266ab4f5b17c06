"""Padded, length-bucketed batches with masks."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nlpdojo.text.padding import bucket_batches, pad
from nlpdojo.text.ragged import Ragged


def test_pad_and_mask() -> None:
    rag = Ragged.from_lists([[1, 2, 3], [4], []])
    b = pad(rag, pad_id=0)
    assert b.ids.tolist() == [[1, 2, 3], [4, 0, 0], [0, 0, 0]]
    assert b.mask.tolist() == [[True] * 3, [True, False, False], [False] * 3]
    assert b.lengths.tolist() == [3, 1, 0]
    t = pad(rag, pad_id=9, index=np.array([1, 0]), max_len=2)
    assert t.ids.tolist() == [[4, 9], [1, 2]] and t.index.tolist() == [1, 0]


@settings(deadline=None)
@given(st.lists(st.lists(st.integers(1, 99), max_size=12), min_size=1, max_size=60),
       st.integers(1, 7), st.booleans())
def test_buckets_cover_each_row_once(rows, batch_size: int, shuffle: bool) -> None:
    rag = Ragged.from_lists(rows)
    batches = list(bucket_batches(rag, batch_size, pad_id=0, shuffle=shuffle, rng=3, pool=2))
    seen = np.concatenate([b.index for b in batches])
    assert sorted(seen.tolist()) == list(range(len(rows)))
    for b in batches:
        assert b.ids.shape == b.mask.shape == (len(b.index), int(b.lengths.max(initial=0)))
        for r, i in enumerate(b.index):
            assert b.ids[r][b.mask[r]].tolist() == rows[i]
            assert np.all(b.ids[r][~b.mask[r]] == 0)


def test_bucketing_reduces_padding_and_is_seeded() -> None:
    rng = np.random.default_rng(0)
    rows = [list(range(1, n + 1)) for n in rng.integers(1, 60, size=2000)]
    rag = Ragged.from_lists(rows)
    bucketed = list(bucket_batches(rag, 32, 0, rng=1))
    plain = [pad(rag, 0, index=np.arange(i, min(i + 32, 2000))) for i in range(0, 2000, 32)]
    waste = lambda bs: sum((~b.mask).sum() for b in bs)  # noqa: E731
    assert waste(bucketed) < waste(plain) / 4
    again = list(bucket_batches(rag, 32, 0, rng=1))
    assert all(np.array_equal(a.index, b.index) for a, b in zip(bucketed, again, strict=True))
    assert len(list(bucket_batches(rag, 32, 0, drop_last=True))) == 2000 // 32

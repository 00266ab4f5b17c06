"""Ragged arrays: rows, lengths, vectorized take."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlpdojo.text.ragged import Ragged

rows_st = st.lists(st.lists(st.integers(0, 50), max_size=6), max_size=8)


@settings(deadline=None)
@given(rows_st, st.data())
def test_take_matches_python(rows: list[list[int]], data: st.DataObject) -> None:
    rag = Ragged.from_lists(rows)
    assert [r.tolist() for r in rag.rows()] == rows if rows else len(rag) == 0
    idx = data.draw(st.lists(st.integers(0, max(len(rows) - 1, 0)), max_size=10)) if rows else []
    taken = rag.take(idx)
    assert [taken.row(i).tolist() for i in range(len(taken))] == [rows[i] for i in idx]
    assert rag.row_ids().tolist() == [i for i, r in enumerate(rows) for _ in r]


def test_invalid_offsets() -> None:
    with pytest.raises(ValueError, match="start at 0"):
        Ragged(np.arange(3), np.array([1, 3]))
    with pytest.raises(ValueError, match="non-decreasing"):
        Ragged(np.arange(3), np.array([0, 2, 1, 3]))

"""Context windows for window classification, not crossing sentence boundaries."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlpdojo.text.ragged import Ragged
from nlpdojo.text.windows import context_windows


def test_lecture_example() -> None:
    # "museums in Paris are amazing" + a second sentence, window 2, <s>=1 </s>=2
    rag = Ragged.from_lists([[10, 11, 12, 13, 14], [20, 21]])
    w = context_windows(rag, 2, pad_id=0, left_id=1, right_id=2)
    assert w.shape == (7, 5) and w.dtype == np.int64
    assert w[2].tolist() == [10, 11, 12, 13, 14]  # centre "Paris"
    assert w[0].tolist() == [1, 1, 10, 11, 12]
    assert w[4].tolist() == [12, 13, 14, 2, 2]
    assert w[5].tolist() == [1, 1, 20, 21, 2]  # never sees the previous sentence
    assert context_windows(rag, 0, pad_id=0)[:, 0].tolist() == rag.values.tolist()
    with pytest.raises(ValueError, match="non-negative"):
        context_windows(rag, -1, pad_id=0)


@given(st.lists(st.lists(st.integers(3, 99), max_size=6), max_size=6), st.integers(0, 3))
def test_matches_python(rows: list[list[int]], window: int) -> None:
    w = context_windows(Ragged.from_lists(rows), window, pad_id=0, left_id=1, right_id=2)
    def at(s: list[int], j: int) -> int:
        return s[j] if 0 <= j < len(s) else (1 if j < 0 else 2)

    expected = [[at(s, j) for j in range(i - window, i + window + 1)]
                for s in rows for i in range(len(s))]
    assert w.reshape(-1, 2 * window + 1).tolist() == expected

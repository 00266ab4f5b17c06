"""BPTT batching: (B, T) windows, targets shifted by one, streams contiguous."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlpdojo.text.lm_batch import batchify, bptt_batches


def test_batchify_trims_and_reshapes() -> None:
    s = batchify(np.arange(23), 4)
    assert s.shape == (4, 5) and s[1].tolist() == [5, 6, 7, 8, 9]
    with pytest.raises(ValueError, match="too few"):
        batchify(np.arange(5), 4)


def test_windows_and_targets() -> None:
    batches = bptt_batches(np.arange(20), 2, 4)  # streams 0..9 and 10..19
    windows = list(batches)
    assert len(windows) == len(batches) == 3
    x, y = windows[0]
    assert x.tolist() == [[0, 1, 2, 3], [10, 11, 12, 13]]
    assert y.tolist() == [[1, 2, 3, 4], [11, 12, 13, 14]]
    x, y = windows[-1]
    assert x.tolist() == [[8], [18]] and y.tolist() == [[9], [19]]
    assert batches.n_tokens == 18


@settings(deadline=None)
@given(st.integers(2, 300), st.integers(1, 6), st.integers(1, 9))
def test_every_next_token_predicted_once(n: int, b: int, t: int) -> None:
    if n // b < 2:
        return
    batches = bptt_batches(np.arange(n), b, t)
    xs = np.concatenate([x for x, _ in batches], axis=1)  # (B, L-1)
    ys = np.concatenate([y for _, y in batches], axis=1)
    assert np.array_equal(ys, xs + 1)  # target = the next token of the same stream
    assert xs.size == batches.n_tokens and all(x.shape[1] <= t for x, _ in batches)

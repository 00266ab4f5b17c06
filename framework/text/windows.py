"""Context windows for window-based tagging (Collobert et al. 2011; CS224n lecture 3, "window
classification": classify the centre word from the ``2w + 1`` words around it).

Every token of every sentence gets one row ``[x_{t-w}, ..., x_t, ..., x_{t+w}]``. Positions
before a sentence's start get ``left_id`` (e.g. ``<s>``), after its end ``right_id`` (e.g.
``</s>``); windows never cross sentence boundaries. One vectorized gather, no Python loop.
"""

from __future__ import annotations

import numpy as np

from nlpdojo.text.ragged import Ragged


def context_windows(sentences: Ragged, window: int, pad_id: int, *,
                    left_id: int | None = None, right_id: int | None = None) -> np.ndarray:
    """(N,) tokens in sentences -> (N, 2 * window + 1) int64 windows, centre in column ``window``.

    ``left_id``/``right_id`` default to ``pad_id``.
    """
    if window < 0:
        raise ValueError(f"window must be non-negative, got {window}")
    left = pad_id if left_id is None else left_id
    right = pad_id if right_id is None else right_id
    n = len(sentences.values)
    sent = sentences.row_ids()  # (N,)
    start = sentences.offsets[:-1][sent]  # (N,)
    stop = sentences.offsets[1:][sent]  # (N,)
    rel = np.arange(-window, window + 1, dtype=np.int64)  # (W,)
    pos = np.arange(n, dtype=np.int64)[:, None] + rel[None, :]  # (N, W)
    before = pos < start[:, None]  # (N, W)
    after = pos >= stop[:, None]  # (N, W)
    values = sentences.values if n else np.zeros(1, dtype=np.int64)
    out = values[np.clip(pos, 0, max(n - 1, 0))]  # (N, W)
    out[before] = left
    out[after] = right
    return out.astype(np.int64, copy=False)

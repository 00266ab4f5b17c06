"""Language-model batching: one token stream -> ``B`` parallel streams cut into BPTT windows.

As in Zaremba et al. 2014 and PyTorch's ``word_language_model`` example (CS224n lectures 5-6):
the corpus (N,) is trimmed to a multiple of ``B`` and reshaped to ``B`` contiguous streams
(B, L); training walks along them ``T`` steps at a time, the input ``x = s[:, t:t+T]`` and the
target the same window shifted by one, ``y = s[:, t+1:t+T+1]``. Hidden state carries over from
one window to the next (truncated backpropagation through time). Rows are contiguous text, so
batch-major (B, T) windows are views, no copies.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np


def batchify(ids: np.ndarray, batch_size: int) -> np.ndarray:
    """(N,) -> (B, N // B) streams; the ``N % B`` trailing tokens are dropped."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    ids = np.asarray(ids, dtype=np.int64)
    length = len(ids) // batch_size
    if length < 2:
        raise ValueError(f"{len(ids)} tokens are too few for {batch_size} streams of 2+ tokens")
    return ids[: length * batch_size].reshape(batch_size, length)  # (B, L)


@dataclass(frozen=True)
class BPTTBatches:
    """Iterable of ``(x, y)`` windows, each (B, T) int64 (the last one may be shorter)."""

    streams: np.ndarray  # (B, L)
    bptt: int

    def __post_init__(self) -> None:
        if self.bptt < 1:
            raise ValueError(f"bptt must be at least 1, got {self.bptt}")

    def __len__(self) -> int:
        return -(-(self.streams.shape[1] - 1) // self.bptt)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n_steps = self.streams.shape[1] - 1  # the last token is only ever a target
        for start in range(0, n_steps, self.bptt):
            stop = min(start + self.bptt, n_steps)
            yield self.streams[:, start:stop], self.streams[:, start + 1:stop + 1]  # (B, T) x2

    @property
    def n_tokens(self) -> int:
        """Number of predicted tokens per epoch: B * (L - 1)."""
        return int(self.streams.shape[0] * (self.streams.shape[1] - 1))


def bptt_batches(ids: np.ndarray, batch_size: int, bptt: int) -> BPTTBatches:
    """The (x, y) windows of a corpus: see the module docstring."""
    return BPTTBatches(batchify(ids, batch_size), bptt)

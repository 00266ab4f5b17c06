"""Padded, length-bucketed batches of sentences, with masks (for RNN and CNN sentence models).

Sorting sentences of similar length into the same batch keeps padding - wasted computation -
small (the "bucketing" of Sutskever et al. 2014 and torchtext's ``BucketIterator``). Sentences
are shuffled, grouped into pools of ``pool`` batches, sorted by length within a pool, cut into
batches, and the batches are shuffled: random order, little padding, deterministic per seed.
Padding is one vectorized gather per batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from nlpdojo.text.ragged import Ragged


@dataclass(frozen=True)
class PaddedBatch:
    """A batch of ``B`` sentences padded to the longest, ``T``."""

    ids: np.ndarray  # (B, T) int64, pad_id after each sentence's end
    mask: np.ndarray  # (B, T) bool, True on real tokens
    lengths: np.ndarray  # (B,) int64
    index: np.ndarray  # (B,) int64, which rows of the source these are


def pad(rows: Ragged, pad_id: int, *, index: np.ndarray | None = None,
        max_len: int | None = None) -> PaddedBatch:
    """Pad rows ``index`` (all by default) of ``rows`` to one (B, T) array, truncating to
    ``max_len`` when given."""
    idx = np.arange(len(rows), dtype=np.int64) if index is None else np.asarray(index, np.int64)
    lengths = rows.lengths[idx]  # (B,)
    if max_len is not None:
        lengths = np.minimum(lengths, max_len)
    width = int(lengths.max()) if len(idx) else 0
    positions = np.arange(width, dtype=np.int64)  # (T,)
    mask = positions[None, :] < lengths[:, None]  # (B, T)
    source = rows.offsets[:-1][idx][:, None] + positions[None, :]  # (B, T)
    source = np.where(mask, source, 0)
    values = rows.values if len(rows.values) else np.zeros(1, dtype=np.int64)
    ids = np.where(mask, values[source], pad_id).astype(np.int64)  # (B, T)
    return PaddedBatch(ids=ids, mask=mask, lengths=lengths, index=idx)


def bucket_batches(rows: Ragged, batch_size: int, pad_id: int, *, shuffle: bool = True,
                   rng: np.random.Generator | int | None = 0, pool: int = 50,
                   drop_last: bool = False, max_len: int | None = None,
                   ) -> Iterator[PaddedBatch]:
    """Padded batches covering every row once (see the module docstring).

    Without ``shuffle`` the rows are sorted by length overall (stable), and batches come in
    that order: best for evaluation.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    lengths = rows.lengths
    if shuffle:
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        order = gen.permutation(len(rows))
        span = batch_size * max(pool, 1)
        chunks = [c[np.argsort(lengths[c], kind="stable")]
                  for c in np.split(order, range(span, len(order), span))]
        order = np.concatenate(chunks) if chunks else order
    else:
        order = np.argsort(lengths, kind="stable")
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if drop_last and batches and len(batches[-1]) < batch_size:
        batches.pop()
    if shuffle:
        batches = [batches[i] for i in gen.permutation(len(batches))]
    for idx in batches:
        yield pad(rows, pad_id, index=idx, max_len=max_len)

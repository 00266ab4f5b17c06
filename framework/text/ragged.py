"""A ragged array: many variable-length int sequences in one flat array plus offsets.

Sentence ``i`` is ``values[offsets[i]:offsets[i + 1]]``. This is how a whole corpus is held
(one int64 array, no per-token Python objects) and what padding, bucketing and context
windows take as input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Ragged:
    """``values`` (N,) int64 cut into ``len(offsets) - 1`` rows by ``offsets`` (R + 1,) int64."""

    values: np.ndarray  # (N,)
    offsets: np.ndarray  # (R + 1,), offsets[0] == 0, offsets[-1] == N, non-decreasing

    def __post_init__(self) -> None:
        off = self.offsets
        if off.ndim != 1 or len(off) < 1 or off[0] != 0 or off[-1] != len(self.values):
            raise ValueError("offsets must start at 0 and end at len(values)")
        if np.any(np.diff(off) < 0):
            raise ValueError("offsets must be non-decreasing")

    @classmethod
    def from_lengths(cls, values: np.ndarray, lengths: np.ndarray | Sequence[int]) -> Ragged:
        """Cut ``values`` into consecutive rows of the given ``lengths``."""
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(np.asarray(lengths, dtype=np.int64), out=offsets[1:])
        return cls(np.asarray(values, dtype=np.int64), offsets)

    @classmethod
    def from_lists(cls, rows: Sequence[Sequence[int]]) -> Ragged:
        """Rows of ints -> one ragged array."""
        lengths = [len(r) for r in rows]
        flat = np.fromiter((v for r in rows for v in r), dtype=np.int64, count=sum(lengths))
        return cls.from_lengths(flat, lengths)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        """(R,) int64 length of each row."""
        return np.diff(self.offsets)

    def row(self, i: int) -> np.ndarray:
        """Row ``i`` as a view: (len_i,)."""
        return self.values[self.offsets[i]:self.offsets[i + 1]]

    def rows(self) -> list[np.ndarray]:
        """Every row as a view (for small data and tests)."""
        return np.split(self.values, self.offsets[1:-1])

    def row_ids(self) -> np.ndarray:
        """(N,) int64: which row each value belongs to."""
        return np.repeat(np.arange(len(self), dtype=np.int64), self.lengths)

    def take(self, idx: np.ndarray | Sequence[int]) -> Ragged:
        """Rows ``idx`` (in that order) as a new ragged array, gathered without a Python loop."""
        idx = np.asarray(idx, dtype=np.int64)  # (K,)
        lengths = self.lengths[idx]  # (K,)
        new = Ragged.from_lengths(np.empty(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        if len(idx) == 0:
            return new
        starts = self.offsets[:-1][idx]  # (K,)
        out_off = np.zeros(len(idx) + 1, dtype=np.int64)
        np.cumsum(lengths, out=out_off[1:])
        # position j of output row k reads values[starts[k] + j]
        within = np.arange(out_off[-1], dtype=np.int64) - np.repeat(out_off[:-1], lengths)
        source = np.repeat(starts, lengths) + within  # (sum lengths,)
        return Ragged(self.values[source], out_off)

"""Deterministic, documented splits that do not depend on NumPy's random streams.

Each item gets a key (an integer id: a review's row number, a sentence's id). The keys are
hashed with SplitMix64 (Steele et al. 2014, the seeding generator of xoshiro) together with a
salt, items are ranked by hash, and rank ``r`` goes to fold ``r % k``. So folds are as equal as
possible (sizes differ by at most one), the assignment looks random but is the same on every
machine and every NumPy version, and it is fully vectorized.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def splitmix64(keys: np.ndarray, salt: int = 0) -> np.ndarray:
    """SplitMix64 finalizer of ``keys + salt * golden``: (N,) int -> (N,) uint64."""
    with np.errstate(over="ignore"):
        z = keys.astype(np.uint64) + np.uint64(salt & 0xFFFFFFFF) * np.uint64(0x9E3779B97F4A7C15)
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return (z ^ (z >> np.uint64(31))) & _MASK


def assign_folds(keys: np.ndarray, k: int, salt: int = 0) -> np.ndarray:
    """Fold id in ``[0, k)`` for each key: (N,) -> (N,) int64, sizes within one of each other."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    order = np.argsort(splitmix64(np.asarray(keys), salt), kind="stable")  # (N,)
    folds = np.empty(len(order), dtype=np.int64)
    folds[order] = np.arange(len(order), dtype=np.int64) % k
    return folds


def named_splits(
    keys: np.ndarray, layout: Mapping[str, tuple[int, ...]], k: int = 10, salt: int = 0
) -> dict[str, np.ndarray]:
    """Split names -> boolean masks, each split a union of folds.

    ``layout={"test": (0,), "valid": (1,), "train": (2, 3, ..., 9)}`` with ``k=10`` is an
    80/10/10 split. Every fold must be used exactly once.
    """
    used = sorted(f for folds in layout.values() for f in folds)
    if used != list(range(k)):
        raise ValueError(f"layout must use each of the {k} folds once, got {layout}")
    folds = assign_folds(keys, k, salt)
    return {name: np.isin(folds, list(fs)) for name, fs in layout.items()}


#: the 80/10/10 layout used by the first-party data sets
TRAIN_VALID_TEST = {"train": (2, 3, 4, 5, 6, 7, 8, 9), "valid": (1,), "test": (0,)}

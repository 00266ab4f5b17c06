"""NumPy backend: ``array_api_compat.numpy`` as the namespace, PCG64 random streams."""

from __future__ import annotations

from typing import Any

import array_api_compat.numpy as anp
import numpy as np

from nlpdojo.backend import Array, Backend, Random, Shape


class NumpyRandom(Random):
    def __init__(self, seed: int, default_dtype: Any) -> None:
        self._gen = np.random.Generator(np.random.PCG64(seed))
        self._dtype = default_dtype

    def normal(self, shape: Shape, *, std: float = 1.0, dtype: Any = None) -> Array:
        return (self._gen.standard_normal(tuple(shape)) * std).astype(dtype or self._dtype)

    def uniform(self, shape: Shape, *, low: float = 0.0, high: float = 1.0, dtype: Any = None) -> Array:
        return self._gen.uniform(low, high, tuple(shape)).astype(dtype or self._dtype)

    def integers(self, low: int, high: int, shape: Shape) -> Array:
        return self._gen.integers(low, high, tuple(shape), dtype=np.int64)

    def permutation(self, n: int) -> Array:
        return self._gen.permutation(n).astype(np.int64)


class NumpyBackend(Backend):
    name = "numpy"
    xp = anp

    def __init__(self, device: str = "cpu", dtype: str | None = None) -> None:
        if device != "cpu":
            raise ValueError(f"the numpy backend runs on 'cpu' only, not {device!r}")
        self.device = "cpu"
        self.default_dtype = np.dtype(dtype or "float64").type

    def rng(self, seed: int) -> Random:
        return NumpyRandom(seed, self.default_dtype)

    def asarray(self, obj: Any, *, dtype: Any = None) -> Array:
        if hasattr(obj, "detach"):  # a torch tensor handed across backends
            obj = obj.detach().cpu().numpy()
        return np.asarray(obj, dtype=dtype)

    def to_numpy(self, x: Array) -> np.ndarray:
        return np.asarray(x)

    def scatter_add(self, target: Array, index: Array, values: Array) -> Array:
        # Sort once, sum each run of equal indices with reduceat, add each unique row once:
        # O(N log N + N*D), where np.add.at is an unbuffered per-element loop (~10x slower).
        index = np.asarray(index).reshape(-1)
        if index.size == 0:
            return target
        values = values.reshape(index.shape[0], *target.shape[1:])  # (N, D)
        order = np.argsort(index, kind="stable")
        sorted_index = index[order]
        starts = np.flatnonzero(np.r_[True, sorted_index[1:] != sorted_index[:-1]])
        target[sorted_index[starts]] += np.add.reduceat(values[order], starts, axis=0)
        return target

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "version": np.__version__}
